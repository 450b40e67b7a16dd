/**
 * The shipping path end to end: spans recorded in one process, counted where they arrive.
 *
 *   producer process (bench/pipeline-producer.ts)         receiver process
 *   ┌──────────────────────────────────────────┐   HTTP   ┌────────────────────────────────────┐
 *   │ recordSpan ─▶ ring ─▶ worker: batch,      │ ───────▶ │ counting sink: open, decode, count │
 *   │ msgpack, seal, POST        (teracron)     │ loopback │   (bench/counting-sink.ts)         │
 *   │ startSpan/end ─▶ BatchSpanProcessor ─▶    │          │ or the real collector: open,       │
 *   │ OTLP/HTTP JSON exporter (opentelemetry)   │          │   validate, store in SQLite        │
 *   └──────────────────────────────────────────┘          └────────────────────────────────────┘
 *
 * Three questions, each system in fresh producer processes, interleaved and repeated:
 *   delivered spans/s  spans counted at the receiver ÷ (last arrival − first record), with the
 *                      producer recording as fast as the pipeline takes them (never more than
 *                      WINDOW spans recorded and not yet delivered, so neither agent drops)
 *   drop %             spans offered at 100,000 spans/s (1 ms ticks) and not delivered
 *   max rate, 0 drops  a ladder of offered rates (100k, 200k, 300k, 400k, 600k… spans/s), a few
 *                      seconds each, up to the first that drops
 * CPU is per process, all threads: the producer's covers its main thread, the agent's worker and
 * V8's helper threads (garbage collection, compilation); the receiver's is the sink or collector.
 *
 * The counting sink opens what the agent sends with the bench project's private key (its path
 * given on the sink's command line); the producers get the project's API key in their config.
 *
 * PIPELINE_CPU_PROF=<dir> runs producers and sinks with --cpu-prof into that directory.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Bench, BenchContext, BenchRow } from './harness';
import { summaryRows } from './harness';
import { SinkProcess } from './sink-process';
import { describeTally, describeUnreadable } from './ingest-reader';
import type { ProducerConfig, ProducerResult } from './pipeline-producer';
import { benchProject, collectorDataDir } from './project';
import { formatRow, machine, summarize } from './stats';
import { queryCollector, startCollectorProcess } from '../support/collector-process';
import type { CollectorProcess } from '../support/collector-process';

type System = 'teracron' | 'teracron+collector' | 'opentelemetry';

/** Spans recorded and not yet delivered, at most, in the as-fast-as-it-takes runs (below both queues). */
const WINDOW = 65_536;
const OTEL_MAX_QUEUE_SIZE = 100_000;
const DROP_RATE = 100_000;
/** The collector's drop run offers what issue 15 asks it to take without drops. */
const COLLECTOR_DROP_RATE = 50_000;
const LADDER = [100_000, 200_000, 300_000, 400_000, 600_000, 800_000, 1_000_000];
const LADDER_FALLBACK = 50_000;
const PRODUCER_TIMEOUT_MS = 120_000;
/** USER_HZ: the unit of /proc/<pid>/stat times on every Linux this runs on. */
const CLOCK_TICKS_PER_S = 100;
/** Span records (80 bytes) the default 8 MiB ring holds. */
const RING_SPANS = (8 * 1024 * 1024) / 80;

interface Plan {
  reps: number;
  /** Spans of the discarded first run into each sink; 0 for none. */
  warmupSpans: number;
  /** Offered rates of the ladder, climbed until one drops. */
  ladder: readonly number[];
  /** Spans per delivered-rate run (the same for every system). */
  maxSpans: number;
  /** Seconds per run at DROP_RATE and per ladder step. */
  dropSeconds: number;
  stepSeconds: number;
  /** Spans per collector run, which stores far fewer per second than the sinks count. */
  collectorSpans: number;
  collectorReps: number;
  /**
   * Seconds of the collector's drop run: long enough that the ring (RING_SPANS) cannot hide a
   * collector slower than COLLECTOR_DROP_RATE.
   */
  collectorDropSeconds: number;
}

