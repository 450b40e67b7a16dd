/** #/workflows: one row per workflow with run counts, failure rate and duration percentiles. */
import { h, setText, syncChildren } from '../dom.js';
import { count, duration, percent } from '../format.js';
import { BasePage } from '../page.js';
import type { PageContext, PageFactory } from '../page.js';
import { href, navigate } from '../router.js';
import type { WorkflowSummary } from '../types.js';
import { pageHeader, relTime, stateBox } from '../ui.js';

export const workflowsPage: PageFactory = (ctx) => new WorkflowsPage(ctx);

class WorkflowsPage extends BasePage {
  readonly #summary = h('span');
  #rows: HTMLTableSectionElement | null = null;
  #empty = false;

  constructor(ctx: PageContext) {
    super(ctx, 'page-workflows');
    this.setHeader(pageHeader('Workflows', { subtitle: this.#summary }));
    document.title = `Workflows · ${ctx.slug} · teracron`;
  }

  async refresh(): Promise<void> {
    const { workflows } = await this.ctx.api.get<{ workflows: WorkflowSummary[] }>('/api/v1/workflows', { limit: 1000 });
    if (!this.alive) return;
    this.markLoaded();
    if (workflows.length === 0) {
      if (!this.#empty) this.body.replaceChildren(emptyState());
      this.#empty = true;
      this.#rows = null;
      setText(this.#summary, 'Runs grouped by workflow name.');
      return;
    }
    this.#empty = false;
    if (this.#rows === null) {
      this.#rows = h('tbody');
      this.body.replaceChildren(table(this.#rows));
    }
    syncChildren(this.#rows, workflows, (w) => w.workflow, (w) => JSON.stringify(w), row);
    const runs = workflows.reduce((sum, w) => sum + w.total_runs, 0);
    const failed = workflows.reduce((sum, w) => sum + w.failed_runs, 0);
    setText(this.#summary, `${count(workflows.length)} workflow${workflows.length === 1 ? '' : 's'} · ${count(runs)} runs · ${count(failed)} failed (${percent(failed, runs)})`);
  }
}

function emptyState(): HTMLElement {
  return stateBox('empty', 'No workflows yet',
    h('p', null, 'Point an agent at this collector and wrapped calls show up here within seconds:'),
    h('pre', { class: 'code' }, `TERACRON_DOMAIN=${location.origin} TERACRON_API_KEY=tcn_… node --import teracron/auto app.js`));
}

function table(rows: HTMLTableSectionElement): HTMLElement {
  const headings: Array<[string, string]> = [
    ['Workflow', ''], ['Runs', 'num'], ['Failures', 'num'], ['Failure rate', 'rate'], ['p50', 'num'], ['p95', 'num'], ['p99', 'num'], ['Last run', 'time'],
  ];
  return h('div', { class: 'table-wrap card' },
    h('table', { class: 'data-table stack-on-phone', 'data-testid': 'workflows-table' },
      h('caption', { class: 'visually-hidden' }, 'Workflows, most recently run first'),
      h('thead', null, h('tr', null, ...headings.map(([label, cls]) => h('th', { scope: 'col', class: cls }, label)))),
      rows));
}

function row(w: WorkflowSummary): HTMLElement {
  const target = href(['workflows', w.workflow]);
  const rate = w.total_runs === 0 ? 0 : w.failed_runs / w.total_runs;
  const fill = h('span', { class: 'rate-fill' });
  fill.style.width = `${Math.min(100, rate * 100)}%`;
  return h('tr', {
    class: 'row-link',
    'data-testid': 'workflow-row',
    'data-workflow': w.workflow,
    onclick: (event) => {
      if (!(event.target instanceof HTMLAnchorElement)) navigate(target);
    },
  },
  h('th', { scope: 'row', 'data-label': 'Workflow', class: 'primary' }, h('a', { href: target }, w.workflow)),
  h('td', { class: 'num', 'data-label': 'Runs', 'data-testid': 'runs', 'data-value': w.total_runs }, count(w.total_runs)),
  h('td', { class: `num${w.failed_runs > 0 ? ' text-bad' : ''}`, 'data-label': 'Failures', 'data-testid': 'failures', 'data-value': w.failed_runs }, count(w.failed_runs)),
  h('td', { class: 'rate', 'data-label': 'Failure rate', 'data-testid': 'failure-rate' },
    h('span', { class: `rate-bar${rate > 0 ? ' has-failures' : ''}`, 'aria-hidden': 'true' }, fill),
    h('span', { class: 'rate-text' }, percent(w.failed_runs, w.total_runs))),
  h('td', { class: 'num', 'data-label': 'p50' }, duration(w.p50_duration_ms)),
  h('td', { class: 'num', 'data-label': 'p95' }, duration(w.p95_duration_ms)),
  h('td', { class: 'num', 'data-label': 'p99' }, duration(w.p99_duration_ms)),
  h('td', { class: 'time', 'data-label': 'Last run' }, relTime(w.last_run_at)));
}
