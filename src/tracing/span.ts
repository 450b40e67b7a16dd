/**
 * A live span on the caller's thread. It is the SpanFields the ring writer reads, so ending it
 * copies nothing; and it is the AsyncLocalStorage store, so children find their parent in it.
 */
import { fillRandomId, idWordsToHex } from '../recorder/ids';
import type { IdWords } from '../recorder/ids';
import type { SpanFields } from '../recorder/span-writer';
import { STATUS_FAILED, STATUS_SUCCEEDED } from '../ring/layout';
import type { SpanScope } from './span-scope';

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
  // The span's own id, as int32 words: set at creation, so a span already written to the ring
  // still has the id a late child (a timer, a listener) needs for its parent link. Being an
  // IdWords itself, the span is its children's `parent` with nothing copied.
  w0 = 0;
  w1 = 0;
  w2 = 0;
  w3 = 0;
  readonly trace: IdWords;
  readonly parent: IdWords | null;
  readonly workflow: string;
  // Writable: an HTTP server span learns its route (and so its operation) while it runs.
  operation: string;
  status = STATUS_SUCCEEDED;
  readonly start: number;
  end = 0;
  errorType: string | null = null;
  errorMessage: string | null = null;
  metadata: Record<string, unknown> | null = null;
  capturedParams: Record<string, unknown> | null = null;
  /** What listeners registered in this span keep of it, once one was (span-scope.ts). */
  scope: SpanScope | null = null;
  // On the prototype, not per span (every span is sampled and clock-timed): see below.
  declare readonly wallClock: false;
  declare readonly sampled: true;

  constructor(trace: IdWords, parent: IdWords | null, workflow: string, operation: string, start: number) {
    this.trace = trace;
    this.parent = parent;
    this.workflow = workflow;
    this.operation = operation;
    this.start = start;
    fillRandomId(this);
  }

  get traceId(): string {
    return idWordsToHex(this.trace);
  }

  get spanId(): string {
    return idWordsToHex(this);
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

// Constant for every span: kept off the instances so each span is a few words smaller, which
// matters at hundreds of thousands of spans a second (allocation is most of a span's GC cost).
Object.defineProperties(ActiveSpan.prototype, {
  wallClock: { value: false },
  sampled: { value: true },
});

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
 * error_type: the error's `name`, unless that is the inherited 'Error' of a subclass that did
 * not set its own (`class BoomError extends Error {}`): then the class name; for a non-Error, its
 * type (`string`, `number`, …). error_message: `message`, or the value as a string. The writer
 * clips both to their limits.
 */
export function describeError(error: unknown): { type: string; message: string } {
  if (error instanceof Error) {
    const className = error.constructor?.name;
    const type = (error.name === 'Error' || error.name === '') && className ? className : error.name || 'Error';
    return { type, message: safeString(error.message) };
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
