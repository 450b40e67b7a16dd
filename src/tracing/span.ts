/**
 * A live span on the caller's thread. It is the SpanFields the ring writer reads, so ending it
 * copies nothing; and it is the AsyncLocalStorage store, so children find their parent in it.
 */
import { assignParentId, assignRandomSpanId, assignRandomTraceId, assignTraceId, idWordsToHex, spanIdOf, traceIdOf } from '../recorder/ids';
import type { IdWords } from '../recorder/ids';
import type { SpanFields } from '../recorder/span-writer';
import { STATUS_FAILED, STATUS_SUCCEEDED } from '../ring/layout';

/** What `withSpan` hands to its block and `currentSpan()` returns. */
export interface Span {
  /** Adds metadata (≤ 32 keys; strings, numbers, booleans; others become short strings). */
  setMetadata(metadata: Record<string, unknown>): this;
  /** 32 hex, or null when nothing is recorded (no agent, tracing off, unsampled). */
  readonly traceId: string | null;
  readonly spanId: string | null;
  /** False when this call is not recorded; setMetadata is then a no-op. */
  readonly recording: boolean;
}

export class ActiveSpan implements SpanFields, Span {
  // Ids as int32 words (SpanIds): drawn or copied at creation, so a span that already went to
  // the ring still has the ids a late child (a timer, a listener) needs for its parent link.
  t0 = 0;
  t1 = 0;
  t2 = 0;
  t3 = 0;
  s0 = 0;
  s1 = 0;
  s2 = 0;
  s3 = 0;
  p0 = 0;
  p1 = 0;
  p2 = 0;
  p3 = 0;
  hasParent = false;
  readonly workflow: string;
  readonly operation: string;
  status = STATUS_SUCCEEDED;
  readonly start: number;
  end = 0;
  readonly wallClock = false;
  errorType: string | null = null;
  errorMessage: string | null = null;
  metadata: Record<string, unknown> | null = null;
  capturedParams: Record<string, unknown> | null = null;
  /** Present on every context store: a live span is always a sampled one. */
  readonly sampled = true;

  constructor(workflow: string, operation: string, start: number) {
    this.workflow = workflow;
    this.operation = operation;
    this.start = start;
    assignRandomSpanId(this);
  }

  get traceId(): string {
    return idWordsToHex(traceIdOf(this));
  }

  get spanId(): string {
    return idWordsToHex(spanIdOf(this));
  }

  get recording(): boolean {
    return true;
  }

  setMetadata(metadata: Record<string, unknown>): this {
    if (metadata === null || typeof metadata !== 'object') return this;
    this.metadata = this.metadata === null ? { ...metadata } : Object.assign(this.metadata, metadata);
    return this;
  }

  fail(error: unknown): void {
    this.status = STATUS_FAILED;
    const described = describeError(error);
    this.errorType = described.type;
    this.errorMessage = described.message;
  }
}

/** A root: a new trace id. */
export function rootSpan(workflow: string, operation: string, start: number): ActiveSpan {
  const span = new ActiveSpan(workflow, operation, start);
  assignRandomTraceId(span);
  return span;
}

/** A child of a live span: same trace, the parent's span id as parent. */
export function childSpan(parent: ActiveSpan, workflow: string, operation: string, start: number): ActiveSpan {
  const span = new ActiveSpan(workflow, operation, start);
  span.t0 = parent.t0;
  span.t1 = parent.t1;
  span.t2 = parent.t2;
  span.t3 = parent.t3;
  span.hasParent = true;
  span.p0 = parent.s0;
  span.p1 = parent.s1;
  span.p2 = parent.s2;
  span.p3 = parent.s3;
  return span;
}

/** A span in a trace known only by ids (from a header, or an unsampled root's id). */
export function spanInTrace(traceId: IdWords, parentId: IdWords | null, workflow: string, operation: string, start: number): ActiveSpan {
  const span = new ActiveSpan(workflow, operation, start);
  assignTraceId(span, traceId);
  assignParentId(span, parentId);
  return span;
}

/** The Span handed out when nothing is recorded. */
export const NOOP_SPAN: Span = Object.freeze({
  setMetadata() {
    return NOOP_SPAN;
  },
  traceId: null,
  spanId: null,
  recording: false,
}) as Span;

/**
 * error_type: the error's `name`, else its constructor's name; for a thrown non-Error, its
 * type (`string`, `number`, …). error_message: `message`, or the value as a string. The writer
 * clips both to their limits.
 */
export function describeError(error: unknown): { type: string; message: string } {
  if (error instanceof Error) {
    return { type: error.name || error.constructor?.name || 'Error', message: safeString(error.message) };
  }
  if (error !== null && typeof error === 'object') {
    const named = error as { name?: unknown; message?: unknown; constructor?: { name?: unknown } };
    const type = typeof named.name === 'string' && named.name !== '' ? named.name : typeof named.constructor?.name === 'string' ? named.constructor.name : 'Object';
    return { type, message: typeof named.message === 'string' ? named.message : safeString(error) };
  }
  return { type: error === null ? 'null' : typeof error, message: safeString(error) };
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '(unprintable value)';
  }
}