function plan(context: BenchContext): Plan {
  const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
  switch (context.mode) {
    case 'smoke':
      // Every kind of run once, with a few thousand spans: proves the path works, measures nothing.
      return { reps: 1, warmupSpans: 0, ladder: LADDER.slice(0, 1), maxSpans: 5_000, dropSeconds: 0.2, stepSeconds: 0.2, collectorSpans: 2_000, collectorReps: 1, collectorDropSeconds: 0.2 };
    case 'quick':
      return { reps: context.reps, warmupSpans: 20_000, ladder: LADDER, maxSpans: env('SPANS', 200_000), dropSeconds: env('DROP_S', 2), stepSeconds: env('STEP_S', 2), collectorSpans: env('COLLECTOR_SPANS', 50_000), collectorReps: Math.min(context.reps, 3), collectorDropSeconds: env('COLLECTOR_DROP_S', 6) };
    case 'full':
      return { reps: context.reps, warmupSpans: 20_000, ladder: LADDER, maxSpans: env('SPANS', 1_000_000), dropSeconds: env('DROP_S', 5), stepSeconds: env('STEP_S', 5), collectorSpans: env('COLLECTOR_SPANS', 300_000), collectorReps: Math.min(context.reps, 5), collectorDropSeconds: env('COLLECTOR_DROP_S', 10) };
  }
}

interface Outcome {
  produced: number;
  /** Counted at the receiver. */
  delivered: number;
  dropped: number;
  dropPct: number;
  deliveredPerS: number;
  /** Last arrival minus last record: how far behind the pipeline was when the producer stopped. */
  lagMs: number;
  producerCpuMs: number;
  /** null where it cannot be read (the collector off Linux). */
  receiverCpuMs: number | null;
  /** Mean spans per accepted request, as the agent counts them. */
  spansPerRequest: number;
}

function profileArgs(): string[] {
  const dir = process.env.PIPELINE_CPU_PROF;
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

function runProducer(config: ProducerConfig): Promise<ProducerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...profileArgs(), join(__dirname, 'pipeline-producer.js'), JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, PRODUCER_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        const why = timedOut ? `did not finish within ${PRODUCER_TIMEOUT_MS / 1000} s` : `exited with ${signal ?? code}`;
        reject(new Error(`the ${config.system} producer ${why}: ${stderr.trim() || stdout.trim()}`));
        return;
      }
      resolve(JSON.parse(line) as ProducerResult);
    });
  });
}

let runNumber = 0;

/** The bench project's API key, which every producer's config carries; set once per run. */
let apiKey = '';

function producerConfig(system: 'teracron' | 'opentelemetry', url: string, spans: number, rate: number): ProducerConfig {
  return { system, url, apiKey, spans, rate, window: rate === 0 ? WINDOW : 0, workflow: `pipeline-${process.pid}-${++runNumber}`, otelMaxQueueSize: OTEL_MAX_QUEUE_SIZE };
}

/** One run into a counting sink; the sink's count is the truth, the agent's counters are checked against it. */
async function runIntoSink(sink: SinkProcess, config: ProducerConfig): Promise<Outcome> {
  await sink.request('reset');
  const result = await runProducer(config);
  const count = await sink.request('count');
  const unreadable = describeUnreadable(count.endpoints);
  if (unreadable !== null) {
    throw new Error(`the ${config.system} sink could not read what the ${config.system} producer sent: ${unreadable}; it received ${describeTally(count.endpoints)}`);
  }
  if (config.system === 'teracron' && count.spans !== result.sent) {
    throw new Error(`teracron counted ${result.sent} spans sent, the sink ${count.spans} (it received ${describeTally(count.endpoints)})`);
  }
  const dropped = config.system === 'teracron' ? result.droppedFull + result.droppedSend : result.produced - count.spans;
  return outcome(result, count.spans, dropped, count.lastAt, count.cpuMs);
}

