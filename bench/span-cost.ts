/**
 * Main-thread cost of a traced call: the bare function, teracron (trace sync and async,
 * withSpan, 4 metadata keys, a call inside an unsampled trace, an unsampled root) and
 * OpenTelemetry JS (startActiveSpan + end, batch span processor into an exporter that
 * discards), in one process, interleaved chunk by chunk, repeated.
 *
 * Both agents export between chunks, untimed: teracron's worker ships to a loopback sink that
 * answers 202, OpenTelemetry's processor is force-flushed. Each chunk fits in teracron's ring
 * and in OpenTelemetry's queue, so neither is measured on its drop path.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { trace, withSpan } from '../src/index';
import { newIdWords } from '../src/recorder/ids';
import { TraceScope, storage } from '../src/tracing/context';
import { tracer } from '../src/tracing/tracer';
import { makeIdSampler } from '../src/tracing/id-sampler';
import { clientWithSink } from './sink';
import { summaryRows } from './harness';
import type { Bench, BenchContext, BenchRow } from './harness';
import { formatRow, machine, summarize } from './stats';

const SYNC_CHUNK = 10_000;
const ASYNC_CHUNK = 5_000;

/** The peer, loaded from bench/node_modules (`npm ci --prefix bench`), typed as far as used here. */
interface OtelSpan {
  end(): void;
  setAttributes(attributes: Record<string, unknown>): void;
}
interface OtelTracer {
  startActiveSpan<T>(name: string, fn: (span: OtelSpan) => T): T;
}
interface OtelProvider {
  register(): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
  getTracer(name: string): OtelTracer;
}

function loadOpenTelemetry(): { provider: OtelProvider; otel: OtelTracer } {
  const requirePeer = createRequire(join(__dirname, '..', '..', 'bench', 'package.json'));
  let node: { NodeTracerProvider: new (config: unknown) => OtelProvider };
  let base: { BatchSpanProcessor: new (exporter: unknown, config: unknown) => unknown };
  try {
    node = requirePeer('@opentelemetry/sdk-trace-node') as typeof node;
    base = requirePeer('@opentelemetry/sdk-trace-base') as typeof base;
  } catch (err) {
    throw new Error(`OpenTelemetry is not installed for the benchmarks: run \`npm ci --prefix bench\` (or \`npm run bench\`, which does). ${(err as Error).message}`);
  }
  const discard = { export: (_spans: unknown, done: (result: { code: number }) => void) => done({ code: 0 }), shutdown: async () => {} };
  const processor = new base.BatchSpanProcessor(discard, { maxQueueSize: SYNC_CHUNK * 2, maxExportBatchSize: 512, scheduledDelayMillis: 1000 });
  const provider = new node.NodeTracerProvider({ spanProcessors: [processor] });
  provider.register();
  return { provider, otel: provider.getTracer('bench') };
}

let sink = 0;
function work(x: number): number {
  return x + 1;
}
async function workAsync(x: number): Promise<number> {
  return x + 1;
}

function timeSync(call: (i: number) => unknown): number {
  const start = performance.now();
  for (let i = 0; i < SYNC_CHUNK; i++) sink += call(i) as number;
  return ((performance.now() - start) * 1e6) / SYNC_CHUNK;
}

async function timeAsync(call: (i: number) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < ASYNC_CHUNK; i++) sink += (await call(i)) as number;
  return ((performance.now() - start) * 1e6) / ASYNC_CHUNK;
}

/** Rounds run and thrown away before any is kept, while the JIT optimises both agents' paths. */
const WARMUP_ROUNDS = { smoke: 1, quick: 2, full: 2 } as const;

