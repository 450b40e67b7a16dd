/**
 * What the agent adds to a process's exit, with spans still buffered. The target (issue 14):
 * 50,000 buffered spans ship at process.exit() within 300 ms on a quiet machine.
 *
 *   producer process (bench/exit-producer.ts)                 receiver process
 *   ┌───────────────────────────────────────────────┐  HTTP   ┌───────────────────────────────┐
 *   │ flush() once (worker up); 50,000 × recordSpan │ ──────▶ │ counting sink: open, decode,  │
 *   │ in one synchronous loop; process.exit(0) ─▶   │ loopback│ count, note the last arrival  │
 *   │ the agent's exit hook ships the ring, blocking│         │   (bench/counting-sink.ts)    │
 *   └───────────────────────────────────────────────┘         └───────────────────────────────┘
 *
 * Per repetition, interleaved (the order alternates), each in a fresh process:
 *   teracron  the producer above; the sink is reset before and counted after
 *   baseline  a process that loads nothing and calls process.exit(0) at once
 * and for each: the time from the process.exit() call (written by the child just before it) to
 * the parent's 'exit' event for the child, i.e. the process gone. The agent's added exit time is
 * the difference of the two medians of one run. For teracron also: when the agent's exit hook had
 * returned (an 'exit' listener added after the agent's writes the time), when the sink received
 * the last span, and how many spans arrived, which must be every one recorded: the bench fails,
 * naming the counts and what the agent counted at exit, if any is missing.
 *
 * All times are unix ms with sub-ms resolution (performance.timeOrigin + performance.now()) read
 * in three processes of one machine, so they share the wall clock; what separates them is only
 * timeOrigin's own precision, far below the milliseconds measured. The parent's 'exit' event
 * comes a little after the process is gone (SIGCHLD, then a turn of the parent's event loop):
 * the baseline carries that same delay, so the difference does not. On 2 cores the sink, which
 * decrypts every envelope, competes with the exiting producer for CPU, as a remote receiver
 * would not: the figures are an upper bound for a quiet machine.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Bench, BenchContext, BenchRow } from './harness';
import { summaryRows } from './harness';
import type { SinkCount } from './counting-sink';
import type { ExitHookLine, ExitProducerConfig, ExitProducerLine } from './exit-producer';
import { describeTally, describeUnreadable } from './ingest-reader';
import { benchProject } from './project';
import { SinkProcess } from './sink-process';
import { machine, summarize } from './stats';
import type { Summary } from './stats';

const BENCH = 'exit';
/** The issue's target: process.exit() to all spans shipped and the process gone, on a quiet machine. */
const TARGET_MS = 300;
const TARGET_SPANS = 50_000;
/** Far above the agent's 2 s exit budget: a producer still running by then is stuck. */
const PRODUCER_TIMEOUT_MS = 60_000;
const LABEL_WIDTH = 52;

interface Plan {
  reps: number;
  spans: number;
  /** One discarded run of each system first (cold file cache, the sink's first decryptions). */
  warmup: boolean;
}

