/**
 * Main-thread cost of one `log.info(message, { module, extra })` with 4 extra keys, against
 * pino's `logger.info(extra, message)` writing the same fields to a file (pino.destination with
 * sync: false and minLength 4096, its fastest file setup), and against an empty function taking
 * the same arguments: same process, interleaved chunks, repeated.
 *
 * The agent ships to a loopback sink that answers 202 without decrypting, so the ring drains;
 * each chunk fits in the ring and both the agent and pino are flushed between chunks, untimed,
 * so neither is measured on a path that drops or blocks. What each costs off the main thread
 * (the agent's worker encoding and sending; sonic-boom's writes) is not in these figures.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { log } from '../src/logs/log';
import { clientWithSink } from './sink';
import { summaryRows } from './harness';
import type { Bench, BenchContext, BenchRow } from './harness';
import { formatRow, machine, summarize } from './stats';

const requirePeer = createRequire(join(__dirname, '..', '..', 'bench', 'package.json'));

interface PinoLogger {
  info(fields: object, message: string): void;
  flush(callback?: (err?: Error) => void): void;
}
interface Pino {
  (options: object, destination: unknown): PinoLogger;
  destination(options: object): { end(): void; flushSync(): void };
}

const CHUNK = 20_000;
const CHUNKS_PER_REP = { smoke: 2, quick: 10, full: 10 } as const;
const WARMUP_CHUNKS = { smoke: 1, quick: 5, full: 5 } as const;

interface Extra {
  order: number;
  user: string;
  total: number;
  paid: boolean;
}

let sink = 0;
function emptyFunction(message: string, extra: Extra): void {
  sink += message.length + extra.order;
}

function timeChunk(call: (message: string, extra: Extra) => void): number {
  const start = performance.now();
  for (let i = 0; i < CHUNK; i++) call('order placed', { order: i, user: 'ada', total: 9.5, paid: true });
  return ((performance.now() - start) * 1e6) / CHUNK;
}

async function run({ mode, reps: REPS }: BenchContext): Promise<BenchRow[]> {
  const chunks = CHUNKS_PER_REP[mode];
  const pino = requirePeer('pino') as Pino;
  const dir = mkdtempSync(join(tmpdir(), 'teracron-log-cost-'));
  const file = join(dir, 'pino.log');
  const destination = pino.destination({ dest: file, sync: false, minLength: 4096 });
  const logger = pino({ base: undefined }, destination);
  const flushPino = (): Promise<void> => new Promise((resolve) => logger.flush(() => resolve()));

  const endpoint = await clientWithSink();
  const client = endpoint.client;
  const teracronInfo = (message: string, extra: Extra): void => {
    log.info(message, { module: 'orders', extra });
  };
  const pinoInfo = (message: string, extra: Extra): void => {
    logger.info(extra, message);
  };

  for (let i = 0; i < WARMUP_CHUNKS[mode]; i++) {
    timeChunk(emptyFunction);
    timeChunk(teracronInfo);
    timeChunk(pinoInfo);
    await client.flush();
    await flushPino();
  }

  const baseline: number[] = [];
  const teracron: number[] = [];
  const pinoCost: number[] = [];
  const teracronOver: number[] = [];
  const pinoOver: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    let base = 0;
    let ours = 0;
    let theirs = 0;
    for (let c = 0; c < chunks; c++) {
      base += timeChunk(emptyFunction);
      ours += timeChunk(teracronInfo);
      await client.flush();
      theirs += timeChunk(pinoInfo);
      await flushPino();
    }
    baseline.push(base / chunks);
    teracron.push(ours / chunks);
    pinoCost.push(theirs / chunks);
    teracronOver.push((ours - base) / chunks);
    pinoOver.push((theirs - base) / chunks);
  }
  await endpoint.close();
  destination.flushSync();
  destination.end();
  const pinoBytes = statSync(file).size;
  rmSync(dir, { recursive: true, force: true });

  const stats = client.stats();
  if (stats.droppedRingFull > 0) throw new Error(`${stats.droppedRingFull} logs hit a full ring: the figures would be for the drop path`);
  const median = (values: number[]): number => summarize(values).median;
  console.log(`log-cost: ${machine()}; ${REPS} reps × ${chunks} chunks × ${CHUNK} calls, interleaved; 4 extra keys`);
  console.log(`${''.padEnd(44)}${'min'.padStart(10)}${'median'.padStart(10)}${'max'.padStart(10)}`);
  console.log(formatRow('empty function', summarize(baseline), 'ns/call'));
  console.log(formatRow('teracron log.info(msg, { module, extra })', summarize(teracron), 'ns/call'));
  console.log(formatRow('pino logger.info(extra, msg) to a file', summarize(pinoCost), 'ns/call'));
  console.log(formatRow('teracron minus empty function', summarize(teracronOver), 'ns/call'));
  console.log(formatRow('pino minus empty function', summarize(pinoOver), 'ns/call'));
  console.log(`teracron costs ${(median(teracronOver) / median(pinoOver)).toFixed(2)}× pino's main-thread time; delivered ${stats.sent} of ${stats.produced} logs; pino wrote ${pinoBytes} bytes`);
  if (Number.isNaN(sink)) console.log('(unreachable: keeps the benchmarked results alive)');
  return [
    ...summaryRows('log-cost', 'baseline', 'call_ns', 'ns', summarize(baseline)),
    ...summaryRows('log-cost', 'teracron', 'log_info_ns', 'ns', summarize(teracron)),
    ...summaryRows('log-cost', 'pino', 'log_info_ns', 'ns', summarize(pinoCost)),
    ...summaryRows('log-cost', 'teracron', 'log_info_overhead_ns', 'ns', summarize(teracronOver)),
    ...summaryRows('log-cost', 'pino', 'log_info_overhead_ns', 'ns', summarize(pinoOver)),
  ];
}

export const logCost: Bench = {
  name: 'log-cost',
  description: 'main-thread cost of one log.info with 4 extra keys against pino logger.info to a file',
  run,
};

if (require.main === module) void run({ mode: 'quick', reps: Number(process.env.REPS ?? '5') });
