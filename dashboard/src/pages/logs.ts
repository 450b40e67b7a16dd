/**
 * #/logs?level=&service=&module=&q=&trace=&live=: the project's logs, newest first. The filters
 * go to the API (and into the address, so a link reproduces the view); "Load older" follows the
 * API's cursor. Every refresh reads the newest page: with live tail on, the logs not yet shown
 * go on top; with it off, a button says how many are waiting, so the rows hold still while read.
 */
import { h, setText } from '../dom.js';
import { clockMs, count, DASH, shortId } from '../format.js';
import { levelBadge, LogTable, messageCell } from '../log-view.js';
import type { LogColumn } from '../log-view.js';
import { BasePage } from '../page.js';
import type { PageContext, PageFactory } from '../page.js';
import { href, replaceParams } from '../router.js';
import type { LogPage, StoredLog } from '../types.js';
import { pageHeader, relTime, searchField, selectField, setChoices, stateBox } from '../ui.js';
import type { Choice } from '../ui.js';

const PAGE_SIZE = 100;
const MAX_ROWS = 2000;
const TYPING_MS = 300;
const TRACE_ID = /^[0-9a-f]{32}$/;
const LEVELS: readonly Choice[] = [
  { value: '', label: 'All levels' },
  { value: 'info', label: 'Info and above' },
  { value: 'warn', label: 'Warn and above' },
  { value: 'error', label: 'Error and above' },
  { value: 'fatal', label: 'Fatal only' },
];

interface Filters {
  level: string;
  service: string;
  module: string;
  q: string;
  trace: string;
}

/** The newest page read while live tail is off, and which of its logs are not shown yet. */
interface Waiting {
  page: LogPage;
  fresh: StoredLog[];
}

export const logsPage: PageFactory = (ctx, location) => new LogsPage(ctx, location.params);

const COLUMNS: readonly LogColumn[] = [
  { label: 'Time', className: 'time', cell: (l) => h('span', null, h('span', { class: 'clock' }, clockMs(l.timestamp)), ' ', h('span', { class: 'muted small' }, relTime(l.timestamp))) },
  { label: 'Level', cell: (l) => levelBadge(l.level) },
  { label: 'Service', className: 'log-service', cell: (l) => l.service ?? DASH },
  { label: 'Module', className: 'log-module', cell: (l) => (l.module === null ? DASH : h('span', { class: 'tag' }, l.module)) },
  { label: 'Message', className: 'wide', cell: messageCell },
  { label: 'Trace', cell: (l) => (l.trace_id === null ? DASH : h('a', { class: 'mono', href: href(['traces', l.trace_id], { span: l.span_id }), 'aria-label': `Trace ${l.trace_id}`, 'data-testid': 'log-trace-link' }, shortId(l.trace_id))) },
];

class LogsPage extends BasePage {
  readonly #filters: Filters;
  #live: boolean;
  /** Bumped when a filter changes: answers to the old filters are dropped. */
  #generation = 0;
  /** Whether the rows are an answer to the current filters (false until the first one comes). */
  #shown = false;
  #logs: StoredLog[] = [];
  #ids = new Set<string>();
  #cursor: string | null = null;
  #waiting: Waiting | null = null;
  #loadingOlder = false;
  /** Text typed into a field and not asked for yet. */
  #typed: Partial<Filters> = {};
  #typing: ReturnType<typeof setTimeout> | undefined;
  readonly #services = new Set<string>();
  readonly #modules = new Set<string>();
  readonly #serviceSelect: HTMLSelectElement;
  readonly #moduleSelect: HTMLSelectElement;
  readonly #traceInput: HTMLInputElement;
  readonly #traceHint = h('p', { class: 'field-hint', id: 'logs-trace-hint', hidden: true }, 'A whole trace id: 32 hex characters.');
  readonly #liveButton: HTMLButtonElement;
  readonly #table = new LogTable('Logs, newest first', COLUMNS, 'logs-table');
  readonly #newer = h('button', { type: 'button', class: 'button newer-button', 'data-testid': 'logs-newer', hidden: true, onclick: () => this.#showWaiting() });
  readonly #olderButton = h('button', { type: 'button', class: 'button', 'data-testid': 'logs-older', onclick: () => void this.#loadOlder() }, 'Load older');
  readonly #more = h('div', { class: 'more' }, this.#olderButton);
  readonly #note = h('p', { class: 'table-note', 'data-testid': 'logs-note', 'aria-live': 'polite' });
  readonly #content = h('div', { class: 'logs-content' }, this.#newer, this.#table.element, this.#more, this.#note);

