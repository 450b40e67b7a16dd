/**
 * #/issues?status=&sort=: errors grouped by fingerprint, each with its count, a sparkline of the
 * last 24 hours, when it was first and last seen and where. The list answer carries no hourly
 * counts, so each row's sparkline comes from the issue's own answer: fetched a few at a time,
 * and again only when the issue's count or the hour changed.
 */
import { h, setText, syncChildren } from '../dom.js';
import { count } from '../format.js';
import { issueBadges } from '../issue-ui.js';
import { BasePage } from '../page.js';
import type { PageContext, PageFactory } from '../page.js';
import { href, navigate, replaceParams } from '../router.js';
import { sparkline } from '../sparkline.js';
import type { IssueDetail, IssueSummary } from '../types.js';
import { pageHeader, relTime, segmented, stateBox } from '../ui.js';
import type { Choice } from '../ui.js';

const LIMIT = 50;
const SPARK_FETCHES = 3;
const HOUR = 3_600_000;
const STATUSES: readonly Choice[] = [
  { value: 'open', label: 'Open' },
  { value: 'resolved', label: 'Resolved' },
  { value: 'ignored', label: 'Ignored' },
  { value: 'all', label: 'All' },
];
const SORTS: readonly Choice[] = [
  { value: 'last_seen', label: 'Last seen' },
  { value: 'count', label: 'Most events' },
];

export const issuesPage: PageFactory = (ctx, location) => new IssuesPage(ctx, location.params);

interface Spark {
  /** The count and hour it was drawn for. */
  key: string;
  counts: number[];
}

class IssuesPage extends BasePage {
  #status: string;
  #sort: string;
  #shownFor: string | null = null;
  #rows: HTMLTableSectionElement | null = null;
  readonly #summary = h('span');
  readonly #sparks = new Map<string, Spark>();
  readonly #queue: IssueSummary[] = [];
  #fetching = 0;

