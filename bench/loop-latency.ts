/**
 * Does one hostile client slow down everyone else? A real collector process is loaded by 4
 * clients posting sealed 50-span msgpack batches and 1 client posting a "bomb" in a loop: a
 * trace batch whose one span's metadata is a map of 1,000,000 keys, sealed with the project's
 * real key, so it decrypts and is refused (400) by the structure bounds. Meanwhile a probe asks
 * `GET /v1/auth/whoami` every 20 ms. Target (from the issue): whoami p99 under 50 ms while the
 * bombs keep coming. Each rep measures the probe idle, then under load, on the same collector.
 *
 * The probe fires on a fixed schedule whether or not the previous answer came back, so a stall
 * of the collector's event loop is seen by every request that would have arrived during it, not
 * by one (a probe that waited for each answer would sample a 500 ms stall once). The load and
 * the probe share this process, so its own event-loop delay is printed beside the figures: a
 * whoami latency close to its lag is this process's, not the collector's.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Packr } from 'msgpackr';
import { request } from 'undici';
import { encodeBatch, INGEST_PATHS, newBatchId } from '../src/wire/batch-codec';
import type { WireSpan } from '../src/wire/batch-codec';
import { sealEnvelope } from '../src/wire/envelope';
import { startCollectorProcess } from '../support/collector-process';
import { summaryRows } from './harness';
import type { Bench, BenchContext, BenchRow } from './harness';
import { benchProject, collectorDataDir } from './project';
import type { BenchProject } from './project';
import { formatRow, machine, summarize } from './stats';
import type { Summary } from './stats';

/** Seconds the probe runs per window; reps are capped (each rep is two windows). */
const PLAN = {
  smoke: { windowS: 1, reps: 1 },
  quick: { windowS: 8, reps: 3 },
  full: { windowS: 20, reps: 3 },
} as const;
const TRACE_CLIENTS = 4;
const SPANS_PER_BATCH = 50;
const BOMB_KEYS = 1_000_000;
const KEYS = BOMB_KEYS.toLocaleString('en-US');
const PROBE_INTERVAL_MS = 20;
/** Load runs this long before the probe starts, so every client has a request in flight. */
const LOAD_WARMUP_MS = 500;
/** A client answered 429 or 503 pauses this long rather than spin on the refusal. */
const REFUSED_PAUSE_MS = 50;
const TARGET_P99_MS = 50;
/** The loop-delay histogram records each interval of a timer this often, so lag is above it. */
const LAG_RESOLUTION_MS = 10;
/** What a batch may be answered; anything else fails the bench. */
const EXPECTED_STATUSES = new Set([202, 400, 429, 503]);

type Statuses = Map<number, number>;

interface LoadTally {
  batches: Statuses;
  bombs: Statuses;
  spansStored: number;
  seconds: number;
  /** The collector's answer to the first bomb it refused, to show why it refused. */
  firstBombAnswer: string | null;
}

