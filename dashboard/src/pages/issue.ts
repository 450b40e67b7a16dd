/**
 * #/issues/<fingerprint>?hours=: one issue: its status (set here with Resolve, Ignore and
 * Reopen), its events per hour, the latest stack with the frames of its fingerprint marked, and
 * its latest occurrences, each linking to its trace.
 */
import { TimeChart } from '../chart.js';
import { append, h, setText, syncChildren } from '../dom.js';
import { clockMs, count, DASH, dateTime, shortId } from '../format.js';
import { issueBadges } from '../issue-ui.js';
import { levelBadge } from '../log-view.js';
import { BasePage } from '../page.js';
import type { PageContext, PageFactory } from '../page.js';
import { href, replaceParams } from '../router.js';
import { stackLegend, stackView } from '../stack-view.js';
import type { IssueDetail, IssueOccurrence, IssueStatus, IssueSummary } from '../types.js';
import { pageHeader, relTime, segmented } from '../ui.js';
import type { Choice } from '../ui.js';

const RANGES: ReadonlyArray<Choice & { hours: number }> = [
  { value: '24', label: '24 h', hours: 24 },
  { value: '168', label: '7 days', hours: 168 },
  { value: '720', label: '30 days', hours: 720 },
];

/** What each status offers: the changes that make sense from it. */
const ACTIONS: Record<IssueStatus, Array<{ to: IssueStatus; label: string }>> = {
  open: [{ to: 'resolved', label: 'Resolve' }, { to: 'ignored', label: 'Ignore' }],
  resolved: [{ to: 'open', label: 'Reopen' }, { to: 'ignored', label: 'Ignore' }],
  ignored: [{ to: 'open', label: 'Reopen' }, { to: 'resolved', label: 'Resolve' }],
};

export const issuePage: PageFactory = (ctx, location) => new IssuePage(ctx, location.segments[1] ?? '', location.params.get('hours'));

class IssuePage extends BasePage {
  readonly #fingerprint: string;
  #hours: string;
  #signature = '';
  #issue: IssueSummary | null = null;
  #busy = false;
  readonly #header: HTMLElement;
  readonly #actions = h('div', { class: 'issue-actions', role: 'group', 'aria-label': 'Change the issue\'s status' });
  readonly #actionError = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'issue-action-error' });
  readonly #facts = h('div', { class: 'trace-summary', 'data-testid': 'issue-facts' });
  readonly #chart = new TimeChart('issue-hourly', 'Events per hour', '', (v) => (Number.isInteger(v) ? count(v) : ''), { bars: true, height: 180 });
  readonly #latest = h('section', { class: 'card issue-latest', 'aria-labelledby': 'issue-latest-title' });
  readonly #occurrences = h('tbody');
  readonly #content: HTMLElement;