/** One run into the collector; delivered is what it stored, read back through the query API. */
async function runIntoCollector(collector: CollectorProcess, config: ProducerConfig): Promise<Outcome> {
  const cpuBefore = processCpuMs(collector.child.pid);
  const result = await runProducer(config);
  const cpuAfter = processCpuMs(collector.child.pid);
  const stored = await storedRuns(collector, config.workflow);
  // Every span is its own trace, so runs stored == spans stored.
  if (stored !== result.sent) throw new Error(`teracron counted ${result.sent} spans sent, the collector stored ${stored}`);
  const cpuMs = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
  return outcome(result, stored, result.droppedFull + result.droppedSend, result.flushedAt, cpuMs);
}

async function storedRuns(collector: CollectorProcess, workflow: string): Promise<number> {
  const { status, body } = await queryCollector(collector.url, '/api/v1/workflows?limit=1000', apiKey);
  if (status !== 200) throw new Error(`GET /api/v1/workflows answered ${status}: ${JSON.stringify(body)}`);
  return (body.workflows as Array<{ workflow: string; total_runs: number }>).find((row) => row.workflow === workflow)?.total_runs ?? 0;
}

/** User + system CPU of another process, from /proc (Linux); null elsewhere. */
function processCpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return null;
  }
}

function outcome(result: ProducerResult, delivered: number, dropped: number, lastAt: number, receiverCpuMs: number | null): Outcome {
  const seconds = (lastAt - result.firstAt) / 1000;
  return {
    produced: result.produced,
    delivered,
    dropped,
    dropPct: (100 * dropped) / result.produced,
    deliveredPerS: delivered > 0 && seconds > 0 ? delivered / seconds : 0,
    lagMs: lastAt - result.lastRecordAt,
    producerCpuMs: result.cpuMs,
    receiverCpuMs,
    spansPerRequest: result.batches > 0 ? result.sent / result.batches : 0,
  };
}

interface Series {
  delivered: number[];
  dropPct: number[];
  /** At DROP_RATE: last arrival − last record. */
  lagMs: number[];
  /** In the delivered-rate runs: CPU ms per 1,000 spans in the producer and the receiver, spans per request. */
  producerCpu: number[];
  receiverCpu: number[];
  spansPerRequest: number[];
}

function series(): Series {
  return { delivered: [], dropPct: [], lagMs: [], producerCpu: [], receiverCpu: [], spansPerRequest: [] };
}

function addDelivered(s: Series, o: Outcome): void {
  s.delivered.push(o.deliveredPerS);
  s.producerCpu.push((1000 * o.producerCpuMs) / o.produced);
  if (o.receiverCpuMs !== null) s.receiverCpu.push((1000 * o.receiverCpuMs) / o.delivered);
  s.spansPerRequest.push(o.spansPerRequest);
}

function addDrop(s: Series, o: Outcome): void {
  s.dropPct.push(o.dropPct);
  s.lagMs.push(o.lagMs);
}

interface Step {
  rate: number;
  outcome: Outcome;
}

/**
 * Offered rates, climbing until a step drops (from 100,000 spans/s, the drop runs' rate; 50,000
 * is tried only when that drops). Zero drops over a short step can hide a shortfall: the default
 * ring holds about 100,000 spans, so a step of S seconds passes on a pipeline up to 100,000 / S
 * spans/s slower than offered; each step's delivered rate and lag are printed for that reason.
 */
async function ladder(sink: SinkProcess, system: 'teracron' | 'opentelemetry', rates: readonly number[], seconds: number): Promise<Step[]> {
  const steps: Step[] = [];
  const step = async (rate: number): Promise<Step> => {
    const taken = { rate, outcome: await runIntoSink(sink, producerConfig(system, sink.url, Math.round(rate * seconds), rate)) };
    steps.push(taken);
    return taken;
  };
  for (const rate of rates) {
    if ((await step(rate)).outcome.dropped > 0) break;
  }
  if (steps[0]!.outcome.dropped > 0) await step(LADDER_FALLBACK);
  return steps;
}