function plan(context: BenchContext): Plan {
  const spans = Number(process.env.SPANS ?? TARGET_SPANS);
  if (!Number.isInteger(spans) || spans <= 0) throw new Error(`SPANS must be a whole number of spans > 0, not ${JSON.stringify(process.env.SPANS)}`);
  switch (context.mode) {
    case 'smoke':
      return { reps: context.reps, spans: 5_000, warmup: false };
    case 'quick':
    case 'full':
      return { reps: context.reps, spans, warmup: true };
  }
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

/** What the parent saw of one producer process. */
interface Exited {
  line: ExitProducerLine;
  hook: ExitHookLine | null;
  /** When the parent's 'exit' event for the child fired, unix ms. */
  exitedAt: number;
  stderr: string;
}

function parseLines(stdout: string): { line: ExitProducerLine | null; hook: ExitHookLine | null } {
  let line: ExitProducerLine | null = null;
  let hook: ExitHookLine | null = null;
  for (const text of stdout.split('\n')) {
    if (!text.startsWith('{')) continue;
    const parsed = JSON.parse(text) as ExitProducerLine | ExitHookLine;
    if (parsed.kind === 'exiting') line = parsed;
    else if (parsed.kind === 'exit-hook-done') hook = parsed;
  }
  return { line, hook };
}

function runProducer(config: ExitProducerConfig): Promise<Exited> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, 'exit-producer.js'), JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let exitedAt = 0;
    let failure = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, PRODUCER_TIMEOUT_MS);
    // 'exit' is the process gone; its stdout may still be arriving until 'close'.
    child.on('exit', (code, signal) => {
      exitedAt = now();
      clearTimeout(timer);
      failure = code === 0 ? '' : timedOut ? `did not exit within ${PRODUCER_TIMEOUT_MS / 1000} s` : `exited with ${signal ?? code}`;
    });
    child.on('error', reject);
    child.on('close', () => {
      const what = `the ${config.system} producer`;
      const output = `stderr: ${stderr.trim() || '(empty)'}; stdout: ${stdout.trim() || '(empty)'}`;
      if (failure !== '') return reject(new Error(`${what} ${failure}; ${output}`));
      let parsed: ReturnType<typeof parseLines>;
      try {
        parsed = parseLines(stdout);
      } catch (err) {
        return reject(new Error(`${what} wrote a line that is not JSON (${(err as Error).message}); ${output}`));
      }
      if (parsed.line === null) return reject(new Error(`${what} exited with 0 but never wrote its line before process.exit(); ${output}`));
      if (config.system === 'teracron' && parsed.hook === null) return reject(new Error(`${what} wrote no line after the agent's exit hook (its 'exit' listener did not run); ${output}`));
      resolve({ line: parsed.line, hook: parsed.hook, exitedAt, stderr: stderr.trim() });
    });
  });
}

interface TeracronOutcome {
  exitMs: number;
  hookMs: number;
  /** null when no span arrived. */
  lastSpanMs: number | null;
  delivered: number;
  sentBeforeExit: number;
  /** What went missing, for the failure message; null when every span arrived. */
  lost: string | null;
  stderr: string;
}

function describeAgentAtExit(hook: ExitHookLine): string {
  return `sent ${hook.sent}, pending ${hook.pending}, dropped ring full ${hook.droppedRingFull}, dropped send failed ${hook.droppedSendFailed}, last error ${hook.lastError ?? 'none'}`;
}

function lostSpans(config: ExitProducerConfig, run: Exited, count: SinkCount, exitMs: number): string | null {
  if (count.spans === config.spans) return null;
  return `${count.spans.toLocaleString('en-US')} of ${config.spans.toLocaleString('en-US')} spans reached the sink (${(config.spans - count.spans).toLocaleString('en-US')} missing); `
    + `the agent counted at exit: ${describeAgentAtExit(run.hook!)}; process.exit() to process gone ${exitMs.toFixed(0)} ms; `
    + `the sink received ${describeTally(count.endpoints)}; agent's stderr: ${run.stderr || '(empty)'}`;
}

let runNumber = 0;
/** The bench project's API key, which every producer's config carries; set once per run. */
let apiKey = '';

function producerConfig(system: ExitProducerConfig['system'], url: string, spans: number): ExitProducerConfig {
  return { system, url, apiKey, spans: system === 'baseline' ? 0 : spans, workflow: `exit-${process.pid}-${++runNumber}` };
}

async function teracronRun(sink: SinkProcess, spans: number): Promise<TeracronOutcome> {
  const config = producerConfig('teracron', sink.url, spans);
  await sink.request('reset');
  const run = await runProducer(config);
  const count = await sink.request('count');
  const unreadable = describeUnreadable(count.endpoints);
  if (unreadable !== null) throw new Error(`the counting sink could not read what the agent sent at exit: ${unreadable}; it received ${describeTally(count.endpoints)}`);
  if (run.line.recorded !== spans) throw new Error(`recordSpan() took ${run.line.recorded} of ${spans} spans before process.exit() (the ring was full?); the agent counted at exit: ${describeAgentAtExit(run.hook!)}`);
  if (count.spans > spans) throw new Error(`the sink counted ${count.spans} spans after a run that recorded ${spans}: it was not reset, or another process sends to it`);
  const { exitCalledAt } = run.line;
  const exitMs = run.exitedAt - exitCalledAt;
  return {
    exitMs,
    hookMs: run.hook!.hookDoneAt - exitCalledAt,
    lastSpanMs: count.spans > 0 ? count.lastAt - exitCalledAt : null,
    delivered: count.spans,
    sentBeforeExit: run.line.sentBeforeExit,
    lost: lostSpans(config, run, count, exitMs),
    stderr: run.stderr,
  };
}