  constructor(ctx: PageContext, params: URLSearchParams) {
    super(ctx, 'page-issues');
    this.#status = STATUSES.some((s) => s.value === params.get('status')) ? params.get('status')! : 'open';
    this.#sort = SORTS.some((s) => s.value === params.get('sort')) ? params.get('sort')! : 'last_seen';
    const status = segmented('Issue status', STATUSES, this.#status, (v) => this.#change(() => (this.#status = v)), 'issue-status-filter');
    const sort = segmented('Sort issues by', SORTS, this.#sort, (v) => this.#change(() => (this.#sort = v)), 'issue-sort');
    this.setHeader(
      pageHeader('Issues', { subtitle: this.#summary }),
      h('div', { class: 'toolbar' },
        h('div', { class: 'field field-inline' }, h('span', { class: 'field-label', 'aria-hidden': 'true' }, 'Status'), status),
        h('div', { class: 'field field-inline' }, h('span', { class: 'field-label', 'aria-hidden': 'true' }, 'Sort by'), sort)));
    setText(this.#summary, 'Errors grouped by type, message and the code that threw them.');
    document.title = `Issues · ${ctx.slug} · teracron`;
  }

  #filters(): string {
    return `${this.#status}|${this.#sort}`;
  }

  #change(apply: () => void): void {
    apply();
    replaceParams({ status: this.#status === 'open' ? null : this.#status, sort: this.#sort === 'last_seen' ? null : this.#sort });
    this.ctx.refreshNow();
  }

  async refresh(): Promise<void> {
    const filters = this.#filters();
    const { issues } = await this.ctx.api.get<{ issues: IssueSummary[] }>('/api/v1/issues', {
      status: this.#status === 'all' ? null : this.#status,
      sort: this.#sort,
      limit: LIMIT,
    });
    if (!this.alive || filters !== this.#filters()) return;
    this.markLoaded();
    const label = STATUSES.find((s) => s.value === this.#status)!.label.toLowerCase();
    const total = issues.reduce((sum, i) => sum + i.count, 0);
    setText(this.#summary, issues.length === 0
      ? 'Errors grouped by type, message and the code that threw them.'
      : `${count(issues.length)}${issues.length === LIMIT ? '+' : ''} ${this.#status === 'all' ? '' : `${label} `}issue${issues.length === 1 ? '' : 's'} · ${count(total)} event${total === 1 ? '' : 's'}`);
    if (issues.length === 0) {
      if (this.#shownFor !== `empty:${filters}`) {
        this.body.replaceChildren(this.#status === 'open'
          ? stateBox('empty', 'No open issues', 'Errors and fatal logs, and failed spans, are grouped here by fingerprint as they arrive.')
          : stateBox('empty', `No ${this.#status === 'all' ? '' : `${label} `}issues`, 'Choose another status to see the others.'));
      }
      this.#shownFor = `empty:${filters}`;
      this.#rows = null;
      return;
    }
    if (this.#rows === null || this.#shownFor !== filters) {
      this.#rows = h('tbody');
      this.body.replaceChildren(table(this.#rows));
    }
    this.#shownFor = filters;
    syncChildren(this.#rows, issues, (i) => i.fingerprint, (i) => JSON.stringify(i), (i) => row(i, this.#sparks.get(i.fingerprint)));
    this.#queueSparks(issues);
  }

  #queueSparks(issues: readonly IssueSummary[]): void {
    const hour = Math.floor(Date.now() / HOUR);
    this.#queue.length = 0;
    for (const issue of issues) {
      if (this.#sparks.get(issue.fingerprint)?.key !== sparkKey(issue, hour)) this.#queue.push(issue);
    }
    while (this.#fetching < SPARK_FETCHES && this.#queue.length > 0) void this.#fetchSpark();
  }

  async #fetchSpark(): Promise<void> {
    this.#fetching++;
    try {
      for (let issue = this.#queue.shift(); issue !== undefined && this.alive; issue = this.#queue.shift()) {
        const key = sparkKey(issue, Math.floor(Date.now() / HOUR));
        const detail = await this.ctx.api.get<IssueDetail>(`/api/v1/issues/${encodeURIComponent(issue.fingerprint)}`, { hours: 24 }).catch(() => null);
        if (detail === null || !this.alive) continue;
        const spark = { key, counts: detail.hourly.map((h) => h.count) };
        this.#sparks.set(issue.fingerprint, spark);
        const cell = this.#rows?.querySelector<HTMLElement>(`[data-spark="${CSS.escape(issue.fingerprint)}"]`);
        cell?.replaceChildren(sparkOf(spark));
      }
    } finally {
      this.#fetching--;
    }
  }
}

function sparkKey(issue: IssueSummary, hour: number): string {
  return `${issue.count}|${issue.last_seen}|${hour}`;
}

function sparkOf(spark: Spark | undefined): Node {
  if (spark === undefined) return h('span', { class: 'sparkline-empty', 'aria-hidden': 'true' });
  const total = spark.counts.reduce((a, b) => a + b, 0);
  return sparkline(spark.counts, `${count(total)} event${total === 1 ? '' : 's'} in the last 24 hours`);
}

function table(rows: HTMLTableSectionElement): HTMLElement {
  const headings: Array<[string, string]> = [['Issue', 'wide'], ['Events', 'num'], ['Last 24 h', 'spark'], ['Services', ''], ['First seen', 'time'], ['Last seen', 'time']];
  return h('div', { class: 'table-wrap card' },
    h('table', { class: 'data-table stack-on-phone issues-table', 'data-testid': 'issues-table' },
      h('caption', { class: 'visually-hidden' }, 'Issues'),
      h('thead', null, h('tr', null, ...headings.map(([label, cls]) => h('th', { scope: 'col', class: cls }, label)))),
      rows));
}

function row(issue: IssueSummary, spark: Spark | undefined): HTMLElement {
  const target = href(['issues', issue.fingerprint]);
  return h('tr', {
    class: `row-link${issue.status === 'open' ? ' is-failed' : ''}`,
    'data-testid': 'issue-row',
    'data-fingerprint': issue.fingerprint,
    'data-status': issue.status,
    onclick: (event) => {
      if (!(event.target instanceof HTMLAnchorElement)) navigate(target);
    },
  },
  h('th', { scope: 'row', class: 'primary wide issue-cell', 'data-label': 'Issue' },
    h('a', { href: target, class: 'issue-type', 'data-testid': 'issue-type' }, issue.type),
    ' ', issueBadges(issue),
    h('span', { class: 'issue-message', 'data-testid': 'issue-message' }, issue.message),
    // Where it was thrown tells apart issues of one type and message.
    issue.frames.length > 0 ? h('span', { class: 'issue-culprit', 'data-testid': 'issue-culprit' }, `in ${issue.frames[0]}`) : null),
  h('td', { class: 'num', 'data-label': 'Events', 'data-testid': 'issue-count', 'data-value': issue.count }, count(issue.count)),
  h('td', { class: 'spark', 'data-label': 'Last 24 h', 'data-spark': issue.fingerprint }, sparkOf(spark)),
  h('td', { 'data-label': 'Services' }, h('div', { class: 'tag-list', 'data-testid': 'issue-services' }, ...issue.services.map((s) => h('span', { class: 'tag' }, s)))),
  h('td', { class: 'time', 'data-label': 'First seen' }, relTime(issue.first_seen)),
  h('td', { class: 'time', 'data-label': 'Last seen' }, relTime(issue.last_seen)));
}
