/**
 * The stand-in telemetry worker of bench/memory-account.ts: started by piscina (or by a plain
 * worker_threads Worker) with the agent's own options, it loads only the pieces of the real
 * worker (src/worker/main.ts) that the step asks for, in the order the account adds them, and
 * then idles. What each piece costs is the difference between two steps.
 */
import { parentPort, workerData as threadData } from 'node:worker_threads';
import { LOADED } from './memory-account-probe';

export const WORKER_PIECES = ['undici', 'msgpackr', 'key', 'addon'] as const;
export type WorkerPiece = (typeof WORKER_PIECES)[number];

export interface StandInData {
  pieces: WorkerPiece[];
  sinkUrl: string;
  publicKeyPem: string;
}

/** Held so that nothing loaded is collected: the real worker keeps all of it. */
const kept: unknown[] = [];

function load(data: StandInData): void {
  if (data.pieces.includes('undici')) {
    // The Transport builds the undici Pool as the worker does; no connection until a post.
    const { Transport } = require('../src/worker/transport') as typeof import('../src/worker/transport');
    kept.push(new Transport({ baseUrl: data.sinkUrl, slug: 'account', userAgent: 'account', timeoutS: 10, caPem: null, connections: 8 }));
  }
  if (data.pieces.includes('msgpackr')) kept.push(require('../src/wire/batch-codec'));
  if (data.pieces.includes('key')) {
    const { loadPublicKey } = require('../src/wire/envelope') as typeof import('../src/wire/envelope');
    kept.push(loadPublicKey(data.publicKeyPem));
  }
  if (data.pieces.includes('addon')) {
    const { activeReader } = require('../src/process/active') as typeof import('../src/process/active');
    const reader = activeReader();
    kept.push(reader, reader.readProcess(process.pid));
  }
}

// piscina hands its workerData on as the thread's own; a plain Worker has it directly.
const data = (threadData as StandInData | null) ?? { pieces: [], sinkUrl: '', publicKeyPem: '' };
load(data);
(globalThis as { [LOADED]?: boolean })[LOADED] = true;
// What keeps piscina's thread alive between tasks (its port listener), for a plain Worker too;
// the owner unrefs the Worker, so this never keeps the process alive.
parentPort?.on('message', () => {});

/** piscina wants a handler; the account runs no task. */
export default function idle(): number {
  return kept.length;
}
