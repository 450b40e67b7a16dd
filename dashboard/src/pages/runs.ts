/** #/workflows/<name>?status=: the newest runs of one workflow, each opening its trace. */
import { h, setText, syncChildren } from '../dom.js';
import { count, DASH, duration, percent, shortId } from '../format.js';
import { BasePage } from '../page.js';
import type { PageContext, PageFactory } from '../page.js';
import { href, navigate, replaceParams } from '../router.js';
import type { RunSummary, WorkflowSummary } from '../types.js';
import { pageHeader, relTime, segmented, stateBox, statusBadge } from '../ui.js';

const LIMIT = 200;
const FILTERS = [
  { value: '', label: 'All' },
  { value: 'succeeded', label: 'Succeeded' },
  { value: 'failed', label: 'Failed' },
  { value: 'in_progress', label: 'In progress' },
];

export const runsPage: PageFactory = (ctx, location) => new RunsPage(ctx, location.segments[1] ?? '', location.params.get('status') ?? '');

class RunsPage extends BasePage {
  readonly #workflow: string;
  #status: string;
  readonly #summary = h('span');
  #rows: HTMLTableSectionElement | null = null;
  #shownFor: string | null = null;

  constructor(ctx: PageContext, workflow: string, status: string) {
    super(ctx, 'page-runs');
    this.#workflow = workflow;
    this.#status = FILTERS.some((f) => f.value === status) ? status : '';
    const filter = segmented('Run status', FILTERS, this.#status, (value) => {
      this.#status = value;
      replaceParams({ status: value });
      this.ctx.refreshNow();
    }, 'status-filter');
    this.setHeader(pageHeader(workflow, { crumbs: [['Workflows', href(['workflows'])]], subtitle: this.#summary, actions: filter }));
    document.title = `${workflow} · ${ctx.slug} · teracron`;
  }

  async refresh(): Promise<void> {
    const status = this.#status;
    const [runs, workflows] = await Promise.all([
      this.ctx.api.get<{ events: RunSummary[] }>('/api/v1/events', { workflow: this.#workflow, status, limit: LIMIT }),
      this.ctx.api.get<{ workflows: WorkflowSummary[] }>('/api/v1/workflows', { limit: 1000 }),
    ]);
    if (!this.alive || status !== this.#status) return;
    this.markLoaded();
    const summary = workflows.workflows.find((w) => w.workflow === this.#workflow);
    setText(this.#summary, summary === undefined ? 'No runs recorded yet.' : summaryText(summary));

    if (runs.events.length === 0) {
      if (this.#shownFor !== `empty:${status}`) {
        const label = FILTERS.find((f) => f.value === status)?.label.toLowerCase();
        this.body.replaceChildren(stateBox('empty', status === '' ? `No runs of ${this.#workflow} yet` : `No ${label} runs of ${this.#workflow}`,
          status === '' ? 'Runs appear here as the agent ships them.' : 'Choose another status to see the other runs.'));
      }
      this.#shownFor = `empty:${status}`;
      this.#rows = null;
      return;
    }
    if (this.#rows === null || this.#shownFor !== status) {
      this.#rows = h('tbody');
      this.body.replaceChildren(table(this.#rows), h('p', { class: 'table-note', 'data-testid': 'runs-note' }));
    }
    this.#shownFor = status;
    syncChildren(this.#rows, runs.events, (r) => r.trace_id, (r) => JSON.stringify(r), row);
    const note = this.body.querySelector('.table-note');
    if (note !== null) setText(note, runs.events.length === LIMIT ? `Showing the newest ${LIMIT} runs.` : `${count(runs.events.length)} run${runs.events.length === 1 ? '' : 's'}.`);
  }
}

function summaryText(w: WorkflowSummary): string {
  return `${count(w.total_runs)} runs · ${count(w.failed_runs)} failed (${percent(w.failed_runs, w.total_runs)}) · p50 ${duration(w.p50_duration_ms)} · p95 ${duration(w.p95_duration_ms)} · p99 ${duration(w.p99_duration_ms)}`;
}

function table(rows: HTMLTableSectionElement): HTMLElement {
  const headings: Array<[string, string]> = [['Status', ''], ['Started', 'time'], ['Duration', 'num'], ['Spans', 'num'], ['Operation', ''], ['Error', 'wide'], ['Trace', '']];
  return h('div', { class: 'table-wrap card' },
    h('table', { class: 'data-table stack-on-phone', 'data-testid': 'runs-table' },
      h('caption', { class: 'visually-hidden' }, 'Runs, newest first'),
      h('thead', null, h('tr', null, ...headings.map(([label, cls]) => h('th', { scope: 'col', class: cls }, label)))),
      rows));
}

function row(r: RunSummary): HTMLElement {
  const target = href(['traces', r.trace_id]);
  return h('tr', {
    class: `row-link${r.status === 'failed' ? ' is-failed' : ''}`,
    'data-testid': 'run-row',
    'data-trace-id': r.trace_id,
    'data-status': r.status,
    onclick: (event) => {
      if (!(event.target instanceof HTMLAnchorElement)) navigate(target);
    },
  },
  h('td', { 'data-label': 'Status' }, statusBadge(r.status)),
  h('td', { class: 'time', 'data-label': 'Started' }, relTime(r.started_at)),
  h('td', { class: 'num', 'data-label': 'Duration' }, r.status === 'in_progress' ? DASH : duration(r.duration_ms)),
  h('td', { class: 'num', 'data-label': 'Spans' }, count(r.span_count)),
  h('td', { 'data-label': 'Operation', class: 'operation' }, r.operation),
  h('td', { class: 'wide error-text', 'data-label': 'Error' }, r.error_summary ?? ''),
  h('td', { 'data-label': 'Trace' }, h('a', { href: target, class: 'mono', 'aria-label': `Trace ${r.trace_id}` }, shortId(r.trace_id))));
}
