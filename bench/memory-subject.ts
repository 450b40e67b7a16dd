/**
 * One measurement of bench/memory.ts, in a process of its own so that nothing of another system
 * (or of the parent) is resident: sets one system up, idles or runs span load, then reads its
 * own memory and prints it as one JSON line on stdout. The parent ends the process after that.
 *
 *   node dist/bench/memory-subject.js <baseline|teracron|opentelemetry> <idle|load>
 *        [--sink <loopback url>] [--idle-ms N] [--load-ms N] [--tick-ms N] [--per-tick N]
 *
 * teracron reads its key from TERACRON_API_KEY and ships to --sink (which answers 202).
 * Only the chosen system's modules are loaded.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { readProcMemory } from './proc-memory';

export const SYSTEMS = ['baseline', 'teracron', 'opentelemetry'] as const;
export type System = (typeof SYSTEMS)[number];
export type Phase = 'idle' | 'load';

export interface SubjectReport {
  system: System;
  phase: Phase;
  rss: number;
  peakRss: number;
  uss: number;
  pss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** Under load: calls made, over how long, and how much of that the calls themselves took. */
  calls: number;
  elapsedMs: number;
  busyMs: number;
  /** Spans the system had delivered (teracron: 202 from the sink; opentelemetry: handed to the exporter) when memory was read. */
  delivered: number;
  /** teracron: dropped because the ring was full. */
  dropped: number;
}

interface Subject {
  call(i: number): number;
  delivered(): number;
  dropped(): number;
}

function work(x: number): number {
  return x + 1;
}

function baseline(): Subject {
  return { call: work, delivered: () => 0, dropped: () => 0 };
}

function teracron(sink: string): Subject {
  // Loaded here, not at the top, so that the other systems' processes never load it.
  const agent = require('../src/index') as typeof import('../src/index');
  const client = agent.up({ domain: sink });
  const traced = agent.trace('bench', work);
  return {
    call: traced,
    delivered: () => client.stats().sent,
    dropped: () => client.stats().droppedRingFull,
  };
}

interface OtelSpan {
  end(): void;
}
interface OtelTracer {
  startActiveSpan<T>(name: string, fn: (span: OtelSpan) => T): T;
}

function opentelemetry(perTick: number): Subject {
  const requirePeer = createRequire(join(__dirname, '..', '..', 'bench', 'package.json'));
  const node = requirePeer('@opentelemetry/sdk-trace-node') as {
    NodeTracerProvider: new (config: unknown) => { register(): void; getTracer(name: string): OtelTracer };
  };
  const base = requirePeer('@opentelemetry/sdk-trace-base') as { BatchSpanProcessor: new (exporter: unknown, config: unknown) => unknown };
  let exported = 0;
  const discard = {
    export: (spans: unknown[], done: (result: { code: number }) => void) => {
      exported += spans.length;
      done({ code: 0 });
    },
    shutdown: async () => {},
  };
  // A queue that holds two ticks' burst, as bench/span-cost.ts does, so that the load is measured
  // on the recording path and not on the drop path (the default queue of 2,048 would drop most).
  const processor = new base.BatchSpanProcessor(discard, { maxQueueSize: perTick * 2, maxExportBatchSize: 512 });
  const provider = new node.NodeTracerProvider({ spanProcessors: [processor] });
  provider.register();
  const tracer = provider.getTracer('bench');
  const end = (span: OtelSpan, i: number): number => {
    const result = work(i);
    span.end();
    return result;
  };
  return {
    call: (i) => tracer.startActiveSpan('work', (span) => end(span, i)),
    delivered: () => exported,
    // The processor keeps its drop count private (and resets it when it logs a warning); with a
    // queue of two bursts nothing is dropped unless exports fall a whole tick behind, which
    // `delivered` against `calls` shows.
    dropped: () => 0,
  };
}

function option(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} needs a non-negative number, got ${args[at + 1]}`);
  return value;
}

let resultSink = 0;

/** `perTick` calls every `tickMs`, on a fixed schedule: a tick that runs late is not made up for. */
async function runLoad(subject: Subject, loadMs: number, tickMs: number, perTick: number): Promise<{ calls: number; elapsedMs: number; busyMs: number }> {
  const start = performance.now();
  let calls = 0;
  let busyMs = 0;
  let ticks = 0;
  while (performance.now() - start < loadMs) {
    const tickStart = performance.now();
    for (let k = 0; k < perTick; k++) resultSink += subject.call(calls++);
    busyMs += performance.now() - tickStart;
    ticks++;
    const wait = start + ticks * tickMs - performance.now();
    if (wait > 0) await sleep(wait);
    else await yieldToLoop();
  }
  return { calls, elapsedMs: performance.now() - start, busyMs };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const system = args[0] as System;
  const phase = args[1] as Phase;
  if (!SYSTEMS.includes(system) || (phase !== 'idle' && phase !== 'load')) {
    throw new Error(`usage: memory-subject <${SYSTEMS.join('|')}> <idle|load> [--sink url] [--idle-ms N] [--load-ms N] [--tick-ms N] [--per-tick N]`);
  }
  const perTick = option(args, '--per-tick', 20_000);
  const sinkAt = args.indexOf('--sink');
  if (system === 'teracron' && sinkAt < 0) throw new Error('teracron needs --sink <loopback url>');
  const subject = system === 'baseline' ? baseline() : system === 'teracron' ? teracron(args[sinkAt + 1]!) : opentelemetry(perTick);

  let load = { calls: 0, elapsedMs: 0, busyMs: 0 };
  if (phase === 'idle') await sleep(option(args, '--idle-ms', 1000));
  else load = await runLoad(subject, option(args, '--load-ms', 3000), option(args, '--tick-ms', 100), perTick);

  const proc = readProcMemory();
  const heap = process.memoryUsage();
  const report: SubjectReport = {
    system,
    phase,
    rss: proc.rss,
    peakRss: proc.peakRss,
    uss: proc.uss,
    pss: proc.pss,
    heapTotal: heap.heapTotal,
    heapUsed: heap.heapUsed,
    external: heap.external,
    arrayBuffers: heap.arrayBuffers,
    ...load,
    delivered: subject.delivered(),
    dropped: subject.dropped(),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  if (Number.isNaN(resultSink)) process.stdout.write('(unreachable: keeps results alive)\n');
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`memory-subject: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
