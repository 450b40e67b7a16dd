/**
 * One uPlot time-series chart in a card. `update` reuses the plot while the set of series stays
 * the same (setData keeps the DOM), and builds a new one when it changes. The plot follows the
 * card's width through a ResizeObserver, resized on the next frame so that the observer never
 * sees its own change in the same frame. `bars` draws counts per bucket (an issue's hourly
 * events) as bars, with half a bucket of room at either end so the outer bars show whole.
 */
import uPlot from '../uPlot.esm.js';
import { h } from './dom.js';
import { clock } from './format.js';
import { stateBox } from './ui.js';

export interface ChartSeries {
  label: string;
  color: string;
  values: Array<number | null>;
}

export interface ChartData {
  /** Unix seconds, ascending. */
  xs: number[];
  series: ChartSeries[];
  /** Samples the chart shows (data-points). */
  points: number;
}

const HEIGHT = 220;

export interface ChartOptions {
  bars?: boolean;
  height?: number;
}

export class TimeChart {
  readonly element: HTMLElement;
  readonly #plotArea: HTMLElement;
  readonly #format: (value: number) => string;
  readonly #bars: boolean;
  readonly #height: number;
  #plot: uPlot | null = null;
  #seriesKey = '';
  #observer: ResizeObserver | null = null;
  #frame = 0;

  constructor(name: string, title: string, unitNote: string, format: (value: number) => string, options: ChartOptions = {}) {
    this.#format = format;
    this.#bars = options.bars ?? false;
    this.#height = options.height ?? HEIGHT;
    this.#plotArea = h('div', { class: 'chart-area', 'data-testid': `chart-${name}`, 'data-points': 0 });
    this.element = h('figure', { class: 'chart card' },
      h('figcaption', { class: 'chart-title' }, title, h('span', { class: 'chart-unit' }, unitNote)),
      this.#plotArea);
  }

  update(data: ChartData): void {
    this.#plotArea.dataset.points = String(data.points);
    if (data.xs.length === 0 || data.series.length === 0) {
      this.#destroyPlot();
      this.#plotArea.replaceChildren(stateBox('empty', 'No samples in this range'));
      return;
    }
    const aligned = [data.xs, ...data.series.map((s) => s.values)] as uPlot.AlignedData;
    const key = data.series.map((s) => `${s.label}|${s.color}`).join('\n');
    if (this.#plot !== null && key === this.#seriesKey) {
      this.#plot.setData(aligned);
      return;
    }
    this.#destroyPlot();
    this.#seriesKey = key;
    this.#plotArea.replaceChildren();
    this.#plot = new uPlot(this.#options(data.series), aligned, this.#plotArea);
    this.#observer = new ResizeObserver(() => {
      cancelAnimationFrame(this.#frame);
      this.#frame = requestAnimationFrame(() => {
        const width = this.#width();
        if (this.#plot !== null && Math.abs(this.#plot.width - width) > 1) this.#plot.setSize({ width, height: this.#height });
      });
    });
    this.#observer.observe(this.#plotArea);
  }

  destroy(): void {
    this.#destroyPlot();
  }

  #width(): number {
    return Math.max(240, Math.floor(this.#plotArea.clientWidth));
  }

  #destroyPlot(): void {
    cancelAnimationFrame(this.#frame);
    this.#observer?.disconnect();
    this.#observer = null;
    this.#plot?.destroy();
    this.#plot = null;
    this.#seriesKey = '';
  }

  #options(series: ChartSeries[]): uPlot.Options {
    const format = this.#format;
    const bars = this.#bars ? uPlot.paths.bars!({ size: [0.7, 48], align: 0 }) : undefined;
    const axis = { stroke: '#64748b', grid: { stroke: '#eef1f5', width: 1 }, ticks: { stroke: '#e2e8f0', width: 1 }, font: '11px system-ui, sans-serif' };
    return {
      width: this.#width(),
      height: this.#height,
      cursor: { drag: { x: true, y: false } },
      legend: { live: true },
      scales: {
        x: this.#bars ? { time: true, range: (u, min, max) => halfStepOut(u.data[0], min, max) } : { time: true },
        y: { range: (_u, min, max) => [Math.min(0, min), max <= 0 ? 1 : max * 1.1] },
      },
      axes: [
        { ...axis, space: 80, values: (_u, splits) => timeLabels(splits) },
        { ...axis, size: 64, values: (_u, splits) => splits.map((v) => format(v)) },
      ],
      series: [
        { value: (_u, v) => (v === null ? '—' : clock(v * 1000)) },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: bars === undefined ? 1.5 : 0,
          spanGaps: true,
          points: { size: 4, show: !this.#bars },
          ...(bars === undefined ? {} : { paths: bars, fill: `${s.color}b3` }),
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : format(v)),
        })),
      ],
    };
  }
}

/** The x range of a bar chart: half a bucket beyond the first and the last. */
function halfStepOut(xs: ArrayLike<number>, min: number, max: number): [number, number] {
  const step = xs.length > 1 ? xs[1]! - xs[0]! : 3600;
  return [min - step / 2, max + step / 2];
}

/** Axis times as 24-hour clock readings: seconds only when the ticks are closer than a minute, the date when they span days. */
function timeLabels(splits: number[]): string[] {
  const step = splits.length > 1 ? splits[1]! - splits[0]! : 60;
  return splits.map((s) => {
    const d = new Date(s * 1000);
    const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
    if (step < 60) return `${hm}:${String(d.getSeconds()).padStart(2, '0')}`;
    if (step >= 86_400) return `${d.getMonth() + 1}/${d.getDate()}`;
    return hm;
  });
}
