/**
 * Outgoing node:http / node:https calls.
 *
 * Node 20 publishes `http.client.request.start` from ClientRequest#_finish, that is, from end(),
 * after the request head has been serialized and (checked here) written to the socket, and it
 * publishes nothing earlier: too late to add a header. So the headers go in through the one
 * method every ClientRequest calls just before it serializes its head, `_implicitHeader` (from
 * the first write(), end() or flushHeaders()), wrapped once on the prototype: it starts the
 * span, adds the two headers with setHeader, and calls the original. The channels do the rest:
 * `request.start` starts a span for a request whose head was built in its constructor (headers
 * given as an array, or `Expect`), which then goes without our headers; `response.finish`
 * (response headers in) ends it with the status, `request.error` fails it. */
import { ClientRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { TRACEPARENT_HEADER, TRACE_HEADER } from '../tracing/propagation';
import { abortOutgoing, finishOutgoing, kOutgoingSpan as kSpan, startOutgoing } from './outgoing';
import type { TrackedRequest } from './outgoing';

const kWrapped = Symbol('teracron.wrapped');
type Tracked = ClientRequest & TrackedRequest;

type ImplicitHeader = ((this: ClientRequest) => void) & { [kWrapped]?: true };

let hooked = false;

/**
 * Turns the header hook on or off. The wrapper is installed once and stays (someone may have
 * wrapped it in turn); off, it is one flag check.
 */
export function hookClientRequest(on: boolean): void {
  hooked = on;
  const proto = ClientRequest.prototype as unknown as { _implicitHeader?: ImplicitHeader };
  const original = proto._implicitHeader;
  if (!on || typeof original !== 'function' || original[kWrapped] === true) return;
  const wrapped: ImplicitHeader = function (this: ClientRequest): void {
    if (hooked && (this as Tracked)[kSpan] === undefined) {
      try {
        begin(this as Tracked, true);
      } catch {
        // The call goes out untraced rather than not at all.
      }
    }
    return original.call(this);
  };
  wrapped[kWrapped] = true;
  proto._implicitHeader = wrapped;
}

/** `http.client.request.start`: the head is already out; trace a request the wrapper did not see. */
export function onClientRequestStart(message: unknown): void {
  const request = (message as { request: Tracked }).request;
  if (request[kSpan] !== undefined) return;
  try {
    begin(request, false);
  } catch {
    // as above
  }
}

/** `http.client.response.finish`: the response's headers are in. */
export function onClientResponse(message: unknown): void {
  const { request, response } = message as { request: Tracked; response: IncomingMessage };
  finishOutgoing(request, response.statusCode ?? 0);
}

/** `http.client.request.error`. */
export function onClientRequestError(message: unknown): void {
  const { request, error } = message as { request: Tracked; error: unknown };
  abortOutgoing(request, error);
}

const HOST_LINE = /\r\nhost:[ \t]*([^\r\n]*?)[ \t]*\r\n/i;

function begin(request: Tracked, canInject: boolean): void {
  const protocol = request.protocol ?? 'http:';
  // A head built in the constructor is already text, and getHeader() does not know its fields.
  const head = (request as { _header?: unknown })._header;
  const hostHeader = canInject || typeof head !== 'string' ? request.getHeader('host') : HOST_LINE.exec(head)?.[1];
  const host = typeof hostHeader === 'string' && hostHeader !== '' ? hostHeader : request.host;
  const call = startOutgoing(request.method, `${protocol}//${host}`, host, request.path);
  request[kSpan] = call?.span ?? null;
  if (call === null || !canInject) return;
  request.setHeader(TRACE_HEADER, call.teracron);
  // A traceparent the app (or another tracer) set is left as it is.
  if (!request.hasHeader(TRACEPARENT_HEADER)) request.setHeader(TRACEPARENT_HEADER, call.traceparent);
}
