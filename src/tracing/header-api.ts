/**
 * Carrying a trace across processes by hand: read the header to send with an outgoing call,
 * and continue the trace a received header names. Malformed values are ignored, never thrown.
 */
import { newIdWords } from '../recorder/ids';
import { formatTraceHeader, formatTraceparent, hasW3CParentId, parseTraceHeader } from './propagation';
import { TraceScope, storage } from './context';
import type { TraceContext } from './context';
import { ActiveSpan } from './span';
import { sampleTrace } from './tracer';

/** `<trace_id>:<span_id>` of the current span (or the continued remote one), or null outside a trace. */
export function getTraceHeader(): string | null {
  const context = storage.getStore();
  return context === undefined ? null : traceHeaderOf(context);
}

/**
 * The W3C `traceparent` for an outgoing call from here: `00-<trace_id>-<last 16 hex of the
 * current span id>-<01 when sampled, else 00>`, or null outside a trace.
 */
export function getTraceparent(): string | null {
  const context = storage.getStore();
  return context === undefined ? null : traceparentOf(context);
}

export function traceHeaderOf(context: TraceContext): string {
  if (context instanceof ActiveSpan) return formatTraceHeader(context.trace, context);
  return formatTraceHeader(context.traceWords, context.parentWords);
}

/**
 * A trace this process takes part in without a span of its own (unsampled, or continued from a
 * header) passes on the caller's parent-id; with none, a random one, since W3C reserves zero.
 */
export function traceparentOf(context: TraceContext): string {
  if (context instanceof ActiveSpan) return formatTraceparent(context.trace, hasW3CParentId(context) ? context : newIdWords(), true);
  const parent = context.parentWords;
  return formatTraceparent(context.traceWords, parent !== null && hasW3CParentId(parent) ? parent : newIdWords(), context.sampled);
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