function maxRateNoDrops(steps: Step[]): number {
  let best = 0;
  for (const step of steps) if (step.outcome.dropped === 0) best = Math.max(best, step.rate);
  return best;
}

async function run(context: BenchContext): Promise<BenchRow[]> {
  const p = plan(context);
  const started = performance.now();
  const results = new Map<System, Series>([
    ['teracron', series()],
    ['opentelemetry', series()],
    ['teracron+collector', series()],
  ]);
  const ladders = new Map<System, Step[]>();
  const dropSpans = Math.round(DROP_RATE * p.dropSeconds);
  const project = await benchProject();
  apiKey = project.apiKey;
  // PIPELINE_ONLY=collector skips the sinks: the collector's figures alone, in a fraction of the time.
  if (process.env.PIPELINE_ONLY !== 'collector') await runSinks(p, results, ladders, dropSpans, project.pemPath);
  await runCollector(p, results.get('teracron+collector')!);
  for (const [system, s] of results) if (s.delivered.length === 0) results.delete(system);
  print(p, results, ladders, (performance.now() - started) / 1000);
  return rows(results, ladders);
}

async function runSinks(p: Plan, results: Map<System, Series>, ladders: Map<System, Step[]>, dropSpans: number, pemPath: string): Promise<void> {
  const teracronSink = await SinkProcess.start('teracron', pemPath, profileArgs());
  const otlpSink = await SinkProcess.start('otlp', null, profileArgs());
  try {
    // Warm-up (discarded): the first producers pay for cold caches, the sinks for their JIT.
    if (p.warmupSpans > 0) {
      await runIntoSink(teracronSink, producerConfig('teracron', teracronSink.url, p.warmupSpans, 0));
      await runIntoSink(otlpSink, producerConfig('opentelemetry', otlpSink.url, p.warmupSpans, 0));
    }
    for (let rep = 0; rep < p.reps; rep++) {
      addDelivered(results.get('teracron')!, await runIntoSink(teracronSink, producerConfig('teracron', teracronSink.url, p.maxSpans, 0)));
      addDelivered(results.get('opentelemetry')!, await runIntoSink(otlpSink, producerConfig('opentelemetry', otlpSink.url, p.maxSpans, 0)));
      addDrop(results.get('teracron')!, await runIntoSink(teracronSink, producerConfig('teracron', teracronSink.url, dropSpans, DROP_RATE)));
      addDrop(results.get('opentelemetry')!, await runIntoSink(otlpSink, producerConfig('opentelemetry', otlpSink.url, dropSpans, DROP_RATE)));
    }
    ladders.set('teracron', await ladder(teracronSink, 'teracron', p.ladder, p.stepSeconds));
    ladders.set('opentelemetry', await ladder(otlpSink, 'opentelemetry', p.ladder, p.stepSeconds));
  } finally {
    await teracronSink.stop();
    await otlpSink.stop();
  }
}

async function runCollector(p: Plan, s: Series): Promise<void> {
  const collector = await startCollectorProcess(await collectorDataDir(), [], profileArgs());
  try {
    for (let rep = 0; rep < p.collectorReps; rep++) {
      addDelivered(s, await runIntoCollector(collector, producerConfig('teracron', collector.url, p.collectorSpans, 0)));
      const spans = Math.round(COLLECTOR_DROP_RATE * p.collectorDropSeconds);
      addDrop(s, await runIntoCollector(collector, producerConfig('teracron', collector.url, spans, COLLECTOR_DROP_RATE)));
    }
  } finally {
    await collector.stop();
  }
}

const LABEL: Record<System, string> = {
  teracron: 'teracron → counting sink',
  'teracron+collector': 'teracron → collector (SQLite)',
  opentelemetry: 'OpenTelemetry → OTLP JSON sink',
};