async function run({ mode, reps: REPS }: BenchContext): Promise<BenchRow[]> {
  const endpoint = await clientWithSink();
  const client = endpoint.client;
  const { provider, otel } = loadOpenTelemetry();

  const tracedWork = trace('bench', work);
  const tracedAsync = trace('bench', workAsync);
  const sampleAll = { sampleAll: tracer.sampleAll, sample: tracer.sample };
  const neverSample = makeIdSampler(0);

  const sync: Record<string, (i: number) => unknown> = {
    'bare call': work,
    'teracron trace() sync': tracedWork,
    'teracron withSpan() sync': (i) => withSpan('bench', { operation: 'block' }, () => work(i)),
    'teracron trace() + 4 metadata keys': (i) => withSpan('bench', { operation: 'meta' }, (span) => {
      span.setMetadata({ route: '/orders', method: 'GET', status: 200, cached: false });
      return work(i);
    }),
    'opentelemetry startActiveSpan sync': (i) =>
      otel.startActiveSpan('work', (span) => {
        const result = work(i);
        span.end();
        return result;
      }),
    'opentelemetry + 4 attributes': (i) =>
      otel.startActiveSpan('work', (span) => {
        span.setAttributes({ route: '/orders', method: 'GET', status: 200, cached: false });
        const result = work(i);
        span.end();
        return result;
      }),
  };
  const async: Record<string, (i: number) => Promise<unknown>> = {
    'bare async call': workAsync,
    'teracron trace() async': tracedAsync,
    'opentelemetry startActiveSpan async': (i) =>
      otel.startActiveSpan('work', async (span) => {
        const result = await workAsync(i);
        span.end();
        return result;
      }),
  };

  const results = new Map<string, number[]>();
  const push = (name: string, value: number): void => {
    results.set(name, [...(results.get(name) ?? []), value]);
  };
  const between = async (): Promise<void> => {
    await client.flush();
    await provider.forceFlush();
  };

  for (let rep = -WARMUP_ROUNDS[mode]; rep < REPS; rep++) {
    const keep = rep >= 0;
    for (const [name, call] of Object.entries(sync)) {
      const ns = timeSync(call);
      if (keep) push(name, ns);
      await between();
    }
    // Inside a trace that sampling left out: the common unsampled case, every span of it.
    let ns = storage.run(new TraceScope(newIdWords(), null, false), () => timeSync(tracedWork));
    if (keep) push('teracron call inside an unsampled trace', ns);
    // A root that sampling leaves out (rate 0 here).
    tracer.sampleAll = false;
    tracer.sample = neverSample;
    ns = timeSync(tracedWork);
    tracer.sampleAll = sampleAll.sampleAll;
    tracer.sample = sampleAll.sample;
    if (keep) push('teracron unsampled root', ns);
    for (const [name, call] of Object.entries(async)) {
      const value = await timeAsync(call);
      if (keep) push(name, value);
      await between();
    }
  }
  await endpoint.close();
  await provider.shutdown();

  const median = (name: string): number => summarize(results.get(name)!).median;
  console.log(`span-cost: ${machine()}; ${REPS} reps, ${SYNC_CHUNK} sync / ${ASYNC_CHUNK} async calls per chunk, interleaved`);
  console.log(`${''.padEnd(44)}${'min'.padStart(10)}${'median'.padStart(10)}${'max'.padStart(10)}`);
  for (const [name, values] of results) console.log(formatRow(name, summarize(values), 'ns/call'));
  const bare = median('bare call');
  const bareAsync = median('bare async call');
  const overhead = (name: string, base: number): string => (median(name) - base).toFixed(1);
  console.log('');
  console.log(`over the bare call (medians): trace() sync ${overhead('teracron trace() sync', bare)} ns, withSpan ${overhead('teracron withSpan() sync', bare)} ns, 4 metadata keys ${overhead('teracron trace() + 4 metadata keys', bare)} ns, unsampled trace ${overhead('teracron call inside an unsampled trace', bare)} ns, unsampled root ${overhead('teracron unsampled root', bare)} ns, opentelemetry ${overhead('opentelemetry startActiveSpan sync', bare)} ns`);
  console.log(`over the bare async call: trace() async ${overhead('teracron trace() async', bareAsync)} ns, opentelemetry ${overhead('opentelemetry startActiveSpan async', bareAsync)} ns`);
  const ratio = (ours: string, theirs: string, base: number): string => ((median(theirs) - base) / (median(ours) - base)).toFixed(1);
  console.log(`opentelemetry / teracron overhead: sync ${ratio('teracron trace() sync', 'opentelemetry startActiveSpan sync', bare)}×, 4 keys ${ratio('teracron trace() + 4 metadata keys', 'opentelemetry + 4 attributes', bare)}×, async ${ratio('teracron trace() async', 'opentelemetry startActiveSpan async', bareAsync)}×`);
  const stats = client.stats();
  console.log(`teracron delivered ${stats.sent} of ${stats.produced} spans, ${stats.droppedRingFull} dropped (ring full)`);
  if (stats.droppedRingFull > 0) throw new Error('spans hit a full ring: the figures would be for the drop path');
  if (Number.isNaN(sink)) console.log('(unreachable: keeps results alive)');

  const rows: BenchRow[] = [];
  for (const [name, values] of results) {
    const system = name.startsWith('bare') ? 'baseline' : name.startsWith('opentelemetry') ? 'opentelemetry' : 'teracron';
    rows.push(...summaryRows('span-cost', system, `${ROW_METRICS[name] ?? name}_ns_per_call`, 'ns', summarize(values)));
  }
  rows.push({ bench: 'span-cost', system: 'teracron', metric: 'opentelemetry_over_teracron_sync', value: Number(ratio('teracron trace() sync', 'opentelemetry startActiveSpan sync', bare)), unit: 'x' });
  rows.push({ bench: 'span-cost', system: 'teracron', metric: 'opentelemetry_over_teracron_async', value: Number(ratio('teracron trace() async', 'opentelemetry startActiveSpan async', bareAsync)), unit: 'x' });
  return rows;
}

/** Row metric names for the --json output, one per measured call. */
const ROW_METRICS: Record<string, string> = {
  'bare call': 'sync_call',
  'teracron trace() sync': 'trace_sync',
  'teracron withSpan() sync': 'with_span_sync',
  'teracron trace() + 4 metadata keys': 'four_metadata_keys',
  'opentelemetry startActiveSpan sync': 'trace_sync',
  'opentelemetry + 4 attributes': 'four_metadata_keys',
  'teracron call inside an unsampled trace': 'unsampled_in_trace',
  'teracron unsampled root': 'unsampled_root',
  'bare async call': 'async_call',
  'teracron trace() async': 'trace_async',
  'opentelemetry startActiveSpan async': 'trace_async',
};

export const spanCost: Bench = {
  name: 'span-cost',
  description: 'main-thread cost of a traced call: bare, teracron, OpenTelemetry JS',
  run,
};

if (require.main === module) void run({ mode: 'quick', reps: Number(process.env.REPS ?? '9') });
