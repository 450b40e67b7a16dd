/**
 * The span of one incoming HTTP request. The diagnostics_channel subscribers (server.ts) start
 * and end it; the framework integrations (express, fastify, koa) add what only they know through
 * the four exported functions, and start it themselves when no subscriber did.
 *
 * Context: the span is entered for the current async scope when the request starts, that is,
 * written into the async resource Node runs the request's parser callbacks in (the connection's
 * HTTPServerAsyncResource: one object for every request of a keep-alive connection). The
 * 'request' handler runs synchronously from there, and what it starts (promises, timers, I/O)
 * copies the store as it is created, so the span stays current through awaits. The next request
 * on the connection writes its own span before its handler runs, and a span that ends while it
 * is still in the slot takes itself out, so nothing leaks from one request to the next.
 *
 * Name: `METHOD route`, the route being the framework's template, else the path with ids folded
 * (path.ts), else, for a 404 that no route named, UNMATCHED_ROUTE.
 *
 * End: at `http.server.response.finish`, else at the response's 'close' (which Node emits after
 * finish, and alone when the connection goes first). Close without finish means the client left
 * before the response was complete: the span fails with error type ClientClosedRequest and has
 * no http.status_code (none reached the client).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { IdWords } from '../recorder/ids';
import { STATUS_FAILED } from '../ring/layout';
import { TraceScope, contextSlot, readContext, writeContext } from '../tracing/context';
import type { ContextSlot } from '../tracing/context';
import { closePlainWindow, listenPlain } from '../tracing/event-emitter';
import { TRACE_HEADER, formatTraceHeader } from '../tracing/propagation';
import { ActiveSpan, describeError } from '../tracing/span';
import { closeSpan, tracer } from '../tracing/tracer';
import { incomingTrace } from './incoming';
import { foldPath, operationName, pathOf, UNMATCHED_ROUTE } from './path';

export class ServerSpan extends ActiveSpan {
  /** Taken at the start: routers rewrite req.url (Express strips a mount path) while they route. */
  readonly path: string;
  /** The framework's route template, when one was set. */
  route: string | null = null;
  /** Fail whatever the status (recordServerError with fail). */
  forceFail = false;
  done = false;
  /** Where the span was entered at the start, to take it out at the end. */
  slot: ContextSlot = null;

  constructor(trace: IdWords, parent: IdWords | null, workflow: string, path: string) {
    super(trace, parent, workflow, '', performance.now());
    this.path = path;
  }
}

const kState = Symbol('teracron.request');
/** undefined: not seen; null: not traced (a teracron agent's own request). */
type RequestState = ServerSpan | TraceScope | null;
type Tracked = IncomingMessage & { [kState]?: RequestState };

/**
 * Starts the request's span unless the diagnostics subscriber already did (no preload), and
 * enters its context for the current async scope. Idempotent; no-op when tracing is off/not started.
 */
export function ensureServerSpan(req: IncomingMessage, res: ServerResponse): void {
  if (tracer.recorder === null) return;
  try {
    enterRequest(req, res);
  } catch {
    // A request must never fail because of its span.
  }
}

/** Runs fn inside the request span's context (fn() as is when there is none). */
export function runInServerSpan<T>(req: IncomingMessage, fn: () => T): T {
  const state = (req as Tracked)[kState];
  if (state === undefined || state === null) return fn();
  const slot = contextSlot();
  const previous = readContext(slot);
  writeContext(slot, state);
  try {
    return fn();
  } finally {
    writeContext(slot, previous);
  }
}

/** The route template (e.g. '/users/:id'): sets http.route and the operation `METHOD template`. */
export function setServerRoute(req: IncomingMessage, template: string): void {
  const state = (req as Tracked)[kState];
  if (state instanceof ServerSpan && typeof template === 'string' && template !== '') state.route = template;
}

/**
 * Records an error the framework handled (type + message, http.error_type); the span fails if
 * the final status is >= 500 or if `fail` is true. The first error recorded is kept (the cause;
 * later ones are usually its consequences).
 */
export function recordServerError(req: IncomingMessage, error: unknown, fail?: boolean): void {
  const state = (req as Tracked)[kState];
  if (!(state instanceof ServerSpan) || state.done) return;
  if (state.errorType === null) {
    const described = describeError(error);
    state.errorType = described.type;
    state.errorMessage = described.message;
  }
  if (fail === true) state.forceFail = true;
}

