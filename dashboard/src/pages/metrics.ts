/** #/metrics: memory, CPU and event-loop charts per process, with range, service and pid filters. */
import { TimeChart } from '../chart.js';
import { h, setText, syncChildren } from '../dom.js';
import { count, DASH, mib } from '../format.js';
import { buildCharts, MEMORY_MEASURES, pidKey, processLabel } from '../metrics-data.js';
import type { MemoryMeasure } from '../metrics-data.js';
import { BasePage } from '../page.js';
import type { PageContext, PageFactory } from '../page.js';
import { replaceParams } from '../router.js';
import type { MetricSample, MetricsAnswer, ProcessSummary } from '../types.js';
import { pageHeader, relTime, segmented, selectField, setChoices, stateBox } from '../ui.js';
import type { Choice } from '../ui.js';

const RANGES: ReadonlyArray<Choice & { ms: number }> = [
  { value: '15m', label: '15 min', ms: 15 * 60_000 },
  { value: '1h', label: '1 h', ms: 3_600_000 },
  { value: '6h', label: '6 h', ms: 6 * 3_600_000 },
  { value: '24h', label: '24 h', ms: 24 * 3_600_000 },
];
const LIMIT = 50_000;

export const metricsPage: PageFactory = (ctx, location) => new MetricsPage(ctx, location.params);

