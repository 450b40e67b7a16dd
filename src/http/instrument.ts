/**
 * `instrumentHttp()`: turns on the automatic HTTP spans (what `teracron/auto` does after up()).
 * Subscribing costs nothing until a request comes; every subscriber starts with one look at the
 * tracer, so with no agent running (or tracing off) a request pays only that.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { hookClientRequest, onClientRequestError, onClientRequestStart, onClientResponse } from './client';
import { onUndiciCreate, onUndiciError, onUndiciHeaders } from './fetch';
import { onServerRequestStart, onServerResponseFinish } from './server';

const SUBSCRIPTIONS: ReadonlyArray<readonly [string, (message: unknown, name: string | symbol) => void]> = [
  ['http.server.request.start', onServerRequestStart],
  ['http.server.response.finish', onServerResponseFinish],
  ['http.client.request.start', onClientRequestStart],
  ['http.client.response.finish', onClientResponse],
  ['http.client.request.error', onClientRequestError],
  ['undici:request:create', onUndiciCreate],
  ['undici:request:headers', onUndiciHeaders],
  ['undici:request:error', onUndiciError],
];

let on = false;

/**
 * Records a span for every incoming request (http, https) and for every outgoing http/https
 * request and fetch() made inside a trace, and carries the trace in `X-Teracron-Trace` and W3C
 * `traceparent`. Idempotent. The spans are recorded while an agent runs (`up()`), whichever
 * comes first.
 */
export function instrumentHttp(): void {
  if (on) return;
  on = true;
  hookClientRequest(true);
  for (const [name, subscriber] of SUBSCRIPTIONS) subscribe(name, subscriber);
}

/** Turns it off again (for tests). */
export function uninstrumentHttp(): void {
  if (!on) return;
  on = false;
  hookClientRequest(false);
  for (const [name, subscriber] of SUBSCRIPTIONS) unsubscribe(name, subscriber);
}
