/**
 * Samples to chart series. One process: every measure of it. Several: one series per process
 * (labelled "pid command") of one measure, on a shared time axis where each process has nulls
 * at the other processes' timestamps.
 */
import type { ChartData, ChartSeries } from './chart.js';
import type { MetricSample, ProcessSummary } from './types.js';

export type MemoryMeasure = 'rss' | 'uss' | 'heap_used' | 'heap_total';

export const MEMORY_MEASURES: ReadonlyArray<{ value: MemoryMeasure; label: string }> = [
  { value: 'rss', label: 'RSS' },
  { value: 'uss', label: 'USS' },
  { value: 'heap_used', label: 'Heap used' },
  { value: 'heap_total', label: 'Heap total' },
];

const PALETTE = ['#4f46e5', '#0d9488', '#d97706', '#db2777', '#0284c7', '#7c3aed', '#65a30d', '#dc2626', '#475569', '#0891b2'];
const MIB = 1048576;

type Read = (s: MetricSample) => number | null | undefined;

interface Measure {
  label: string;
  read: Read;
}

const MEMORY: Record<MemoryMeasure, Measure> = {
  rss: { label: 'RSS', read: (s) => s.rss / MIB },
  uss: { label: 'USS', read: (s) => (s.uss == null ? null : s.uss / MIB) },
  heap_used: { label: 'Heap used', read: (s) => s.heap_used / MIB },
  heap_total: { label: 'Heap total', read: (s) => s.heap_total / MIB },
};
const CPU: Measure = { label: 'CPU', read: (s) => s.cpu_usage_pct / 100 };
const LAG: Measure = { label: 'Lag (max)', read: (s) => s.event_loop_lag / 1000 };
const P50: Measure = { label: 'p50', read: (s) => (s.event_loop_p50 == null ? null : s.event_loop_p50 / 1000) };
const P99: Measure = { label: 'p99', read: (s) => (s.event_loop_p99 == null ? null : s.event_loop_p99 / 1000) };

export interface ChartSet {
  memory: ChartData;
  cpu: ChartData;
  loop: ChartData;
  processCount: number;
}

export function pidKey(s: MetricSample): string {
  return s.pid === null || s.pid === undefined ? '?' : String(s.pid);
}

export function processLabel(pid: string, processes: ReadonlyMap<string, ProcessSummary>, sample?: MetricSample): string {
  // A sidecar names its children by command; an agent inside a service, by the service's name.
  const summary = processes.get(pid);
  const name = summary?.command || sample?.command || summary?.service || sample?.service || null;
  if (pid === '?') return name ?? 'process';
  return name === null ? `pid ${pid}` : `${pid} ${name}`;
}

export function buildCharts(samples: readonly MetricSample[], processes: ReadonlyMap<string, ProcessSummary>, memory: MemoryMeasure): ChartSet {
  const groups = new Map<string, MetricSample[]>();
  for (const s of samples) {
    const list = groups.get(pidKey(s)) ?? [];
    list.push(s);
    groups.set(pidKey(s), list);
  }
  const xs = [...new Set(samples.map((s) => s.timestamp))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const column = (list: readonly MetricSample[], read: Read): Array<number | null> => {
    const values = new Array<number | null>(xs.length).fill(null);
    for (const s of list) {
      const v = read(s);
      values[index.get(s.timestamp)!] = v === undefined || v === null || !Number.isFinite(v) ? null : v;
    }
    return values;
  };
  const hasData = (values: Array<number | null>, zeroIsEmpty = false): boolean => values.some((v) => v !== null && (!zeroIsEmpty || v !== 0));
  // zeroIsEmpty: a process that is not Node (a sidecar's child) reports no event-loop delay.
  const build = (measures: readonly Measure[], zeroIsEmpty = false): ChartSeries[] => {
    const out: ChartSeries[] = [];
    if (groups.size <= 1) {
      const list = [...groups.values()][0] ?? [];
      measures.forEach((m, i) => {
        const values = column(list, m.read);
        if (hasData(values)) out.push({ label: m.label, color: PALETTE[i % PALETTE.length]!, values });
      });
    } else {
      [...groups.entries()].forEach(([pid, list], i) => {
        const values = column(list, measures[0]!.read);
        if (hasData(values, zeroIsEmpty)) out.push({ label: processLabel(pid, processes, list[list.length - 1]), color: PALETTE[i % PALETTE.length]!, values });
      });
    }
    return out;
  };
  const seconds = xs.map((x) => x / 1000);
  const single = groups.size <= 1;
  return {
    memory: { xs: seconds, series: build(single ? [MEMORY.rss, MEMORY.uss, MEMORY.heap_used, MEMORY.heap_total] : [MEMORY[memory]]), points: samples.length },
    cpu: { xs: seconds, series: build([CPU]), points: samples.length },
    loop: { xs: seconds, series: build(single ? [LAG, P50, P99] : [LAG], true), points: samples.length },
    processCount: groups.size,
  };
}
