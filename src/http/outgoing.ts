/**
 * The span of one outgoing HTTP call (node:http/https or fetch/undici), shared by client.ts and
 * fetch.ts. A call is traced only inside a trace: outside one nothing is done, not even a header.
 * Inside an unsampled trace no span is made but the headers still go out (flag 00), so the
 * services downstream make the same decision. Calls to the agent's own endpoint are skipped (the
 * worker thread sends those, where these subscribers do not run; this covers anything else).
 *
 * The span is a child of the current span, in its workflow, named `METHOD host`, and ends when
 * the response headers arrive (or the call fails): a status >= 500 or a network error fails it.
 */
import { performance } from 'node:perf_hooks';
import { STATUS_FAILED } from '../ring/layout';
import { contextSlot, readContext } from '../tracing/context';
import type { TraceContext } from '../tracing/context';
import { traceHeaderOf, traceparentOf } from '../tracing/header-api';
import { ActiveSpan, describeError } from '../tracing/span';
import { SpanScope } from '../tracing/span-scope';
import { closeSpan, tracer } from '../tracing/tracer';
import { operationName } from './path';
import { statusLine } from './request-span';

/** What to do for a call about to go out: nothing (null), or its span (null inside an unsampled trace) and headers. */
export interface OutgoingCall {
  span: ActiveSpan | null;
  teracron: string;
  traceparent: string;
}

/**
 * Decides for a call to `origin` (`scheme://host[:port]`) made from the current context. `host`
 * is host[:port] as in the Host header; `path` may still carry its query.
 */
export function startOutgoing(method: string, origin: string, host: string, path: string): OutgoingCall | null {
  if (tracer.recorder === null) return null;
  const context = readContext(contextSlot());
  if (context === undefined || origin === tracer.endpointOrigin) return null;
  if (!context.sampled) return { span: null, teracron: traceHeaderOf(context), traceparent: traceparentOf(context) };
  const span = openChild(context, operationName(method, host));
  span.metadata = { 'http.method': method, 'http.url': origin + pathWithoutQuery(path), 'http.host': host };
  return { span, teracron: traceHeaderOf(span), traceparent: traceparentOf(span) };
}

function openChild(parent: TraceContext, operation: string): ActiveSpan {
  if (parent instanceof ActiveSpan || parent instanceof SpanScope) return new ActiveSpan(parent.trace, parent, parent.workflow, operation, performance.now());
  return new ActiveSpan(parent.traceWords, parent.parentWords, tracer.httpWorkflow, operation, performance.now());
}

/** Where a request object (ClientRequest or undici's Request) keeps its call's span. */
export const kOutgoingSpan = Symbol('teracron.outgoingSpan');
/** undefined: not seen; null: seen, nothing (more) to record. */
export type TrackedRequest = { [kOutgoingSpan]?: ActiveSpan | null };

/** The response's headers are in: ends the request's span with the status, once. */
export function finishOutgoing(request: TrackedRequest, status: number): void {
  const span = request[kOutgoingSpan];
  if (span === undefined || span === null) return;
  request[kOutgoingSpan] = null;
  endOutgoing(span, status);
}

/** The call failed: fails the request's span, once. */
export function abortOutgoing(request: TrackedRequest, error: unknown): void {
  const span = request[kOutgoingSpan];
  if (span === undefined || span === null) return;
  request[kOutgoingSpan] = null;
  failOutgoing(span, error);
}

function endOutgoing(span: ActiveSpan, status: number): void {
  span.metadata!['http.status_code'] = status;
  if (status >= 500) {
    span.status = STATUS_FAILED;
    span.errorType = 'HTTPError';
    span.errorMessage = statusLine(status);
  }
  closeSpan(span);
}

/** A network error: its code (ECONNREFUSED, UND_ERR_SOCKET…) is the more useful type than `Error`. */
function failOutgoing(span: ActiveSpan, error: unknown): void {
  const described = describeError(error);
  const code = (error as { code?: unknown } | null)?.code;
  span.status = STATUS_FAILED;
  span.errorType = described.type === 'Error' && typeof code === 'string' && code !== '' ? code : described.type;
  span.errorMessage = described.message;
  closeSpan(span);
}

function pathWithoutQuery(path: string): string {
  const query = path.indexOf('?');
  return query < 0 ? path : path.slice(0, query);
}
