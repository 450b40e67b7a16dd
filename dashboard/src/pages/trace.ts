/** #/traces/<id>?span=: the waterfall of one trace, the details of the selected span, and the trace's logs. */
import { h, setText } from '../dom.js';
import { count, dateTime, duration } from '../format.js';
import { BasePage } from '../page.js';
import type { PageContext, PageFactory } from '../page.js';
import { href, replaceParams } from '../router.js';
import { spanPanel } from '../span-panel.js';
import { TraceLogs } from '../trace-logs.js';
import type { Span, TraceAnswer } from '../types.js';
import { pageHeader, statusBadge } from '../ui.js';
import { layoutWaterfall } from '../waterfall.js';
import type { WaterfallLayout } from '../waterfall.js';
import { WaterfallView } from '../waterfall-view.js';

export const tracePage: PageFactory = (ctx, location) => new TracePage(ctx, location.segments[1] ?? '', location.params.get('span'));

class TracePage extends BasePage {
  readonly #traceId: string;
  #selected: string | null;
  #signature = '';
  #layout: WaterfallLayout | null = null;
  #spans = new Map<string, Span>();
  readonly #header: HTMLElement;
  readonly #summary = h('div', { class: 'trace-summary' });
  readonly #panelSlot = h('div', { class: 'panel-slot' });
  readonly #view = new WaterfallView((id) => this.#select(id, true));
  readonly #logs = new TraceLogs((id) => {
    this.#select(id, true);
    this.#view.focus(id);
  });
  readonly #onKey = (event: KeyboardEvent): void => {
    if (event.key !== 'Escape' || this.#selected === null) return;
    const spanId = this.#selected;
    this.#select(null, false);
    this.#view.focus(spanId);
  };

  constructor(ctx: PageContext, traceId: string, span: string | null) {
    super(ctx, 'page-trace');
    this.#traceId = traceId;
    this.#selected = span;
    this.#header = pageHeader('Trace', { crumbs: [['Workflows', href(['workflows'])]], subtitle: h('span', { class: 'mono' }, `trace ${traceId}`) });
    this.setHeader(this.#header);
    document.addEventListener('keydown', this.#onKey);
    document.title = `Trace ${traceId.slice(0, 8)} · ${ctx.slug} · teracron`;
  }

  override destroy(): void {
    super.destroy();
    document.removeEventListener('keydown', this.#onKey);
  }

  async refresh(): Promise<void> {
    const answer = await this.ctx.api.get<TraceAnswer>(`/api/v1/traces/${encodeURIComponent(this.#traceId)}`);
    if (!this.alive) return;
    this.markLoaded();
    const signature = JSON.stringify(answer.spans);
    if (signature !== this.#signature) this.#render(answer, signature);
    // By the whole id the answer gives: the address may hold a prefix of it.
    if (this.#layout !== null) await this.#logs.refresh(this.ctx.api, answer.trace_id, this.#spans, this.#layout.start);
  }

  #render(answer: TraceAnswer, signature: string): void {
    const first = this.#signature === '';
    this.#signature = signature;
    this.#spans = new Map(answer.spans.map((s) => [s.span_id, s]));
    this.#layout = layoutWaterfall(answer.spans);
    const root = this.#layout.rows[0]?.span;
    if (root !== undefined) this.#renderHeader(root, answer.spans);
    if (first) {
      this.body.replaceChildren(this.#summary, h('div', { class: 'trace-grid' }, h('div', { class: 'trace-main' }, this.#view.element, this.#logs.element), this.#panelSlot));
      if (this.#selected === null) this.#selected = originOfFailure(this.#layout);
    }
    this.#view.render(this.#layout);
    this.#select(this.#selected !== null && this.#spans.has(this.#selected) ? this.#selected : null, false);
  }

  #renderHeader(root: Span, spans: Span[]): void {
    setText(this.#header.querySelector('.page-title')!, root.operation);
    const crumbs = this.#header.querySelector('.crumbs ol')!;
    if (crumbs.children.length === 1) crumbs.append(h('li', null, h('a', { href: href(['workflows', root.workflow]) }, root.workflow)));
    const failed = spans.filter((s) => s.status === 'failed').length;
    const running = spans.some((s) => s.status === 'started');
    const status = root.status === 'failed' || (failed > 0 && root.status !== 'succeeded') ? 'failed' : running || root.status === 'started' ? 'in_progress' : 'succeeded';
    this.#summary.replaceChildren(
      fact('Status', statusBadge(status)),
      fact('Duration', duration(this.#layout!.extentMs)),
      fact('Spans', `${count(spans.length)}${failed > 0 ? ` · ${count(failed)} failed` : ''}`),
      fact('Started', dateTime(this.#layout!.start)));
  }

  #select(spanId: string | null, byUser: boolean): void {
    if (new URLSearchParams(location.hash.split('?')[1] ?? '').get('span') !== spanId) replaceParams({ span: spanId });
    this.#selected = spanId;
    this.#view.select(spanId);
    this.#logs.select(spanId);
    const span = spanId === null ? undefined : this.#spans.get(spanId);
    if (span === undefined || this.#layout === null) {
      this.#panelSlot.replaceChildren(h('div', { class: 'panel-hint card' }, 'Select a span to see its timing, metadata and error.'));
      return;
    }
    this.#panelSlot.replaceChildren(spanPanel(span, this.#layout.start, this.#spans, {
      select: (id) => this.#select(id, true),
      close: () => {
        this.#select(null, true);
        // Back to the row the panel described, so keyboard users keep their place.
        this.#view.focus(span.span_id);
      },
    }));
    if (byUser && matchMedia('(max-width: 900px)').matches) this.#panelSlot.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }
}

function fact(label: string, value: Node | string): HTMLElement {
  return h('div', { class: 'fact' }, h('span', { class: 'fact-label' }, label), h('span', { class: 'fact-value' }, value));
}

/** The first failed span (in tree order) with no failed child: where the failure began. */
function originOfFailure(layout: WaterfallLayout): string | null {
  const failedParents = new Set(layout.rows.filter((r) => r.span.status === 'failed' && r.span.parent_span_id !== null).map((r) => r.span.parent_span_id));
  const origin = layout.rows.find((r) => r.span.status === 'failed' && !failedParents.has(r.span.span_id));
  return origin?.span.span_id ?? null;
}