class MetricsPage extends BasePage {
  #range: string;
  #service: string;
  #pid: string;
  #measure: MemoryMeasure;
  #signature = '';
  readonly #charts = {
    memory: new TimeChart('memory', 'Memory', 'MiB', (v) => `${round(v, v < 10 ? 1 : 0)} MiB`),
    cpu: new TimeChart('cpu', 'CPU', '% of the machine', (v) => `${round(v, v < 10 ? 1 : 0)}%`),
    loop: new TimeChart('event-loop', 'Event-loop delay', 'ms', (v) => `${round(v, v < 10 ? 2 : 1)} ms`),
  };
  readonly #serviceSelect: HTMLSelectElement;
  readonly #pidSelect: HTMLSelectElement;
  readonly #measureField: HTMLElement;
  readonly #note = h('p', { class: 'table-note' });
  readonly #processRows = h('tbody');
  readonly #content: HTMLElement;

  constructor(ctx: PageContext, params: URLSearchParams) {
    super(ctx, 'page-metrics');
    this.#range = RANGES.some((r) => r.value === params.get('range')) ? params.get('range')! : '15m';
    this.#service = params.get('service') ?? '';
    this.#pid = params.get('pid') ?? '';
    this.#measure = MEMORY_MEASURES.some((m) => m.value === params.get('memory')) ? (params.get('memory') as MemoryMeasure) : 'rss';

    const range = segmented('Time range', RANGES, this.#range, (v) => this.#change(() => (this.#range = v)), 'range');
    const service = selectField('Service', [{ value: '', label: 'All services' }], this.#service, (v) => this.#change(() => {
      this.#service = v;
      this.#pid = '';
    }), 'service-select');
    const pid = selectField('Process', [{ value: '', label: 'All processes' }], this.#pid, (v) => this.#change(() => (this.#pid = v)), 'pid-select');
    const measure = selectField('Memory per process', MEMORY_MEASURES, this.#measure, (v) => this.#change(() => (this.#measure = v as MemoryMeasure)), 'measure-select');
    this.#serviceSelect = service.select;
    this.#pidSelect = pid.select;
    this.#measureField = measure.field;
    this.#measureField.hidden = true;

    this.setHeader(
      pageHeader('Metrics', { subtitle: 'Memory, CPU and event-loop delay of every process the agents sample.', actions: range }),
      h('div', { class: 'toolbar' }, service.field, pid.field, measure.field));
    this.#content = h('div', { class: 'metrics-content' },
      h('div', { class: 'chart-grid' }, this.#charts.memory.element, this.#charts.cpu.element, this.#charts.loop.element),
      h('h2', { class: 'section-title' }, 'Processes'),
      h('div', { class: 'table-wrap card' },
        h('table', { class: 'data-table stack-on-phone', 'data-testid': 'processes-table' },
          h('caption', { class: 'visually-hidden' }, 'Processes sampled in this range'),
          h('thead', null, h('tr', null, ...['Process', 'Parent', 'Service', 'Samples', 'Last seen', 'RSS', 'CPU', 'Agent lost'].map((label, i) => h('th', { scope: 'col', class: i >= 3 && i !== 4 ? 'num' : '' }, label)))),
          this.#processRows)),
      this.#note);
    document.title = `Metrics · ${ctx.slug} · teracron`;
  }

  override destroy(): void {
    super.destroy();
    for (const chart of Object.values(this.#charts)) chart.destroy();
  }

  #filters(): string {
    return `${this.#range}|${this.#service}|${this.#pid}|${this.#measure}`;
  }

  #change(apply: () => void): void {
    apply();
    replaceParams({ range: this.#range === '15m' ? null : this.#range, service: this.#service, pid: this.#pid, memory: this.#measure === 'rss' ? null : this.#measure });
    this.ctx.refreshNow();
  }

  async refresh(): Promise<void> {
    const filters = this.#filters();
    const rangeMs = RANGES.find((r) => r.value === this.#range)!.ms;
    const answer = await this.ctx.api.get<MetricsAnswer>('/api/v1/metrics', { from: Date.now() - rangeMs, limit: LIMIT, service: this.#service, pid: this.#pid });
    if (!this.alive || filters !== this.#filters()) return;
    this.markLoaded();
    // Filter here too, so a collector that ignores `service` still shows the right series.
    const inService = (service: string | null | undefined): boolean => this.#service === '' || service === undefined || service === this.#service;
    const samples = answer.samples.filter((s) => inService(s.service) && (this.#pid === '' || pidKey(s) === this.#pid));
    const processes = answer.pids.filter((p) => inService(p.service));
    this.#updateSelectors(answer, processes);

    const last = samples[samples.length - 1];
    const signature = `${filters}|${samples.length}|${samples[0]?.timestamp}|${last?.timestamp}|${JSON.stringify(processes)}`;
    if (signature === this.#signature) return;
    const first = this.#signature === '';
    this.#signature = signature;
    if (first) this.body.replaceChildren(this.#content);

    const byPid = new Map(answer.pids.map((p) => [String(p.pid), p]));
    const charts = buildCharts(samples, byPid, this.#measure);
    this.#measureField.hidden = charts.processCount <= 1;
    this.#charts.memory.update(charts.memory);
    this.#charts.cpu.update(charts.cpu);
    this.#charts.loop.update(charts.loop);
    this.#renderProcesses(samples, byPid);
    setText(this.#note, samples.length === 0
      ? 'No samples in this range. Agents send one every TERACRON_INTERVAL seconds (10 by default), in batches of TERACRON_MAX_BUFFER.'
      : `${count(samples.length)} samples from ${count(charts.processCount)} process${charts.processCount === 1 ? '' : 'es'}${samples.length === LIMIT ? ' (the newest ones only: choose a shorter range)' : ''}.`);
  }

  #updateSelectors(answer: MetricsAnswer, processes: ProcessSummary[]): void {
    const services = answer.services ?? [...new Set(answer.pids.map((p) => p.service).filter((s): s is string => typeof s === 'string' && s !== ''))];
    setChoices(this.#serviceSelect, [{ value: '', label: 'All services' }, ...services.map((s) => ({ value: s, label: s }))], this.#service);
    const byPid = new Map(processes.map((p) => [String(p.pid), p]));
    setChoices(this.#pidSelect, [{ value: '', label: 'All processes' }, ...processes.map((p) => ({ value: String(p.pid), label: processLabel(String(p.pid), byPid) }))], this.#pid);
  }

  #renderProcesses(samples: readonly MetricSample[], byPid: ReadonlyMap<string, ProcessSummary>): void {
    const latest = new Map<string, MetricSample>();
    for (const s of samples) latest.set(pidKey(s), s);
    const rows = [...latest.entries()].map(([pid, sample]) => ({ pid, sample, summary: byPid.get(pid) }));
    if (rows.length === 0) {
      this.#processRows.replaceChildren(h('tr', null, h('td', { colspan: 8, class: 'muted' }, 'No process sampled in this range.')));
      return;
    }
    syncChildren(this.#processRows, rows, (r) => r.pid, (r) => JSON.stringify(r), (r) => {
      const command = r.summary?.command ?? r.sample.command ?? null;
      const service = r.summary?.service ?? r.sample.service ?? null;
      return h('tr', { 'data-testid': 'process-row', 'data-pid': r.pid },
        h('th', { scope: 'row', 'data-label': 'Process', class: 'primary' },
          h('button', { type: 'button', class: 'link-button', title: 'Show only this process', onclick: () => this.#change(() => (this.#pid = r.pid)) }, r.pid === '?' ? 'unknown' : r.pid),
          command === null ? null : h('span', { class: 'muted' }, ` ${command}`)),
        h('td', { 'data-label': 'Parent' }, r.summary?.ppid ?? r.sample.ppid ?? DASH),
        h('td', { 'data-label': 'Service' }, service ?? DASH),
        h('td', { class: 'num', 'data-label': 'Samples' }, count(r.summary?.samples ?? 0)),
        h('td', { 'data-label': 'Last seen' }, relTime(r.sample.timestamp)),
        h('td', { class: 'num', 'data-label': 'RSS' }, mib(r.sample.rss)),
        h('td', { class: 'num', 'data-label': 'CPU' }, `${(r.sample.cpu_usage_pct / 100).toFixed(1)}%`),
        lostCell(r.sample));
    });
  }
}

/**
 * What the agent in this process lost so far (spans, events and samples it had to drop), from
 * its latest sample; the breakdown and the retries in the tooltip. A dash for a process with no
 * agent of its own (a sidecar's child) or an agent too old to report it.
 */
function lostCell(s: MetricSample): HTMLElement {
  const cell = (content: string | HTMLElement, title?: string): HTMLElement =>
    h('td', { class: 'num', 'data-label': 'Agent lost', 'data-testid': 'process-lost', title }, content);
  if (s.dropped_ring_full == null) return cell(DASH);
  const ring = s.dropped_ring_full;
  const send = s.dropped_send_failed ?? 0;
  const metrics = s.metrics_dropped ?? 0;
  const spoolFull = s.dropped_spool_full ?? 0;
  const lost = ring + send + metrics + spoolFull;
  // Spooled items are not lost: they wait on the agent's disk until the collector takes them.
  const spool = s.spooled == null ? '' : ` · spooled: ${count(s.spooled)}, replayed: ${count(s.replayed ?? 0)}, deleted from a full spool: ${count(spoolFull)}`;
  const title = `ring full: ${count(ring)} · send failed: ${count(send)} · metrics samples: ${count(metrics)} · retries: ${count(s.send_retries ?? 0)}${spool}`;
  return cell(lost === 0 ? '0' : h('span', { class: 'badge badge-warn' }, count(lost)), title);
}

/** Fixed decimals without trailing zeros: 0, 2.5, 12. */
function round(value: number, decimals: number): string {
  return String(Number(value.toFixed(decimals)));
}
