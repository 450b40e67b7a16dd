/**
 * What every bench provides to the runner (bench/run.ts): a name, and a `run` that prints its own
 * table (min / median / max over interleaved repetitions) and returns rows for `--json`.
 */
export interface BenchRow {
  bench: string;
  /** baseline, teracron, opentelemetry, … */
  system: string;
  metric: string;
  value: number;
  unit: string;
}

/**
 * How big the runs are:
 *   smoke  tiny sizes, a few seconds a bench: proves every bench still runs and returns its rows
 *          (CI runs it); its figures mean nothing
 *   quick  the default: short runs, 5 repetitions
 *   full   longer runs, 15 repetitions
 */
export type BenchMode = 'smoke' | 'quick' | 'full';

export interface BenchContext {
  mode: BenchMode;
  /** Repetitions to interleave (2 in smoke mode, 5 quick, 15 full). */
  reps: number;
}

/**
 * Thrown by a bench that cannot run on this machine (memory reads /proc): the runner reports it
 * as skipped, not failed.
 */
export class BenchSkipped extends Error {
  override name = 'BenchSkipped';
}

export interface Bench {
  name: string;
  description: string;
  run(context: BenchContext): Promise<BenchRow[]>;
}

/** Rows for one summarized measurement: the median as `metric`, plus `metric_min` / `metric_max`. */
export function summaryRows(bench: string, system: string, metric: string, unit: string, summary: { min: number; median: number; max: number }): BenchRow[] {
  return [
    { bench, system, metric, value: summary.median, unit },
    { bench, system, metric: `${metric}_min`, value: summary.min, unit },
    { bench, system, metric: `${metric}_max`, value: summary.max, unit },
  ];
}

/**
 * What is wrong with a bench's rows, or null: a bench that ran must return at least one row,
 * every value a finite number, every row under its own name. A NaN or a missing row is a broken
 * bench even when nothing threw.
 */
export function rowProblems(bench: string, rows: BenchRow[]): string | null {
  if (rows.length === 0) return 'it returned no rows';
  const problems: string[] = [];
  const notFinite = rows.filter((row) => typeof row.value !== 'number' || !Number.isFinite(row.value));
  if (notFinite.length > 0) problems.push(`${notFinite.length} of ${rows.length} rows are not finite numbers: ${notFinite.slice(0, 5).map((row) => `${row.system} ${row.metric} = ${String(row.value)}`).join(', ')}`);
  const misnamed = rows.filter((row) => row.bench !== bench);
  if (misnamed.length > 0) problems.push(`${misnamed.length} of ${rows.length} rows name another bench: ${[...new Set(misnamed.map((row) => JSON.stringify(row.bench)))].join(', ')}`);
  return problems.length === 0 ? null : problems.join('; ');
}