function print(p: Plan, results: Map<System, Series>, ladders: Map<System, Step[]>, elapsedS: number): void {
  const n = (value: number): string => value.toLocaleString('en-US');
  console.log(`pipeline: ${machine()}; ${p.reps} reps (collector ${p.collectorReps}), interleaved, a fresh producer process per run; ${elapsedS.toFixed(0)} s`);
  console.log(`  delivered: ${n(p.maxSpans)} spans (collector ${n(p.collectorSpans)}), each its own trace, recorded as fast as the pipeline takes them (≤ ${n(WINDOW)} undelivered)`);
  console.log(`  drops: ${n(DROP_RATE)} spans/s offered for ${p.dropSeconds} s in 1 ms ticks (the collector: ${n(COLLECTOR_DROP_RATE)} spans/s for ${p.collectorDropSeconds} s)`);
  console.log(`  OpenTelemetry 2.12: BatchSpanProcessor defaults (batches of 512, 5 s delay, one export at a time, 30 s timeout) but maxQueueSize ${n(OTEL_MAX_QUEUE_SIZE)}; OTLP/HTTP JSON exporter defaults`);
  console.log(`${''.padEnd(44)}${'min'.padStart(10)}${'median'.padStart(10)}${'max'.padStart(10)}`);
  for (const [system, s] of results) {
    console.log(`${LABEL[system]}`);
    console.log(formatRow('  delivered', summarize(s.delivered), 'spans/s', 0));
    const rate = system === 'teracron+collector' ? COLLECTOR_DROP_RATE : DROP_RATE;
    console.log(formatRow(`  dropped at ${n(rate)} spans/s`, summarize(s.dropPct), '%', 2));
    console.log(formatRow(`  lag at ${n(rate)} spans/s`, summarize(s.lagMs), 'ms after the last record', 0));
    console.log(formatRow('  producer CPU (all threads)', summarize(s.producerCpu), 'ms per 1,000 spans', 2));
    if (s.receiverCpu.length > 0) console.log(formatRow('  receiver CPU', summarize(s.receiverCpu), 'ms per 1,000 spans', 2));
    console.log(formatRow('  spans per request', summarize(s.spansPerRequest), 'mean', 0));
  }
  for (const [system, steps] of ladders) {
    const cells = steps.map((step) => {
      const o = step.outcome;
      return `${n(step.rate / 1000)}k: ${o.dropped > 0 ? `${o.dropPct.toFixed(1)}% dropped` : 'no drops'}, ${n(Math.round(o.deliveredPerS / 1000))}k/s delivered, lag ${n(Math.round(o.lagMs))} ms`;
    });
    console.log(`${system} ladder, ${p.stepSeconds} s a step: ${cells.join('; ')}`);
    console.log(`  → highest offered rate with no drops: ${n(maxRateNoDrops(steps))} spans/s (a ${p.stepSeconds} s step can hide a shortfall of up to ~${n(Math.round(RING_SPANS / p.stepSeconds / 1000))}k spans/s in a 100k-span buffer)`);
  }
}

function rows(results: Map<System, Series>, ladders: Map<System, Step[]>): BenchRow[] {
  const out: BenchRow[] = [];
  for (const [system, s] of results) {
    out.push(...summaryRows('pipeline', system, 'delivered_spans_per_s', 'spans/s', summarize(s.delivered)));
    out.push(...summaryRows('pipeline', system, 'drop_pct', '%', summarize(s.dropPct)));
  }
  for (const [system, steps] of ladders) {
    out.push({ bench: 'pipeline', system, metric: 'max_rate_no_drops', value: maxRateNoDrops(steps), unit: 'spans/s' });
  }
  return out;
}

export const pipeline: Bench = {
  name: 'pipeline',
  description: 'spans/s delivered end to end (agent → loopback sink / collector) and drops under load, teracron against OpenTelemetry JS',
  run,
};

if (require.main === module) void run({ mode: 'quick', reps: Number(process.env.REPS ?? '5') });
