/**
 * Carrying a trace across processes by hand: read the header to send with an outgoing call,
 * and continue the trace a received header names. Malformed values are ignored, never thrown.
 */
import { formatTraceHeader, parseTraceHeader } from './propagation';
import { TraceScope, storage } from './context';
import { ActiveSpan } from './span';
import { sampleTrace } from './tracer';

/** `<trace_id>:<span_id>` of the current span (or the continued remote one), or null outside a trace. */
export function getTraceHeader(): string | null {
  const context = storage.getStore();
  if (context === undefined) return null;
  if (context instanceof ActiveSpan) return formatTraceHeader(context.trace, context);
  return formatTraceHeader(context.traceWords, context.parentWords);
}

/**
 * Enters the trace named by `value` for the rest of the current async scope (say, a request
 * handler), so spans started from here on are its children. Returns false, and changes
 * nothing, when the value is malformed.
 */
export function setTraceHeader(value: unknown): boolean {
  const scope = scopeFrom(value);
  if (scope === null) return false;
  storage.enterWith(scope);
  return true;
}

/** Runs `fn` inside the trace named by `value`; with a malformed value, runs it as it is. */
export function continueTrace<T>(value: unknown, fn: () => T): T {
  const scope = scopeFrom(value);
  return scope === null ? fn() : storage.run(scope, fn);
}

function scopeFrom(value: unknown): TraceScope | null {
  const remote = parseTraceHeader(value);
  if (remote === null) return null;
  return new TraceScope(remote.traceId, remote.spanId, sampleTrace(remote.traceId));
}
