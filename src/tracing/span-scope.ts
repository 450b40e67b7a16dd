/**
 * What an EventEmitter listener registered inside a span keeps of that span. The listener lives
 * as long as its emitter, and for a long-lived one (a DB pool, a socket) that is the life of the
 * process; the span itself would keep its metadata, captured parameters and error text, its
 * parent spans (a span's parent link is the parent span object) and, for a request span, the
 * connection's async resource, all of it once per listener.
 *
 * So a listener keeps a SpanScope: the trace id, the span's own id and its workflow (about 100
 * bytes, one per span, shared by every listener registered in it), and the span itself only
 * while it is open: closeSpan takes it away. While the span is open the listener runs in it as
 * before, so `currentSpan().setMetadata()` there reaches it. Once it has ended the listener runs
 * in the SpanScope: spans it starts and headers it sends still have the span as their parent,
 * event() is still tied to it, and currentSpan() gives its traceId and spanId with a
 * setMetadata that does nothing (the span is already recorded; before, that call was lost too).
 */
import { idWordsToHex } from '../recorder/ids';
import type { IdWords } from '../recorder/ids';
import type { ActiveSpan, Span } from './span';

export class SpanScope implements IdWords, Span {
  readonly w0: number;
  readonly w1: number;
  readonly w2: number;
  readonly w3: number;
  // The trace id inline: the span's `trace` object would cost another 56 bytes per span, and
  // the trace id is read only when a listener of an ended span starts a span or sends a header.
  readonly t0: number;
  readonly t1: number;
  readonly t2: number;
  readonly t3: number;
  readonly workflow: string;
  /** The span while it is open, then null (closeSpan), so that nothing of it stays reachable. */
  live: ActiveSpan | null;
  // On the prototype, as in ActiveSpan: a trace that has a span here is a sampled one.
  declare readonly sampled: true;

  constructor(span: ActiveSpan) {
    this.w0 = span.w0;
    this.w1 = span.w1;
    this.w2 = span.w2;
    this.w3 = span.w3;
    const trace = span.trace;
    this.t0 = trace.w0;
    this.t1 = trace.w1;
    this.t2 = trace.w2;
    this.t3 = trace.w3;
    this.workflow = span.workflow;
    this.live = span.end === 0 ? span : null;
  }

  get trace(): IdWords {
    return { w0: this.t0, w1: this.t1, w2: this.t2, w3: this.t3 };
  }

  // The TraceScope view (context.ts): children of the scope are the span's children.
  get traceWords(): IdWords {
    return this.trace;
  }

  get parentWords(): IdWords {
    return this;
  }

  get traceId(): string {
    return idWordsToHex(this.trace);
  }

  get spanId(): string {
    return idWordsToHex(this);
  }

  get recording(): boolean {
    return false;
  }

  setMetadata(): this {
    return this;
  }
}

Object.defineProperties(SpanScope.prototype, { sampled: { value: true } });

/** The span's SpanScope, made on the first call and kept on the span for the next ones. */
export function scopeOf(span: ActiveSpan): SpanScope {
  let scope = span.scope;
  if (scope === null) span.scope = scope = new SpanScope(span);
  return scope;
}
