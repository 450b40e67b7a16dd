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

export interface BenchContext {
  /** Short runs (the default): the whole suite inside a few minutes on 2 cores. */
  quick: boolean;
  /** Repetitions to interleave; at least 5. */
  reps: number;
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
