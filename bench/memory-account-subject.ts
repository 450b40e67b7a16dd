/**
 * One measurement of bench/memory-account.ts: a fresh process (started with
 * `-r memory-account-probe.js`) sets up one step of the account, idles, reads its own memory and
 * the V8 heap of each thread, and prints one JSON line. The parent ends it after that.
 *
 *   node -r dist/bench/memory-account-probe.js dist/bench/memory-account-subject.js <step>
 *        --sink <loopback url> [--idle-ms N]      (TERACRON_API_KEY in the environment)
 *
 * Steps add the agent's pieces one at a time, as a process gets them: the main thread's modules
 * and config, the ring, a worker thread (plain or piscina), the worker's pieces, then the real
 * agent (what `import 'teracron/auto'` starts) idle and after its first request.
 */
import { join } from 'node:path';
import { BroadcastChannel, Worker } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROBE_CHANNEL } from './memory-account-probe';
import type { ThreadHeap } from './memory-account-probe';
import type { StandInData, WorkerPiece } from './memory-account-worker';
import { readProcMemory } from './proc-memory';

type Piece = 'main' | 'ring' | 'plain-worker' | 'piscina-worker' | WorkerPiece | 'agent' | 'agent-no-metrics' | 'request';

/** Each step and what it holds; `after` names the step it is measured against. */
export const STEPS = [
  { name: 'no agent', after: null, pieces: [] },
  { name: 'main-thread modules + config', after: 'no agent', pieces: ['main'] },
  { name: '+ ring (8 MiB SharedArrayBuffer)', after: 'main-thread modules + config', pieces: ['main', 'ring'] },
  { name: '+ plain worker_threads Worker', after: '+ ring (8 MiB SharedArrayBuffer)', pieces: ['main', 'ring', 'plain-worker'] },
  { name: '+ bare piscina worker', after: '+ ring (8 MiB SharedArrayBuffer)', pieces: ['main', 'ring', 'piscina-worker'] },
  { name: '  + undici Pool', after: '+ bare piscina worker', pieces: ['main', 'ring', 'piscina-worker', 'undici'] },
  { name: '  + msgpackr', after: '  + undici Pool', pieces: ['main', 'ring', 'piscina-worker', 'undici', 'msgpackr'] },
  { name: '  + public key', after: '  + msgpackr', pieces: ['main', 'ring', 'piscina-worker', 'undici', 'msgpackr', 'key'] },
  { name: '  + addon, one reading', after: '  + public key', pieces: ['main', 'ring', 'piscina-worker', 'undici', 'msgpackr', 'key', 'addon'] },
  { name: 'agent idle, metrics off', after: '  + addon, one reading', pieces: ['agent-no-metrics'] },
  { name: 'agent idle (teracron/auto)', after: 'agent idle, metrics off', pieces: ['agent'] },
  { name: 'agent after first request', after: 'agent idle (teracron/auto)', pieces: ['agent', 'request'] },
] as const satisfies ReadonlyArray<{ name: string; after: string | null; pieces: readonly Piece[] }>;

export type StepName = (typeof STEPS)[number]['name'];

export interface AccountReport {
  step: StepName;
  uss: number;
  rss: number;
  mainHeapUsed: number;
  mainHeapTotal: number;
  /** Of the one worker thread; 0 without one. */
  workerHeapUsed: number;
  workerHeapTotal: number;
}

const WORKER_FILE = join(__dirname, 'memory-account-worker.js');
/** The agent's own worker options (src/worker-supervisor.ts), so the stand-in costs what it does. */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 8 };
const WORKER_ENV = { ...process.env, MSGPACKR_NATIVE_ACCELERATION_DISABLED: 'true' };

/** Held to the end: what a step sets up must not be collected before memory is read. */
const kept: unknown[] = [];

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
}

/** Asks every worker thread for its heap; answers come back within a few ms. */
async function workerHeaps(waitMs = 200): Promise<ThreadHeap[]> {
  const channel = new BroadcastChannel(PROBE_CHANNEL);
  const answers: ThreadHeap[] = [];
  channel.onmessage = (message: unknown) => answers.push((message as MessageEvent).data as ThreadHeap);
  channel.postMessage('heap?');
  await sleep(waitMs);
  channel.close();
  return answers;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`gave up waiting for ${what}`);
    await sleep(20);
  }
}