  constructor(ctx: PageContext, fingerprint: string, hours: string | null) {
    super(ctx, 'page-issue');
    this.#fingerprint = fingerprint;
    this.#hours = RANGES.some((r) => r.value === hours) ? hours! : '24';
    const range = segmented('Chart range', RANGES, this.#hours, (v) => {
      this.#hours = v;
      replaceParams({ hours: v === '24' ? null : v });
      this.ctx.refreshNow();
    }, 'issue-range');
    this.#header = pageHeader('Issue', {
      crumbs: [['Issues', href(['issues'])]],
      subtitle: h('span', { class: 'issue-subtitle', 'data-testid': 'issue-detail-message' }),
      actions: h('div', { class: 'issue-header-actions' }, this.#actions),
    });
    this.setHeader(this.#header);
    this.#header.append(this.#actionError);
    this.#content = h('div', { class: 'issue-content' },
      this.#facts,
      h('div', { class: 'issue-chart-head' }, h('h2', { class: 'section-title' }, 'Events over time'), range),
      this.#chart.element,
      this.#latest,
      h('h2', { class: 'section-title', id: 'issue-occurrences-title' }, 'Recent occurrences'),
      h('div', { class: 'table-wrap card' },
        h('table', { class: 'data-table stack-on-phone', 'data-testid': 'occurrences-table', 'aria-labelledby': 'issue-occurrences-title' },
          h('thead', null, h('tr', null, ...['Time', 'Source', 'Service', 'Message', 'Trace'].map((label) => h('th', { scope: 'col' }, label)))),
          this.#occurrences)));
    document.title = `Issue ${fingerprint.slice(0, 8)} · ${ctx.slug} · teracron`;
  }

  override destroy(): void {
    super.destroy();
    this.#chart.destroy();
  }

  async refresh(): Promise<void> {
    const hours = this.#hours;
    const answer = await this.ctx.api.get<IssueDetail>(`/api/v1/issues/${encodeURIComponent(this.#fingerprint)}`, { hours });
    if (!this.alive || hours !== this.#hours) return;
    this.markLoaded();
    const signature = `${hours}|${JSON.stringify(answer)}`;
    if (signature === this.#signature) return;
    this.#signature = signature;
    if (this.#content.parentElement !== this.body) this.body.replaceChildren(this.#content);
    this.#show(answer.issue);
    const range = RANGES.find((r) => r.value === hours)!;
    setText(this.#chart.element.querySelector('.chart-unit')!, `last ${range.label}`);
    this.#chart.element.dataset.total = String(answer.hourly.reduce((sum, b) => sum + b.count, 0));
    this.#chart.update({
      xs: answer.hourly.map((b) => b.hour / 1000),
      series: [{ label: 'Events', color: '#dc2626', values: answer.hourly.map((b) => b.count) }],
      points: answer.hourly.length,
    });
    this.#renderLatest(answer);
    syncChildren(this.#occurrences, answer.occurrences, occurrenceKey, (o) => JSON.stringify(o), occurrenceRow);
  }

  /** The parts that follow the status: shown again at once when a button changes it. */
  #show(issue: IssueSummary): void {
    this.#issue = issue;
    setText(this.#header.querySelector('.page-title')!, issue.type);
    setText(this.#header.querySelector('.issue-subtitle')!, issue.message);
    document.title = `${issue.type} · ${this.ctx.slug} · teracron`;
    this.#facts.replaceChildren(
      fact('Status', issueBadges(issue)),
      fact('Events', h('span', { 'data-testid': 'issue-detail-count', 'data-value': issue.count }, count(issue.count))),
      fact('First seen', h('span', { title: dateTime(issue.first_seen) }, relTime(issue.first_seen))),
      fact('Last seen', h('span', { title: dateTime(issue.last_seen) }, relTime(issue.last_seen))),
      fact('Services', issue.services.length === 0 ? DASH : issue.services.join(', ')),
      fact('Fingerprint', h('span', { class: 'mono', title: issue.fingerprint }, shortId(issue.fingerprint))));
    this.#actions.replaceChildren(...ACTIONS[issue.status].map(({ to, label }) =>
      h('button', {
        type: 'button',
        class: `button${to === 'resolved' ? ' button-primary' : ''}`,
        'data-testid': `issue-${label.toLowerCase()}`,
        disabled: this.#busy,
        onclick: () => void this.#setStatus(to),
      }, label)));
  }

  async #setStatus(status: IssueStatus): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    setText(this.#actionError, '');
    for (const button of this.#actions.querySelectorAll('button')) button.disabled = true;
    try {
      const { issue } = await this.ctx.api.patch<{ issue: IssueSummary }>(`/api/v1/issues/${encodeURIComponent(this.#fingerprint)}`, { status });
      if (!this.alive) return;
      this.#busy = false;
      // The next refresh draws everything again from the issue's new state.
      this.#signature = '';
      this.#show(issue);
      this.#actions.querySelector('button')?.focus();
    } catch (error) {
      if (!this.alive) return;
      this.#busy = false;
      if (this.#issue !== null) this.#show(this.#issue);
      const message = error instanceof Error ? error.message : String(error);
      setText(this.#actionError, `Could not change the status: ${message}`);
    }
  }

  #renderLatest(answer: IssueDetail): void {
    const { issue } = answer;
    const message = `${issue.type}: ${answer.latest_message}`;
    // A stack opens with the message already; say it apart only when it does not.
    const saysMessage = answer.latest_stack !== null && answer.latest_stack.split('\n', 1)[0]!.trim() === message;
    this.#latest.replaceChildren();
    append(this.#latest, [
      h('h2', { class: 'panel-title', id: 'issue-latest-title' }, 'Latest occurrence'),
      saysMessage ? null : h('p', { class: 'error-box-text issue-latest-message', 'data-testid': 'issue-latest-message' }, message),
      answer.latest_stack === null
        ? h('p', { class: 'muted' }, issue.frames.length > 0 ? 'The latest occurrence carried no stack; the fingerprint was made of:' : 'The latest occurrence carried no stack.')
        : h('div', null, stackLegend(issue.frames.length > 0), stackView(answer.latest_stack, issue.frames)),
      answer.latest_stack === null && issue.frames.length > 0 ? h('ol', { class: 'issue-frames mono' }, ...issue.frames.map((f) => h('li', null, f))) : null,
    ]);
  }
}

function fact(label: string, value: Node | string): HTMLElement {
  return h('div', { class: 'fact' }, h('span', { class: 'fact-label' }, label), h('span', { class: 'fact-value' }, value));
}

function occurrenceKey(o: IssueOccurrence): string {
  return `${o.timestamp}|${o.source}|${o.trace_id ?? ''}|${o.span_id ?? ''}|${o.message}`;
}

function occurrenceRow(o: IssueOccurrence): HTMLElement {
  return h('tr', { 'data-testid': 'occurrence-row', 'data-timestamp': o.timestamp },
    h('td', { class: 'time', 'data-label': 'Time' }, h('span', { class: 'clock', title: dateTime(o.timestamp) }, clockMs(o.timestamp)), ' ', h('span', { class: 'muted small' }, relTime(o.timestamp))),
    h('td', { 'data-label': 'Source' }, o.source === 'log' && o.level !== null ? levelBadge(o.level) : h('span', { class: 'tag' }, 'span')),
    h('td', { 'data-label': 'Service' }, o.service ?? DASH),
    h('td', { class: 'wide', 'data-label': 'Message' }, o.message),
    h('td', { 'data-label': 'Trace' }, o.trace_id === null ? DASH
      : h('a', { class: 'mono', href: href(['traces', o.trace_id], { span: o.span_id }), 'aria-label': `Trace ${o.trace_id}`, 'data-testid': 'occurrence-trace' }, shortId(o.trace_id))));
}
