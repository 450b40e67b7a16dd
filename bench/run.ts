/**
 * `npm run bench [-- --smoke | --quick | --full] [--scope <name>] [--json <file>]`
 *
 * Runs every bench (or one), each printing a table of min / median / max over interleaved
 * repetitions, and writes the rows `{ bench, system, metric, value, unit }` as JSON when asked.
 * Quick (the default) runs each bench for a minute or two on 2 cores; --full runs longer and
 * repeats more; --smoke runs every bench with tiny sizes, to prove that each still runs and
 * returns its rows (its figures mean nothing).
 *
 * A bench that throws, or returns no rows or a value that is not finite, does not stop the
 * others: the runner goes on, lists at the end which failed and why, and exits 1.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BenchSkipped, rowProblems } from './harness';
import type { Bench, BenchMode, BenchRow } from './harness';
import { exit } from './exit';
import { http } from './http';
import { ingest } from './ingest';
import { logCost } from './log-cost';
import { loopLatency } from './loop-latency';
import { memory } from './memory';
import { outage } from './outage';
import { pipeline } from './pipeline';
import { processSample } from './process-sample';
import { recordSpan } from './record-span';
import { spanCost } from './span-cost';
import { stalledUploads } from './stalled-uploads';
import { machine } from './stats';

// The benches' agents ship to sinks and collectors of their own, and share the run's project:
// a batch one bench's agent could not send would be replayed into the next bench's sink and
// counted there. So the spool is off unless a bench turns it on (memory, with a directory per
// subject, so its figures are the agent's as users run it; outage).
process.env.TERACRON_SPOOL ??= '0';

const BENCHES: Bench[] = [spanCost, recordSpan, logCost, pipeline, exit, memory, ingest, loopLatency, stalledUploads, outage, processSample, http];
const REPS: Record<BenchMode, number> = { smoke: 2, quick: 5, full: 15 };
/** Lines of a failure's stack shown in the summary: the message and where it was thrown. */
const STACK_LINES = 4;

type Outcome = { bench: string; seconds: number } & ({ status: 'passed' } | { status: 'failed' | 'skipped'; why: string });

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return (err.stack ?? `${err.name}: ${err.message}`).split('\n').slice(0, STACK_LINES).join('\n');
}

async function runOne(bench: Bench, mode: BenchMode, rows: BenchRow[]): Promise<Outcome> {
  const started = Date.now();
  const seconds = (): number => (Date.now() - started) / 1000;
  try {
    const returned = await bench.run({ mode, reps: REPS[mode] });
    rows.push(...returned);
    const problem = rowProblems(bench.name, returned);
    if (problem !== null) return { bench: bench.name, seconds: seconds(), status: 'failed', why: `the bench ran but ${problem}` };
    return { bench: bench.name, seconds: seconds(), status: 'passed' };
  } catch (err) {
    if (err instanceof BenchSkipped) return { bench: bench.name, seconds: seconds(), status: 'skipped', why: err.message };
    return { bench: bench.name, seconds: seconds(), status: 'failed', why: describeError(err) };
  }
}

function report(outcomes: Outcome[], seconds: number): void {
  const count = (status: Outcome['status']): number => outcomes.filter((o) => o.status === status).length;
  console.log(`\n${outcomes.length} bench${outcomes.length === 1 ? '' : 'es'} in ${seconds.toFixed(0)} s: ${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped`);
  for (const o of outcomes) console.log(`  ${o.bench.padEnd(16)}${o.status.padEnd(9)}${o.seconds.toFixed(0).padStart(5)} s`);
  for (const o of outcomes) {
    if (o.status === 'skipped') console.log(`\nskipped ${o.bench}: ${o.why}`);
  }
  for (const o of outcomes) {
    if (o.status === 'failed') console.error(`\nFAILED ${o.bench}:\n${o.why.replace(/^/gm, '  ')}`);
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      full: { type: 'boolean', default: false },
      scope: { type: 'string' },
      json: { type: 'string' },
    },
    strict: true,
  });
  const modes = (['smoke', 'quick', 'full'] as const).filter((mode) => values[mode] === true);
  if (modes.length > 1) {
    console.error(`--${modes.join(' and --')} were both given: pick one of --smoke, --quick (the default) and --full`);
    return 2;
  }
  const mode: BenchMode = modes[0] ?? 'quick';
  const selected = values.scope === undefined ? BENCHES : BENCHES.filter((bench) => bench.name === values.scope);
  if (selected.length === 0) {
    console.error(`no bench named ${JSON.stringify(values.scope)}; the benches are: ${BENCHES.map((b) => b.name).join(', ')}`);
    return 2;
  }
  console.log(`teracron benchmarks (${mode}${mode === 'smoke' ? ': tiny sizes, the figures mean nothing' : ''}) on ${machine()}`);
  const rows: BenchRow[] = [];
  const outcomes: Outcome[] = [];
  const started = Date.now();
  for (const bench of selected) {
    console.log(`\n== ${bench.name}: ${bench.description}`);
    const outcome = await runOne(bench, mode, rows);
    if (outcome.status === 'failed') console.error(`${bench.name} failed (the other benches still run): ${outcome.why.split('\n')[0]}`);
    outcomes.push(outcome);
  }
  report(outcomes, (Date.now() - started) / 1000);
  if (values.json !== undefined) {
    writeFileSync(values.json, `${JSON.stringify(rows, null, 2)}\n`);
    console.log(`${rows.length} rows written to ${values.json}`);
  }
  return outcomes.some((o) => o.status === 'failed') ? 1 : 0;
}

/** How long the process may outlive the last bench before the runner says what holds it and exits. */
const LINGER_MS = 10_000;

main().then(
  (code) => {
    process.exitCode = code;
    // A bench that left a child, a socket or a timer behind would keep the run (and CI) waiting.
    setTimeout(() => {
      console.error(`the benches finished ${LINGER_MS / 1000} s ago but the process is still held by: ${process.getActiveResourcesInfo().join(', ')}; a bench left it open (exiting with 1)`);
      process.exit(1);
    }, LINGER_MS).unref();
  },
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  },
);