interface Window {
  p50: number;
  p99: number;
  max: number;
  /** This process's own event-loop lag p99 during the window. */
  clientLagP99: number;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function count(statuses: Statuses, status: number): void {
  statuses.set(status, (statuses.get(status) ?? 0) + 1);
}

function describeStatuses(statuses: Statuses): string {
  return [...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${n} × ${status}`).join(', ') || 'none answered';
}

/** Built once and posted again and again: the collector refuses it before any dedup by batch_id. */
function makeBomb(project: BenchProject): Buffer {
  const metadata = new Map<string, number>();
  for (let k = 0; k < BOMB_KEYS; k++) metadata.set(k.toString(36), 1);
  const span = {
    trace_id: 'b'.repeat(32),
    span_id: 'b'.repeat(32),
    parent_span_id: null,
    workflow: 'loop-latency-bomb',
    operation: 'bomb',
    status: 'succeeded',
    started_at: Date.now(),
    duration_ms: 1,
    error_type: null,
    error_message: null,
    metadata,
    captured_params: {},
  };
  const packed = new Packr({ useRecords: false, variableMapSize: true }).pack({ type: 'trace', project_slug: project.slug, batch_id: newBatchId(), spans: [span] });
  return sealEnvelope(packed, project.publicKey);
}

function makeBatch(project: BenchProject, firstId: number): Buffer {
  const now = Date.now();
  const spans: WireSpan[] = [];
  for (let i = 0; i < SPANS_PER_BATCH; i++) {
    const n = firstId + i;
    const root = n - (n % 10);
    spans.push({
      trace_id: Math.floor(n / 10).toString(16).padStart(32, '0'),
      span_id: (n + 1).toString(16).padStart(32, '0'),
      parent_span_id: n === root ? null : (root + 1).toString(16).padStart(32, '0'),
      workflow: 'loop-latency',
      operation: `step-${n % 10}`,
      status: 'succeeded',
      started_at: now - SPANS_PER_BATCH + i,
      duration_ms: 1.25,
      error_type: null,
      error_message: null,
      metadata: { route: '/orders/:id', status: 200, cached: false },
      captured_params: {},
    });
  }
  return sealEnvelope(encodeBatch({ type: 'trace', project_slug: project.slug, batch_id: newBatchId(), spans }, 'msgpack'), project.publicKey);
}

async function post(url: string, slug: string, body: Buffer, what: string): Promise<{ status: number; answer: string }> {
  try {
    const res = await request(`${url}${INGEST_PATHS.trace}`, { method: 'POST', body, headers: { 'x-project-slug': slug } });
    return { status: res.statusCode, answer: await res.body.text() };
  } catch (err) {
    throw new Error(`posting ${what} got no answer from the collector: ${(err as Error).message}`);
  }
}

/** Spans are numbered across the whole run, so no batch repeats an id another one stored. */
interface IdSource {
  next: number;
}

/** Starts the 4 + 1 client loops; `stop()` ends them after their request in flight, and rejects with the first failure. */
function startLoad(url: string, project: BenchProject, bomb: Buffer, ids: IdSource): { stop(): Promise<LoadTally> } {
  const tally: LoadTally = { batches: new Map(), bombs: new Map(), spansStored: 0, seconds: 0, firstBombAnswer: null };
  let running = true;
  const started = performance.now();

  const traceClient = async (): Promise<void> => {
    while (running) {
      const body = makeBatch(project, ids.next);
      ids.next += SPANS_PER_BATCH;
      const { status, answer } = await post(url, project.slug, body, `a ${SPANS_PER_BATCH}-span batch`);
      count(tally.batches, status);
      if (!EXPECTED_STATUSES.has(status)) throw new Error(`a ${SPANS_PER_BATCH}-span batch was answered ${status} (expected 202, 400, 429 or 503): ${answer.slice(0, 500)}`);
      if (status === 202) tally.spansStored += (JSON.parse(answer) as { accepted: number }).accepted;
      else if (status !== 400) await sleep(REFUSED_PAUSE_MS);
    }
  };
  const bombClient = async (): Promise<void> => {
    while (running) {
      const { status, answer } = await post(url, project.slug, bomb, `a ${KEYS}-key bomb`);
      count(tally.bombs, status);
      if (status === 202) throw new Error(`a bomb of ${KEYS} metadata keys was accepted (202): ${answer.slice(0, 500)}`);
      if (!EXPECTED_STATUSES.has(status)) throw new Error(`a bomb of ${KEYS} metadata keys was answered ${status} (expected 400, or 429 or 503): ${answer.slice(0, 500)}`);
      if (status === 400) tally.firstBombAnswer ??= answer;
      else await sleep(REFUSED_PAUSE_MS);
    }
  };

  // A client that fails stops the others, so the run ends with one clear cause.
  const clients = [...Array.from({ length: TRACE_CLIENTS }, traceClient), bombClient()].map((client) =>
    client.catch((err: unknown) => {
      running = false;
      throw err;
    }),
  );
  const finished = Promise.allSettled(clients).then((results) => {
    tally.seconds = (performance.now() - started) / 1000;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return tally;
  });
  // stop() hands a failure over; until it is called, one that came early must not count as unhandled.
  finished.catch(() => {});
  return {
    stop: () => {
      running = false;
      return finished;
    },
  };
}

async function whoami(url: string, apiKey: string): Promise<number> {
  const started = performance.now();
  const res = await request(`${url}/v1/auth/whoami`, { headers: { authorization: `Bearer ${apiKey}` } });
  const answer = await res.body.text();
  const ms = performance.now() - started;
  if (res.statusCode !== 200) throw new Error(`whoami was answered ${res.statusCode} (expected 200): ${answer.slice(0, 500)}`);
  return ms;
}

/** whoami every PROBE_INTERVAL_MS for the window, on schedule even while earlier ones wait. */
async function probe(url: string, apiKey: string, windowMs: number): Promise<Window> {
  const latencies: number[] = [];
  const pending: Array<Promise<void>> = [];
  let failure: unknown = null;
  const delay = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  delay.enable();
  const start = performance.now();
  for (let due = start; due < start + windowMs; due += PROBE_INTERVAL_MS) {
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(whoami(url, apiKey).then((ms) => void latencies.push(ms), (err: unknown) => void (failure ??= err)));
  }
  await Promise.all(pending);
  delay.disable();
  if (failure !== null) throw failure;
  const sorted = Float64Array.from(latencies).sort();
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] ?? 0, clientLagP99: Math.max(0, delay.percentile(99) / 1e6 - LAG_RESOLUTION_MS) };
}

interface Figures {
  p50: number[];
  p99: number[];
  max: number[];
  clientLagP99: number[];
}

function record(figures: Figures, window: Window): void {
  figures.p50.push(window.p50);
  figures.p99.push(window.p99);
  figures.max.push(window.max);
  figures.clientLagP99.push(window.clientLagP99);
}

function mergeStatuses(into: Statuses, from: Statuses): void {
  for (const [status, n] of from) into.set(status, (into.get(status) ?? 0) + n);
}

async function run({ mode, reps: contextReps }: BenchContext): Promise<BenchRow[]> {
  const { windowS } = PLAN[mode];
  const reps = Math.min(PLAN[mode].reps, contextReps);
  const project = await benchProject();
  const bomb = makeBomb(project);
  // The rate limits are lifted so the figures are the collector's work, not its limiters: the
  // load's batches are never 429, nor is the probe (50 queries/s is the default per key).
  const collector = await startCollectorProcess(await collectorDataDir(), ['--ingest-rate', '100000', '--query-rate', '10000']);
  const idle: Figures = { p50: [], p99: [], max: [], clientLagP99: [] };
  const loaded: Figures = { p50: [], p99: [], max: [], clientLagP99: [] };
  const bombsRefusedPerS: number[] = [];
  const spansStoredPerS: number[] = [];
  const batches: Statuses = new Map();
  const bombs: Statuses = new Map();
  let firstBombAnswer: string | null = null;
  const ids: IdSource = { next: 0 };

  console.log(`loop-latency: ${machine()}; ${reps} interleaved reps of ${windowS} s idle, then ${windowS} s under load; whoami every ${PROBE_INTERVAL_MS} ms`);
  console.log(`load: ${TRACE_CLIENTS} clients posting ${SPANS_PER_BATCH}-span msgpack batches, 1 client posting a ${KEYS}-key bomb of ${(bomb.length / 1024 / 1024).toFixed(1)} MiB sealed, each one request at a time`);
  try {
    await whoami(collector.url, project.apiKey); // opens the probe's connection before anything is timed
    for (let rep = 0; rep < reps; rep++) {
      const quiet = await probe(collector.url, project.apiKey, windowS * 1000);
      record(idle, quiet);

      const load = startLoad(collector.url, project, bomb, ids);
      let busy: Window;
      try {
        await sleep(LOAD_WARMUP_MS);
        busy = await probe(collector.url, project.apiKey, windowS * 1000);
      } finally {
        await load.stop();
      }
      const tally = await load.stop();
      record(loaded, busy);
      const refused = tally.bombs.get(400) ?? 0;
      bombsRefusedPerS.push(refused / tally.seconds);
      spansStoredPerS.push(tally.spansStored / tally.seconds);
      mergeStatuses(batches, tally.batches);
      mergeStatuses(bombs, tally.bombs);
      firstBombAnswer ??= tally.firstBombAnswer;
      console.log(`rep ${rep + 1}/${reps}: whoami p99 idle ${quiet.p99.toFixed(1)} ms, under load ${busy.p99.toFixed(1)} ms; ${refused} bombs refused, ${tally.spansStored} spans stored in ${tally.seconds.toFixed(1)} s`);
    }
  } finally {
    await collector.stop();
  }

  console.log(`\n${''.padEnd(44)}${'min'.padStart(10)}${'median'.padStart(10)}${'max'.padStart(10)}`);
  const lines: Array<[string, Summary, string, number]> = [
    ['whoami p50, idle', summarize(idle.p50), 'ms', 2],
    ['whoami p50, under load', summarize(loaded.p50), 'ms', 2],
    ['whoami p99, idle', summarize(idle.p99), 'ms', 2],
    ['whoami p99, under load', summarize(loaded.p99), 'ms', 2],
    ['whoami max, idle', summarize(idle.max), 'ms', 2],
    ['whoami max, under load', summarize(loaded.max), 'ms', 2],
    ['bombs refused (400), under load', summarize(bombsRefusedPerS), 'bombs/s', 1],
    ['spans stored (202), under load', summarize(spansStoredPerS), 'spans/s', 0],
    ['this process\'s event-loop lag p99, idle', summarize(idle.clientLagP99), 'ms', 2],
    ['this process\'s event-loop lag p99, loaded', summarize(loaded.clientLagP99), 'ms', 2],
  ];
  for (const [name, summary, unit, digits] of lines) console.log(formatRow(name, summary, unit, digits));
  console.log(`\nanswers: ${SPANS_PER_BATCH}-span batches ${describeStatuses(batches)}; bombs ${describeStatuses(bombs)}`);
  if (firstBombAnswer !== null) console.log(`a bomb's refusal: ${firstBombAnswer.slice(0, 300)}`);
  const p99 = summarize(loaded.p99).median;
  console.log(`target: whoami p99 under load below ${TARGET_P99_MS} ms: median ${p99.toFixed(1)} ms, ${p99 < TARGET_P99_MS ? 'met' : 'NOT met'}`);

  const rows: BenchRow[] = [];
  for (const [system, figures] of [['idle', idle], ['loaded', loaded]] as const) {
    rows.push(...summaryRows('loop-latency', system, 'whoami_p50_ms', 'ms', summarize(figures.p50)));
    rows.push(...summaryRows('loop-latency', system, 'whoami_p99_ms', 'ms', summarize(figures.p99)));
    rows.push(...summaryRows('loop-latency', system, 'whoami_max_ms', 'ms', summarize(figures.max)));
    rows.push(...summaryRows('loop-latency', system, 'client_loop_lag_p99_ms', 'ms', summarize(figures.clientLagP99)));
  }
  rows.push(...summaryRows('loop-latency', 'loaded', 'bombs_refused_per_s', 'bombs/s', summarize(bombsRefusedPerS)));
  rows.push(...summaryRows('loop-latency', 'loaded', 'spans_stored_per_s', 'spans/s', summarize(spansStoredPerS)));
  return rows;
}

export const loopLatency: Bench = {
  name: 'loop-latency',
  description: `whoami latency while one client posts ${KEYS}-key bombs and ${TRACE_CLIENTS} post ${SPANS_PER_BATCH}-span batches`,
  run,
};

if (require.main === module) void run({ mode: 'full', reps: Number(process.env.REPS ?? '3') });