async function baselineRun(): Promise<number> {
  const run = await runProducer(producerConfig('baseline', '', 0));
  return run.exitedAt - run.line.exitCalledAt;
}

interface Series {
  exitMs: number[];
  baselineExitMs: number[];
  hookMs: number[];
  lastSpanMs: number[];
  delivered: number[];
  sentBeforeExit: number[];
  /** Runs that lost spans, and the agent's stderr of runs that wrote any, described. */
  lost: string[];
  stderr: string[];
}

/** Losses and stderr are kept from every run, the discarded warm-up too. */
function note(s: Series, o: TeracronOutcome, run: string): void {
  if (o.lost !== null) s.lost.push(`${run}: ${o.lost}`);
  if (o.stderr !== '') s.stderr.push(`${run}: ${o.stderr}`);
}

function add(s: Series, o: TeracronOutcome, rep: number): void {
  note(s, o, `run ${rep + 1}`);
  s.exitMs.push(o.exitMs);
  s.hookMs.push(o.hookMs);
  if (o.lastSpanMs !== null) s.lastSpanMs.push(o.lastSpanMs);
  s.delivered.push(o.delivered);
  s.sentBeforeExit.push(o.sentBeforeExit);
}

async function run(context: BenchContext): Promise<BenchRow[]> {
  const p = plan(context);
  const started = performance.now();
  const load = loadavg()[0]!;
  const project = await benchProject();
  apiKey = project.apiKey;
  const s: Series = { exitMs: [], baselineExitMs: [], hookMs: [], lastSpanMs: [], delivered: [], sentBeforeExit: [], lost: [], stderr: [] };
  const sink = await SinkProcess.start('teracron', project.pemPath);
  try {
    if (p.warmup) {
      await baselineRun();
      note(s, await teracronRun(sink, p.spans), 'warm-up run');
    }
    for (let rep = 0; rep < p.reps; rep++) {
      // Alternate which goes first, so that a drift of the machine's load favours neither.
      if (rep % 2 === 0) s.baselineExitMs.push(await baselineRun());
      add(s, await teracronRun(sink, p.spans), rep);
      if (rep % 2 === 1) s.baselineExitMs.push(await baselineRun());
    }
  } finally {
    await sink.stop();
  }
  print(context, p, s, load, (performance.now() - started) / 1000);
  if (s.lost.length > 0) throw lostError(p, s);
  return rows(s);
}

/** One line the runner's summary shows in full; every run's details were printed above it. */
function lostError(p: Plan, s: Series): Error {
  const runs = p.reps + (p.warmup ? 1 : 0);
  for (const line of s.lost) console.error(`  lost at exit, ${line}`);
  return new Error(`spans were lost at process.exit() in ${s.lost.length} of ${runs} teracron runs (first: ${s.lost[0]!.split('; ')[0]}); each run's counts and the agent's stderr are printed above`);
}

function formatLine(label: string, summary: Summary, unit: string, digits: number): string {
  const cell = (value: number): string => value.toFixed(digits).padStart(10);
  return `${label.padEnd(LABEL_WIDTH)}${cell(summary.min)}${cell(summary.median)}${cell(summary.max)}  ${unit}`;
}

/** The agent's added exit time: the teracron median minus the baseline median, of one run. */
function addedMs(s: Series): number {
  return summarize(s.exitMs).median - summarize(s.baselineExitMs).median;
}

