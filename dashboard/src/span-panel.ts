/** The side panel for one span: what it did, when, how long, its attributes and its error. */
import { h } from './dom.js';
import { dateTime, DASH, duration } from './format.js';
import type { Span } from './types.js';
import { attributeList, statusBadge } from './ui.js';

export interface PanelActions {
  select(spanId: string): void;
  close(): void;
}

export function spanPanel(span: Span, traceStart: number, spans: ReadonlyMap<string, Span>, actions: PanelActions): HTMLElement {
  const parent = span.parent_span_id === null ? null : spans.get(span.parent_span_id);
  const failed = span.status === 'failed' || span.error_type !== null || span.error_message !== null;
  const errorText = [span.error_type, span.error_message].filter((part) => part !== null && part !== '').join(': ');
  return h('aside', { class: 'span-panel card', 'data-testid': 'span-panel', 'aria-labelledby': 'span-panel-title' },
    h('div', { class: 'panel-head' },
      h('div', null,
        h('p', { class: 'eyebrow' }, 'Span'),
        h('h2', { id: 'span-panel-title', class: 'panel-title' }, span.operation)),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close span details', onclick: actions.close }, '✕')),
    h('div', { class: 'panel-status' }, statusBadge(span.status)),
    failed
      ? h('div', { class: 'error-box', role: 'note' },
        h('p', { class: 'error-box-title' }, 'Error'),
        h('p', { class: 'error-box-text', 'data-testid': 'span-error' }, errorText === '' ? 'failed without an error message' : errorText))
      : null,
    h('dl', { class: 'facts' },
      h('dt', null, 'Workflow'), h('dd', null, span.workflow),
      h('dt', null, 'Duration'), h('dd', null, span.status === 'started' ? 'still running' : duration(span.duration_ms)),
      h('dt', null, 'Started'), h('dd', null, dateTime(span.started_at), h('span', { class: 'muted' }, ` (+${duration(span.started_at - traceStart)})`)),
      h('dt', null, 'Span id'), h('dd', { class: 'mono' }, span.span_id),
      h('dt', null, 'Parent'),
      h('dd', null, parent === undefined
        ? h('span', { class: 'mono' }, `${span.parent_span_id} (not in this trace)`)
        : parent === null
          ? DASH
          : h('button', { type: 'button', class: 'link-button', onclick: () => actions.select(parent.span_id) }, parent.operation)),
      h('dt', null, 'Trace id'), h('dd', { class: 'mono' }, span.trace_id)),
    h('h3', { class: 'panel-section' }, 'Metadata'),
    attributeList(span.metadata, 'No metadata.'),
    h('h3', { class: 'panel-section' }, 'Captured parameters'),
    attributeList(span.captured_params, 'None captured (only parameters named in capture are sent).'));
}
