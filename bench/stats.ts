/** Summaries for benchmark repetitions: min / median / max, and the machine they ran on. */
import { cpus } from 'node:os';

export interface Summary {
  min: number;
  median: number;
  max: number;
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { min: sorted[0]!, median, max: sorted[sorted.length - 1]! };
}

export function machine(): string {
  const list = cpus();
  return `${list[0]?.model.trim() ?? 'unknown CPU'}, ${list.length} cores, Node ${process.version}`;
}

export function formatRow(name: string, summary: Summary, unit: string, digits = 1): string {
  const cell = (value: number): string => value.toFixed(digits).padStart(10);
  return `${name.padEnd(44)}${cell(summary.min)}${cell(summary.median)}${cell(summary.max)}  ${unit}`;
}
