/** The waterfall as DOM: a time axis and one row per span, each a button holding its bar. */
import { h, icon, syncChildren } from './dom.js';
import { duration } from './format.js';
import type { WaterfallLayout, WaterfallRow } from './waterfall.js';
import { ticks } from './waterfall.js';

const INDENT_PX = 14;

export class WaterfallView {
  readonly element: HTMLElement;
  readonly #axis = h('div', { class: 'wf-axis', 'aria-hidden': 'true' });
  readonly #rows = h('ol', { class: 'wf-rows' });
  readonly #onSelect: (spanId: string) => void;
  #selected: string | null = null;

  constructor(onSelect: (spanId: string) => void) {
    this.#onSelect = onSelect;
    this.element = h('div', { class: 'waterfall card', 'data-testid': 'waterfall' },
      h('div', { class: 'wf-head' }, h('span', { class: 'wf-head-label' }, 'Span'), this.#axis),
      this.#rows);
  }

  render(layout: WaterfallLayout): void {
    this.#axis.replaceChildren(...ticks(layout.extentMs).map((t) => {
      const tick = h('span', { class: 'wf-tick' }, t === 0 ? '0' : duration(t).replace(/\.0+ /, ' '));
      tick.style.left = `${(100 * t) / layout.extentMs}%`;
      return tick;
    }));
    syncChildren(this.#rows, layout.rows, (r) => r.span.span_id, signature, (r) => this.#row(r));
    this.select(this.#selected);
  }

  select(spanId: string | null): void {
    this.#selected = spanId;
    for (const button of this.#rows.querySelectorAll<HTMLButtonElement>('.wf-row')) {
      button.setAttribute('aria-pressed', String(button.dataset.spanId === spanId));
    }
  }

  focus(spanId: string): void {
    this.#rows.querySelector<HTMLButtonElement>(`.wf-row[data-span-id="${CSS.escape(spanId)}"]`)?.focus();
  }

  #row(r: WaterfallRow): HTMLElement {
    const { span } = r;
    const state = span.status === 'failed' ? 'failed' : span.status === 'started' ? 'in-progress' : 'ok';
    const indent = h('span', { class: 'wf-indent' });
    indent.style.width = `${r.depth * INDENT_PX}px`;
    const bar = h('span', {
      class: `wf-bar wf-bar-${state}`,
      'data-testid': 'span-bar',
      'data-depth': r.depth,
      'data-span-id': span.span_id,
      'data-status': span.status,
    });
    bar.style.left = `${r.offsetPct}%`;
    bar.style.width = `${r.widthPct}%`;
    const stateText = state === 'failed' ? 'failed' : state === 'in-progress' ? 'in progress' : 'succeeded';
    return h('li', { class: 'wf-item' },
      h('button', {
        type: 'button',
        class: `wf-row is-${state}`,
        'data-span-id': span.span_id,
        'aria-pressed': 'false',
        'aria-label': `${span.operation}, ${stateText}, ${duration(span.duration_ms)}, starts at ${duration(r.offsetMs)}, depth ${r.depth}`,
        onclick: () => this.#onSelect(span.span_id),
      },
      h('span', { class: 'wf-label' },
        indent,
        state === 'failed' ? icon('cross') : state === 'in-progress' ? icon('clock') : icon('dot'),
        h('span', { class: 'wf-op', title: span.operation }, span.operation),
        state === 'failed' ? h('span', { class: 'wf-flag' }, 'failed') : null,
        h('span', { class: 'wf-dur' }, span.status === 'started' ? 'running' : duration(span.duration_ms))),
      h('span', { class: 'wf-track' }, bar)));
  }
}

function signature(r: WaterfallRow): string {
  return `${r.depth}|${r.offsetPct}|${r.widthPct}|${r.span.status}|${r.span.operation}|${r.span.duration_ms}`;
}
