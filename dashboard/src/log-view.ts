/**
 * Logs as a table whose rows open in place: each log is its own <tbody> holding its row and,
 * below it, its details (extra fields, error, stack, where it came from). Logs never change once
 * stored, so a log's element is made once and kept across refreshes: what was opened stays open.
 */
import { h } from './dom.js';
import { DASH, dateTime } from './format.js';
import { href } from './router.js';
import { stackLegend, stackView } from './stack-view.js';
import type { LogLevel, StoredLog } from './types.js';
import { attributeList } from './ui.js';

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'fatal'];

export function levelBadge(level: string): HTMLElement {
  const known = (LOG_LEVELS as readonly string[]).includes(level) ? level : 'info';
  return h('span', { class: `badge level level-${known}`, 'data-testid': 'log-level' }, level);
}

export interface LogColumn {
  label: string;
  className?: string;
  cell(log: StoredLog): Node | string | null;
}

let tables = 0;

export class LogTable {
  readonly element: HTMLElement;
  readonly #table: HTMLTableElement;
  readonly #columns: readonly LogColumn[];
  readonly #id = `logs-${++tables}`;

  constructor(caption: string, columns: readonly LogColumn[], testId: string) {
    this.#columns = columns;
    this.#table = h('table', { class: 'data-table log-table', 'data-testid': testId },
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col', class: 'log-toggle-col' }, h('span', { class: 'visually-hidden' }, 'Details')),
        ...columns.map((c) => h('th', { scope: 'col', class: c.className }, c.label)))));
    this.element = h('div', { class: 'table-wrap card' }, this.#table);
  }

  /** Shows `logs` in this order, reusing the entries of logs already shown. */
  render(logs: readonly StoredLog[]): void {
    const existing = new Map<string, HTMLTableSectionElement>();
    for (const body of Array.from(this.#table.tBodies)) existing.set(body.dataset.key!, body);
    const wanted = new Set(logs.map((l) => l.id));
    for (const [key, body] of existing) if (!wanted.has(key)) body.remove();
    let cursor: Element | null = this.#table.tBodies[0] ?? null;
    for (const log of logs) {
      const body = existing.get(log.id) ?? this.#entry(log);
      if (body !== cursor) this.#table.insertBefore(body, cursor);
      else cursor = cursor.nextElementSibling;
    }
  }

  entries(): HTMLTableSectionElement[] {
    return Array.from(this.#table.tBodies);
  }

  #entry(log: StoredLog): HTMLTableSectionElement {
    const detailId = `${this.#id}-${log.id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    const detailCell = h('td', { colspan: this.#columns.length + 1 });
    const detail = h('tr', { class: 'log-detail', id: detailId, hidden: true }, detailCell);
    const toggle = h('button', {
      type: 'button',
      class: 'log-toggle',
      'aria-expanded': 'false',
      'aria-controls': detailId,
      'aria-label': `Details of the ${log.level} log at ${dateTime(log.timestamp)}`,
      'data-testid': 'log-toggle',
      onclick: () => setOpen(detail.hidden),
    }, h('span', { class: 'log-chevron', 'aria-hidden': 'true' }, '▸'));
    const setOpen = (open: boolean): void => {
      if (open && detailCell.childElementCount === 0) detailCell.append(logDetail(log));
      detail.hidden = !open;
      toggle.setAttribute('aria-expanded', String(open));
    };
    const row = h('tr', {
      class: `log-row log-row-${log.level}`,
      onclick: (event) => {
        // The row opens on a click anywhere but its own controls and links (and not when text was being selected).
        const target = event.target as Element;
        if (target.closest('a, button') !== null || (getSelection()?.toString() ?? '') !== '') return;
        setOpen(detail.hidden);
      },
    },
    h('td', { class: 'log-toggle-col' }, toggle),
    ...this.#columns.map((c) => {
      const content = c.cell(log);
      return h('td', { class: [c.className, content === DASH ? 'cell-empty' : ''].filter(Boolean).join(' ') || undefined, 'data-label': c.label }, content);
    }));
    return h('tbody', {
      class: 'log-entry',
      'data-key': log.id,
      'data-testid': 'log-entry',
      'data-id': log.id,
      'data-level': log.level,
      'data-service': log.service ?? '',
      'data-module': log.module ?? '',
      'data-timestamp': log.timestamp,
      'data-span-id': log.span_id ?? '',
    }, row, detail);
  }
}

/** The message, and under it the error it carries, as a cell's content. */
export function messageCell(log: StoredLog): HTMLElement {
  const error = errorText(log);
  const extra = Object.entries(log.extra);
  return h('div', { class: 'log-message' },
    h('span', { class: 'log-text', 'data-testid': 'log-message' }, log.message),
    error === null ? null : h('span', { class: 'log-error', 'data-testid': 'log-error' }, error),
    extra.length === 0 ? null : h('span', { class: 'meta-inline' }, extra.slice(0, 6).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join('  ')));
}

function errorText(log: StoredLog): string | null {
  if (log.error_type === null && log.error_message === null) return null;
  return [log.error_type, log.error_message].filter((part) => part !== null && part !== '').join(': ');
}

export function logDetail(log: StoredLog): HTMLElement {
  const error = errorText(log);
  const facts: Array<[string, Node | string]> = [
    ['Time', dateTime(log.timestamp)],
    ['Service', log.service ?? DASH],
    ['Environment', log.environment ?? DASH],
    ['Host', log.host ?? DASH],
    ['Process', log.pid === null ? DASH : String(log.pid)],
    ['Module', log.module ?? DASH],
    ['Trace', log.trace_id === null ? DASH : h('a', { class: 'mono', href: href(['traces', log.trace_id], { span: log.span_id }) }, log.trace_id)],
    ['Span', log.span_id === null ? DASH : h('span', { class: 'mono' }, log.span_id)],
  ];
  if (log.fingerprint !== null) facts.push(['Issue', h('a', { href: href(['issues', log.fingerprint]), 'data-testid': 'log-issue-link' }, 'Open the issue this error counts in')]);
  return h('div', { class: 'log-detail-body', 'data-testid': 'log-detail' },
    h('div', { class: 'log-detail-main' },
      h('h3', { class: 'panel-section' }, 'Message'),
      h('p', { class: 'log-full-message' }, log.message),
      error === null ? null : h('div', { class: 'error-box', role: 'note' },
        h('p', { class: 'error-box-title' }, 'Error'),
        h('p', { class: 'error-box-text', 'data-testid': 'log-detail-error' }, error)),
      log.stack === null ? null : h('div', null, h('h3', { class: 'panel-section' }, 'Stack'), stackLegend(false), stackView(log.stack)),
      h('h3', { class: 'panel-section' }, 'Extra'),
      attributeList(log.extra, 'No extra fields.')),
    h('dl', { class: 'facts log-facts' }, ...facts.flatMap(([label, value]) => [h('dt', null, label), h('dd', null, value)])));
}