async function setUp(pieces: readonly Piece[], sinkUrl: string): Promise<void> {
  const has = (piece: Piece): boolean => pieces.includes(piece);
  if (has('agent') || has('agent-no-metrics')) {
    // What `import 'teracron/auto'` does: up() from the environment, then the HTTP spans.
    const agent = require('../src/index') as typeof import('../src/index');
    const client = agent.up({ domain: sinkUrl, metricsEnabled: has('agent') });
    agent.instrumentHttp();
    kept.push(client);
    // The worker is up once its probe answers (and, with metrics, once it took its first reading).
    await until('the agent worker', async () => (await workerHeaps(50)).length > 0 && (!has('agent') || client.stats().metricsSampled > 0));
    if (has('request')) {
      agent.trace('account', () => 1)();
      await client.flush();
      if (client.stats().sent < 1) throw new Error(`the first request did not deliver: ${JSON.stringify(client.stats())}`);
    }
    return;
  }
  if (!has('main')) return;
  const index = require('../src/index') as typeof import('../src/index');
  kept.push(require('../src/http/instrument'), require('../src/worker-supervisor'));
  const client = new index.TeracronClient({ domain: sinkUrl });
  kept.push(client);
  if (has('ring')) {
    // What client.start() does before it starts the worker.
    const { createRingBuffer, ringViews } = require('../src/ring/layout') as typeof import('../src/ring/layout');
    const { createRecorder } = require('../src/recorder/recorder') as typeof import('../src/recorder/recorder');
    const sab = createRingBuffer(client.config.ringBytes);
    kept.push(ringViews(sab), createRecorder(sab));
  }
  const data: StandInData = {
    pieces: pieces.filter((p): p is WorkerPiece => ['undici', 'msgpackr', 'key', 'addon'].includes(p)),
    sinkUrl,
    publicKeyPem: client.config.publicKeyPem,
  };
  if (has('plain-worker')) {
    const worker = new Worker(WORKER_FILE, { workerData: data, resourceLimits: WORKER_LIMITS, env: WORKER_ENV });
    worker.unref();
    kept.push(worker);
  }
  if (has('piscina-worker')) {
    const { Piscina } = require('piscina') as typeof import('piscina');
    kept.push(
      new Piscina({
        filename: WORKER_FILE,
        minThreads: 1,
        maxThreads: 1,
        idleTimeout: Number.POSITIVE_INFINITY,
        atomics: 'disabled',
        workerData: data,
        resourceLimits: WORKER_LIMITS,
        env: WORKER_ENV,
      }),
    );
  }
  if (has('plain-worker') || has('piscina-worker')) await until('the stand-in worker', async () => (await workerHeaps(50)).some((h) => h.loaded));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const step = STEPS.find((s) => s.name === args[0]);
  const sink = option(args, '--sink');
  if (step === undefined || sink === undefined) throw new Error(`usage: memory-account-subject <step> --sink <url> [--idle-ms N]; steps: ${STEPS.map((s) => JSON.stringify(s.name)).join(', ')}`);
  await setUp(step.pieces, sink);
  await sleep(Number(option(args, '--idle-ms') ?? 1000));
  // /proc first: asking the workers allocates a little.
  const proc = readProcMemory();
  const main = getHeapStatistics();
  const workers = await workerHeaps();
  const report: AccountReport = {
    step: step.name,
    uss: proc.uss,
    rss: proc.rss,
    mainHeapUsed: main.used_heap_size,
    mainHeapTotal: main.total_heap_size,
    workerHeapUsed: workers.reduce((sum, w) => sum + w.heapUsed, 0),
    workerHeapTotal: workers.reduce((sum, w) => sum + w.heapTotal, 0),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  if (kept.length < 0) process.stdout.write('(unreachable: keeps what was set up alive)\n');
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`memory-account-subject: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