/** The producers inherit this environment: TERACRON_* variables set in it change the agent under test. */
function agentSettings(): string {
  const set = Object.keys(process.env).filter((name) => name.startsWith('TERACRON_')).sort();
  return set.length === 0 ? "the agent's defaults (ring, batching, 2 s exit budget)" : `the agent's defaults but ${set.map((name) => `${name}=${process.env[name]}`).join(', ')} (inherited)`;
}

function print(context: BenchContext, p: Plan, s: Series, load: number, elapsedS: number): void {
  const n = (value: number): string => value.toLocaleString('en-US');
  console.log(`exit: ${machine()}; ${p.reps} reps, teracron interleaved with a no-agent baseline, a fresh process per run${p.warmup ? ' (one discarded run of each first)' : ''}; ${elapsedS.toFixed(0)} s`);
  console.log(`  teracron: ${n(p.spans)} spans recorded in one synchronous loop after the worker is up, then process.exit(0); ${agentSettings()}; load average ${load.toFixed(2)} at the start`);
  console.log(`${''.padEnd(LABEL_WIDTH)}${'min'.padStart(10)}${'median'.padStart(10)}${'max'.padStart(10)}`);
  console.log(formatLine('exit: process.exit() to process gone', summarize(s.exitMs), 'ms', 1));
  console.log(formatLine('exit: no-agent process.exit() to process gone', summarize(s.baselineExitMs), 'ms', 1));
  console.log(formatLine('exit: process.exit() to agent\'s exit hook done', summarize(s.hookMs), 'ms', 1));
  if (s.lastSpanMs.length > 0) console.log(formatLine('exit: process.exit() to last span received', summarize(s.lastSpanMs), 'ms', 1));
  console.log(formatLine('exit: spans delivered', summarize(s.delivered), 'spans', 0));
  console.log(formatLine('exit: of those, accepted before process.exit()', summarize(s.sentBeforeExit), 'spans', 0));
  const added = addedMs(s);
  console.log(`  agent's added exit time (difference of medians): ${added.toFixed(1)} ms`);
  const median = summarize(s.exitMs).median;
  const verdict = context.mode === 'smoke' || p.spans !== TARGET_SPANS
    ? `not judged (${n(p.spans)} spans${context.mode === 'smoke' ? ', smoke' : ''})`
    : `${median <= TARGET_MS ? 'met' : 'not met'} (median ${median.toFixed(0)} ms, load average ${load.toFixed(2)}; the target is for a quiet machine)`;
  console.log(`  target, ${n(TARGET_SPANS)} buffered spans shipped and the process gone within ${TARGET_MS} ms of process.exit(): ${verdict}`);
  for (const line of s.stderr) console.log(`  agent's stderr, ${line}`);
}

function rows(s: Series): BenchRow[] {
  return [
    ...summaryRows(BENCH, 'teracron', 'exit_to_process_gone_ms', 'ms', summarize(s.exitMs)),
    ...summaryRows(BENCH, 'baseline', 'exit_to_process_gone_ms', 'ms', summarize(s.baselineExitMs)),
    ...summaryRows(BENCH, 'teracron', 'exit_to_hook_done_ms', 'ms', summarize(s.hookMs)),
    ...(s.lastSpanMs.length > 0 ? summaryRows(BENCH, 'teracron', 'exit_to_last_span_ms', 'ms', summarize(s.lastSpanMs)) : []),
    ...summaryRows(BENCH, 'teracron', 'spans_delivered', 'spans', summarize(s.delivered)),
    ...summaryRows(BENCH, 'teracron', 'spans_sent_before_exit', 'spans', summarize(s.sentBeforeExit)),
    { bench: BENCH, system: 'teracron', metric: 'added_exit_ms', value: addedMs(s), unit: 'ms' },
  ];
}

export const exit: Bench = {
  name: BENCH,
  description: 'process.exit() with 50,000 spans buffered: time until the process is gone and every span delivered, against a no-agent exit',
  run,
};

if (require.main === module) void run({ mode: 'quick', reps: Number(process.env.REPS ?? '5') });