/**
 * Starts (once) and enters the request's context. With tracing off it only makes sure no span of
 * an earlier request on the same connection is current.
 */
export function enterRequest(req: IncomingMessage, res: ServerResponse): void {
  const slot = contextSlot();
  const tracked = req as Tracked;
  let state = tracked[kState];
  if (state === undefined) {
    if (tracer.recorder === null) {
      if (readContext(slot) !== undefined) writeContext(slot, undefined);
      return;
    }
    state = startRequest(req, res, slot);
    tracked[kState] = state;
  }
  writeContext(slot, state ?? undefined);
}

function startRequest(req: IncomingMessage, res: ServerResponse, slot: ContextSlot): RequestState {
  const incoming = incomingTrace(req);
  if (incoming === null) return null;
  let state: ServerSpan | TraceScope;
  let header: string;
  if (incoming.sampled) {
    const span = new ServerSpan(incoming.trace, incoming.parent, tracer.httpWorkflow, pathOf(req.url));
    span.slot = slot;
    listenPlain(res, 'close', onResponseClose);
    header = formatTraceHeader(span.trace, span);
    state = span;
  } else {
    state = new TraceScope(incoming.trace, incoming.parent, false);
    header = formatTraceHeader(incoming.trace, null);
  }
  // `<trace_id>:<span_id>`, or `<trace_id>` when unsampled; the lowercase name spares setHeader a copy.
  if (!res.headersSent) {
    try {
      res.setHeader(TRACE_HEADER, header);
    } catch {
      // A response object that refuses headers is the app's business, not ours.
    }
  }
  return state;
}

/** The response is complete (the channel's response.finish): ends the span with its status. */
export function finishRequest(req: IncomingMessage, res: ServerResponse): void {
  const state = (req as Tracked)[kState];
  if (state instanceof ServerSpan && !state.done) endRequest(state, req, res, false);
}

function onResponseClose(this: ServerResponse): void {
  const req = this.req as Tracked | undefined;
  const state = req?.[kState];
  if (state instanceof ServerSpan && !state.done) {
    try {
      endRequest(state, req!, this, !this.writableFinished);
    } catch {
      // Never from an emit of the app's response.
    }
  }
}

const ABORTED_TYPE = 'ClientClosedRequest';
const ABORTED_MESSAGE = 'the client closed the connection before the response was complete';

function endRequest(span: ServerSpan, req: IncomingMessage, res: ServerResponse, aborted: boolean): void {
  span.done = true;
  closePlainWindow(res);
  const slot = span.slot;
  if (slot !== null && readContext(slot) === span) writeContext(slot, undefined);
  const method = req.method ?? 'GET';
  const path = span.path;
  const status = res.statusCode;
  // A route that exists and answers 404 (a missing user) keeps its name; a path nothing routed does not.
  const unmatched = span.route === null && status === 404;
  const route = span.route ?? (unmatched ? null : foldPath(path));
  span.operation = operationName(method, route ?? UNMATCHED_ROUTE);
  const metadata: Record<string, unknown> = { 'http.method': method, 'http.path': path };
  if (route !== null) metadata['http.route'] = route;
  if (!aborted) metadata['http.status_code'] = status;
  if (span.errorType !== null) metadata['http.error_type'] = span.errorType;
  span.metadata = span.metadata === null ? metadata : Object.assign(span.metadata, metadata);
  if (aborted) {
    span.status = STATUS_FAILED;
    if (span.errorType === null) {
      span.errorType = ABORTED_TYPE;
      span.errorMessage = ABORTED_MESSAGE;
    }
  } else if (status >= 500 || span.forceFail) {
    span.status = STATUS_FAILED;
    if (span.errorType === null) {
      span.errorType = 'HTTPError';
      span.errorMessage = statusLine(status);
    }
  } else {
    // A handled error that did not fail the request stays in http.error_type only.
    span.errorType = null;
    span.errorMessage = null;
  }
  closeSpan(span);
}

/** `500 Internal Server Error`. */
export function statusLine(status: number): string {
  const text = STATUS_CODES[status];
  return text === undefined ? String(status) : `${status} ${text}`;
}
