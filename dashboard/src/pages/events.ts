/** #/events: recorded events, newest first, filtered by type, workflow, time and free text. */
import { h, setText, syncChildren } from '../dom.js';
import { clock, count, DASH, shortId } from '../format.js';
import { BasePage } from '../page.js';
import type { PageContext, PageFactory } from '../page.js';
import { href, replaceParams } from '../router.js';
import type { RecordedEvent, WorkflowSummary } from '../types.js';
import { pageHeader, relTime, searchField, selectField, setChoices, stateBox } from '../ui.js';
import type { Choice } from '../ui.js';

const LIMIT = 500;
const PAGE = 100;
const TYPES = ['info', 'warning', 'error', 'metric', 'custom', 'workflow_started', 'workflow_completed', 'workflow_failed', 'step_started', 'step_completed', 'step_failed', 'retry'];
const WINDOWS: ReadonlyArray<Choice & { ms: number | null }> = [
  { value: '15m', label: 'Last 15 min', ms: 15 * 60_000 },
  { value: '1h', label: 'Last hour', ms: 3_600_000 },
  { value: '24h', label: 'Last 24 h', ms: 24 * 3_600_000 },
  { value: 'all', label: 'All kept', ms: null },
];

export const eventsPage: PageFactory = (ctx, location) => new EventsPage(ctx, location.params);