  constructor(ctx: PageContext, params: URLSearchParams) {
    super(ctx, 'page-logs');
    this.#filters = {
      level: LEVELS.some((l) => l.value === params.get('level')) ? params.get('level')! : '',
      service: params.get('service') ?? '',
      module: params.get('module') ?? '',
      q: params.get('q') ?? '',
      trace: (params.get('trace') ?? '').trim().toLowerCase(),
    };
    this.#live = params.get('live') === '1';
    if (this.#filters.service !== '') this.#services.add(this.#filters.service);
    if (this.#filters.module !== '') this.#modules.add(this.#filters.module);

    const level = selectField('Level', LEVELS, this.#filters.level, (v) => this.#change({ level: v }), 'level-select');
    const service = selectField('Service', [], '', (v) => this.#change({ service: v }), 'service-select');
    const module = selectField('Module', [], '', (v) => this.#change({ module: v }), 'module-select');
    this.#serviceSelect = service.select;
    this.#moduleSelect = module.select;
    this.#updateChoices();
    const search = searchField('Search', this.#filters.q, 'Message or error message', (v) => this.#type({ q: v }), 'log-search');
    const trace = searchField('Trace id', this.#filters.trace, '32 hex characters', (v) => this.#type({ trace: v.trim().toLowerCase() }), 'trace-filter');
    this.#traceInput = trace.querySelector('input')!;
    this.#traceInput.setAttribute('aria-describedby', 'logs-trace-hint');
    trace.classList.remove('field-grow');
    trace.classList.add('field-trace');
    trace.append(this.#traceHint);
    this.#liveButton = h('button', {
      type: 'button',
      class: 'button live-toggle',
      'aria-pressed': String(this.#live),
      'data-testid': 'live-tail',
      onclick: () => this.#setLive(!this.#live),
    }, h('span', { class: 'live-toggle-dot', 'aria-hidden': 'true' }), 'Live tail');
    this.setHeader(
      pageHeader('Logs', { subtitle: 'What the services logged, newest first. Open a row for its fields, error and stack.', actions: this.#liveButton }),
      h('div', { class: 'toolbar' }, search, level.field, service.field, module.field, trace));
    this.#checkTrace();
    document.title = `Logs · ${ctx.slug} · teracron`;
  }

  override destroy(): void {
    super.destroy();
    clearTimeout(this.#typing);
  }

  #params(): Record<string, string> {
    const f = this.#filters;
    return { level: f.level, service: f.service, module: f.module, q: f.q, trace_id: f.trace };
  }

  #recordAddress(): void {
    const f = { ...this.#filters, ...this.#typed };
    replaceParams({ level: f.level, service: f.service, module: f.module, q: f.q, trace: f.trace, live: this.#live ? '1' : null });
  }

  /** A filter typed into a text field: recorded at once, asked for when typing pauses. */
  #type(change: Partial<Filters>): void {
    Object.assign(this.#typed, change);
    this.#recordAddress();
    clearTimeout(this.#typing);
    this.#typing = setTimeout(() => this.#change({}), TYPING_MS);
  }

  #change(change: Partial<Filters>): void {
    clearTimeout(this.#typing);
    Object.assign(this.#filters, this.#typed, change);
    this.#typed = {};
    this.#recordAddress();
    this.#generation++;
    this.#shown = false;
    this.#waiting = null;
    this.#table.element.setAttribute('aria-busy', 'true');
    this.ctx.refreshNow();
  }

  /** False (and says why) when the trace field holds something the API would refuse. */
  #checkTrace(): boolean {
    const valid = this.#filters.trace === '' || TRACE_ID.test(this.#filters.trace);
    this.#traceHint.hidden = valid;
    this.#traceInput.setAttribute('aria-invalid', String(!valid));
    return valid;
  }

  #setLive(on: boolean): void {
    this.#live = on;
    this.#liveButton.setAttribute('aria-pressed', String(on));
    this.#recordAddress();
    if (on) this.#showWaiting();
    this.ctx.refreshNow();
  }

  async refresh(): Promise<void> {
    if (!this.#checkTrace()) {
      this.markLoaded();
      this.#shown = false;
      this.body.replaceChildren(stateBox('empty', 'Not a trace id', 'The trace filter takes a whole trace id, 32 hex characters, as the trace page shows it.'));
      return;
    }
    const generation = this.#generation;
    const page = await this.ctx.api.get<LogPage>('/api/v1/logs', { ...this.#params(), limit: PAGE_SIZE });
    if (!this.alive || generation !== this.#generation) return;
    this.markLoaded();
    this.#learn(page.logs);
    if (!this.#shown) {
      this.#shown = true;
      this.#replace(page);
      return;
    }
    const fresh = page.logs.filter((l) => !this.#ids.has(l.id));
    this.#waiting = fresh.length === 0 ? null : { page, fresh };
    if (this.#live) this.#showWaiting();
    else this.#renderNewer();
  }

  #replace(page: LogPage): void {
    this.#logs = page.logs.filter((l, i, all) => all.findIndex((o) => o.id === l.id) === i);
    this.#ids = new Set(this.#logs.map((l) => l.id));
    this.#cursor = page.next_cursor;
    this.#render();
  }

  /** Puts the waiting logs on top; when none of the newest page was shown, there may be a gap after it, so that page replaces the rows. */
  #showWaiting(): void {
    const waiting = this.#waiting;
    this.#waiting = null;
    if (waiting === null) return this.#renderNewer();
    const gap = waiting.fresh.length === waiting.page.logs.length && waiting.page.next_cursor !== null;
    // A tail left on for hours would grow the table without end: past MAX_ROWS it starts again from the newest page.
    if (gap || this.#logs.length + waiting.fresh.length > MAX_ROWS) return this.#replace(waiting.page);
    this.#add(waiting.fresh);
  }

  #add(fresh: readonly StoredLog[]): void {
    const added = fresh.filter((l) => !this.#ids.has(l.id));
    for (const log of added) this.#ids.add(log.id);
    // A stable sort: among logs of one millisecond the later arrivals (these) stay first, as the API orders them.
    this.#logs = [...added, ...this.#logs].sort((a, b) => b.timestamp - a.timestamp);
    this.#render();
  }

  async #loadOlder(): Promise<void> {
    if (this.#cursor === null || this.#loadingOlder) return;
    const generation = this.#generation;
    this.#loadingOlder = true;
    this.#olderButton.disabled = true;
    setText(this.#olderButton, 'Loading…');
    try {
      const page = await this.ctx.api.get<LogPage>('/api/v1/logs', { ...this.#params(), limit: PAGE_SIZE, cursor: this.#cursor });
      if (!this.alive || generation !== this.#generation) return;
      this.#learn(page.logs);
      this.#cursor = page.next_cursor;
      const older = page.logs.filter((l) => !this.#ids.has(l.id));
      for (const log of older) this.#ids.add(log.id);
      this.#logs.push(...older);
      this.#render();
    } catch (error) {
      if (this.alive) this.showError(error);
    } finally {
      this.#loadingOlder = false;
      this.#olderButton.disabled = false;
      setText(this.#olderButton, 'Load older');
    }
  }

  /** Services and modules seen so far become the choices of their filters. */
  #learn(logs: readonly StoredLog[]): void {
    const before = this.#services.size + this.#modules.size;
    for (const log of logs) {
      if (log.service !== null && log.service !== '') this.#services.add(log.service);
      if (log.module !== null && log.module !== '') this.#modules.add(log.module);
    }
    if (this.#services.size + this.#modules.size !== before) this.#updateChoices();
  }

  #updateChoices(): void {
    const sorted = (set: Set<string>): Choice[] => [...set].sort().map((v) => ({ value: v, label: v }));
    setChoices(this.#serviceSelect, [{ value: '', label: 'All services' }, ...sorted(this.#services)], this.#filters.service);
    setChoices(this.#moduleSelect, [{ value: '', label: 'All modules' }, ...sorted(this.#modules)], this.#filters.module);
  }

  #renderNewer(): void {
    const waiting = this.#waiting?.fresh.length ?? 0;
    this.#newer.hidden = waiting === 0 || this.#live;
    const more = this.#waiting !== null && waiting === this.#waiting.page.logs.length && this.#waiting.page.next_cursor !== null;
    setText(this.#newer, `↑ Show ${count(waiting)}${more ? '+' : ''} newer log${waiting === 1 ? '' : 's'}`);
  }

  #render(): void {
    this.#table.element.removeAttribute('aria-busy');
    this.#renderNewer();
    const f = this.#filters;
    const filtered = f.level !== '' || f.service !== '' || f.module !== '' || f.q !== '' || f.trace !== '';
    if (this.#logs.length === 0) {
      this.body.replaceChildren(stateBox('empty', filtered ? 'No logs match these filters' : 'No logs yet',
        filtered ? 'Clear a filter to see more.' : 'Logs appear here as soon as an agent ships them.'));
      this.#table.render([]);
      return;
    }
    if (this.#content.parentElement !== this.body) this.body.replaceChildren(this.#content);
    this.#table.render(this.#logs);
    this.#more.hidden = this.#cursor === null;
    setText(this.#note, `${count(this.#logs.length)} log${this.#logs.length === 1 ? '' : 's'}${filtered ? ' matching the filters' : ''}, newest first${this.#cursor === null ? '.' : '; older ones follow with "Load older".'}`);
  }
}
