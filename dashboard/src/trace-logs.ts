/**
 * The logs of one trace, under its waterfall: in time order, each with its offset from the
 * trace's start and the span it was logged in (a button that selects that span); the logs of
 * the selected span are marked. A collector without logs, or a failed read, leaves the trace
 * view whole and says so here.
 */
import type { Api } from './api.js';
import { h, setText } from './dom.js';
import { clockMs, count, DASH, duration } from './format.js';
import { levelBadge, LogTable, messageCell } from './log-view.js';
import { href } from './router.js';
import type { LogPage, Span, StoredLog } from './types.js';

const LIMIT = 1000;

export class TraceLogs {
  readonly element: HTMLElement;
  readonly #note = h('p', { class: 'table-note', 'data-testid': 'trace-logs-note' });
  readonly #empty = h('p', { class: 'panel-hint card', 'data-testid': 'trace-logs-empty' });
  readonly #table: LogTable;
  readonly #count = h('span', { class: 'section-count' });
  readonly #onSelect: (spanId: string) => void;
  #spans: ReadonlyMap<string, Span> = new Map();
  #start = 0;
  #selected: string | null = null;
  #signature = '';
  #spansKey = '';

  constructor(onSelect: (spanId: string) => void) {
    this.#onSelect = onSelect;
    this.#table = new LogTable('Logs of this trace, oldest first', [
      { label: 'Time', className: 'time', cell: (l) => h('span', { title: clockMs(l.timestamp) }, `+${duration(Math.max(0, l.timestamp - this.#start))}`) },
      { label: 'Level', cell: (l) => levelBadge(l.level) },
      { label: 'Span', className: 'log-span', cell: (l) => this.#spanCell(l) },
      { label: 'Message', className: 'wide', cell: messageCell },
    ], 'trace-logs-table');
    this.element = h('section', { class: 'trace-logs', 'aria-labelledby': 'trace-logs-title', 'data-testid': 'trace-logs' },
      h('h2', { class: 'section-title', id: 'trace-logs-title' }, 'Logs', this.#count),
      this.#empty);
  }

  /** Reads the trace's logs (by its whole id) and shows them; never rejects. */
  async refresh(api: Api, traceId: string, spans: ReadonlyMap<string, Span>, start: number): Promise<void> {
    let page: LogPage;
    try {
      page = await api.get<LogPage>('/api/v1/logs', { trace_id: traceId, limit: LIMIT });
    } catch (error) {
      this.#signature = '';
      this.#show(this.#empty);
      setText(this.#empty, `Could not read this trace's logs: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const spansKey = `${start}|${[...spans.keys()].join(',')}`;
    const signature = `${spansKey}|${page.logs.map((l) => l.id).join(',')}`;
    if (signature === this.#signature) return;
    this.#signature = signature;
    // Spans may have arrived since the rows were drawn: then draw them all again, so each names its span.
    if (spansKey !== this.#spansKey) this.#table.render([]);
    this.#spansKey = spansKey;
    this.#spans = spans;
    this.#start = start;
    const logs = page.logs.slice().reverse();
    setText(this.#count, ` · ${count(logs.length)}${page.next_cursor === null ? '' : '+'}`);
    if (logs.length === 0) {
      this.#show(this.#empty);
      setText(this.#empty, 'No logs were written in this trace.');
      return;
    }
    this.#show(this.#table.element, this.#note);
    this.#table.render(logs);
    setText(this.#note, page.next_cursor === null
      ? `${count(logs.length)} log${logs.length === 1 ? '' : 's'}, oldest first. Open one for its fields and stack.`
      : `The newest ${count(LIMIT)} logs of this trace, oldest first; the full list is on the logs page.`);
    if (page.next_cursor !== null) this.#note.append(' ', h('a', { href: href(['logs'], { trace: traceId }) }, 'Open the logs page'));
    this.select(this.#selected);
  }

  select(spanId: string | null): void {
    this.#selected = spanId;
    for (const entry of this.#table.entries()) {
      const mine = spanId !== null && entry.dataset.spanId === spanId;
      entry.classList.toggle('is-selected', mine);
      if (mine) entry.dataset.selected = 'true';
      else delete entry.dataset.selected;
    }
  }

  #show(...nodes: HTMLElement[]): void {
    const heading = this.element.firstElementChild!;
    if (nodes.every((n, i) => this.element.children[i + 1] === n) && this.element.childElementCount === nodes.length + 1) return;
    this.element.replaceChildren(heading, ...nodes);
  }

  #spanCell(log: StoredLog): Node | string {
    if (log.span_id === null) return DASH;
    const span = this.#spans.get(log.span_id);
    if (span === undefined) return h('span', { class: 'mono muted', title: 'A span not in this trace (yet)' }, log.span_id.slice(0, 8));
    return h('button', {
      type: 'button',
      class: 'link-button log-span-button',
      'data-testid': 'trace-log-span',
      'aria-label': `Select span ${span.operation}`,
      onclick: () => this.#onSelect(span.span_id),
    }, span.operation);
  }
}