class EventsPage extends BasePage {
  #type: string;
  #workflow: string;
  #window: string;
  #text: string;
  #events: RecordedEvent[] = [];
  #signature = '';
  readonly #workflowSelect: HTMLSelectElement;
  readonly #rows = h('tbody');
  readonly #note = h('p', { class: 'table-note', 'data-testid': 'events-note' });
  #visible = PAGE;
  readonly #more = h('div', { class: 'more' }, h('button', { type: 'button', class: 'button', onclick: () => {
    this.#visible += PAGE;
    this.#render();
  } }, 'Show more'));
  readonly #table: HTMLElement;

  constructor(ctx: PageContext, params: URLSearchParams) {
    super(ctx, 'page-events');
    this.#type = params.get('type') ?? '';
    this.#workflow = params.get('workflow') ?? '';
    this.#window = WINDOWS.some((w) => w.value === params.get('window')) ? params.get('window')! : 'all';
    this.#text = params.get('q') ?? '';
    const type = selectField('Type', [{ value: '', label: 'All types' }, ...TYPES.map((t) => ({ value: t, label: t.replace('_', ' ') }))], this.#type, (v) => this.#change(() => (this.#type = v), true), 'type-select');
    const workflow = selectField('Workflow', [{ value: '', label: 'All workflows' }], this.#workflow, (v) => this.#change(() => (this.#workflow = v), true), 'workflow-select');
    const window = selectField('Time', WINDOWS, this.#window, (v) => this.#change(() => (this.#window = v), true), 'window-select');
    const search = searchField('Search', this.#text, 'Name or message', (v) => this.#change(() => (this.#text = v), false), 'event-search');
    this.#workflowSelect = workflow.select;
    this.setHeader(
      pageHeader('Events', { subtitle: 'Events recorded with event() and by the lifecycle of traced workflows.' }),
      h('div', { class: 'toolbar' }, search, type.field, workflow.field, window.field));
    this.#table = h('div', { class: 'table-wrap card' },
      h('table', { class: 'data-table stack-on-phone events-table', 'data-testid': 'events-table' },
        h('caption', { class: 'visually-hidden' }, 'Events, newest first'),
        h('thead', null, h('tr', null, ...['Time', 'Severity', 'Type', 'Name', 'Message', 'Workflow', 'Trace'].map((label) => h('th', { scope: 'col' }, label)))),
        this.#rows));
    document.title = `Events · ${ctx.slug} · teracron`;
  }

  #filters(): string {
    return `${this.#type}|${this.#workflow}|${this.#window}`;
  }

  #change(apply: () => void, refetch: boolean): void {
    apply();
    this.#visible = PAGE;
    replaceParams({ type: this.#type, workflow: this.#workflow, window: this.#window === 'all' ? null : this.#window, q: this.#text });
    if (refetch) this.ctx.refreshNow();
    else if (this.loaded) this.#render();
  }

  async refresh(): Promise<void> {
    const filters = this.#filters();
    const windowMs = WINDOWS.find((w) => w.value === this.#window)!.ms;
    const [answer, workflows] = await Promise.all([
      this.ctx.api.get<{ events: RecordedEvent[] }>('/api/v1/recorded-events', {
        limit: LIMIT,
        type: this.#type,
        workflow: this.#workflow,
        since: windowMs === null ? null : new Date(Date.now() - windowMs).toISOString(),
      }),
      this.ctx.api.get<{ workflows: WorkflowSummary[] }>('/api/v1/workflows', { limit: 1000 }),
    ]);
    if (!this.alive || filters !== this.#filters()) return;
    this.markLoaded();
    const names = workflows.workflows.map((w) => w.workflow).sort();
    if (this.#workflow !== '' && !names.includes(this.#workflow)) names.push(this.#workflow);
    setChoices(this.#workflowSelect, [{ value: '', label: 'All workflows' }, ...names.map((n) => ({ value: n, label: n }))], this.#workflow);
    const signature = `${filters}|${JSON.stringify(answer.events)}`;
    if (signature === this.#signature) return;
    this.#signature = signature;
    this.#events = answer.events;
    this.#render();
  }

  #render(): void {
    const needle = this.#text.trim().toLowerCase();
    const shown = needle === '' ? this.#events : this.#events.filter((e) => e.name.toLowerCase().includes(needle) || (e.message ?? '').toLowerCase().includes(needle));
    if (shown.length === 0) {
      const filtered = needle !== '' || this.#filters() !== '||all';
      this.body.replaceChildren(stateBox('empty', filtered ? 'No events match these filters' : 'No events yet',
        filtered ? 'Clear a filter or widen the time range.' : 'Record one with event({ name, type, message }) or log a workflow\'s lifecycle.'));
      return;
    }
    if (this.#table.parentElement !== this.body) this.body.replaceChildren(this.#table, this.#more, this.#note);
    const visible = shown.slice(0, this.#visible);
    syncChildren(this.#rows, visible, eventKey, (e) => JSON.stringify(e), row);
    this.#more.hidden = visible.length === shown.length;
    const matching = shown.length === this.#events.length ? '' : `, ${count(shown.length)} matching the search`;
    setText(this.#note, `Showing ${count(visible.length)} of the newest ${count(this.#events.length)} event${this.#events.length === 1 ? '' : 's'}${matching}${this.#events.length === LIMIT ? ` (at most ${LIMIT} are fetched)` : ''}.`);
  }
}

function eventKey(e: RecordedEvent): string {
  return `${e.timestamp}|${e.span_id ?? ''}|${e.name}|${e.event_type}|${e.message ?? ''}`;
}

function severityTone(severity: string): string {
  const s = severity.toLowerCase();
  if (s === 'error' || s === 'critical' || s === 'fatal') return 'bad';
  if (s === 'warning' || s === 'warn') return 'warn';
  if (s === 'debug') return 'muted';
  return 'info';
}

function row(e: RecordedEvent): HTMLElement {
  const tone = severityTone(e.severity);
  const metadata = Object.entries(e.metadata ?? {});
  return h('tr', { 'data-testid': 'event-row', 'data-type': e.event_type, 'data-timestamp': e.timestamp, class: `sev-row-${tone}` },
    h('td', { 'data-label': 'Time', class: 'time' }, h('span', { class: 'clock' }, clock(e.timestamp)), ' ', h('span', { class: 'muted small' }, relTime(e.timestamp))),
    h('td', { 'data-label': 'Severity' }, h('span', { class: `badge badge-${tone === 'bad' ? 'bad' : tone === 'warn' ? 'warn' : tone === 'muted' ? 'muted' : 'info'}` }, e.severity || DASH)),
    h('td', { 'data-label': 'Type' }, h('span', { class: 'tag' }, e.event_type)),
    h('td', { 'data-label': 'Name', class: 'primary' }, e.name),
    h('td', { 'data-label': 'Message', class: 'wide' },
      e.message ?? '',
      metadata.length > 0 ? h('span', { class: 'meta-inline' }, metadata.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join('  ')) : null),
    h('td', { 'data-label': 'Workflow' }, e.workflow === null ? DASH : h('a', { href: href(['workflows', e.workflow]) }, e.workflow)),
    h('td', { 'data-label': 'Trace' }, e.trace_id === null ? DASH : h('a', { class: 'mono', href: href(['traces', e.trace_id], { span: e.span_id }) }, shortId(e.trace_id))));
}
