/**
 * Outgoing fetch() and undici calls, through the channels undici publishes (Node 20's fetch is
 * undici, and the npm package publishes on the same channel names): `undici:request:create` comes
 * while the request's headers can still be added (request.addHeader), `undici:request:headers`
 * when the response's arrive, `undici:request:error` when it fails.
 */
import { TRACEPARENT_HEADER, TRACE_HEADER } from '../tracing/propagation';
import { abortOutgoing, finishOutgoing, kOutgoingSpan as kSpan, startOutgoing } from './outgoing';
import type { TrackedRequest } from './outgoing';

/** The part of undici's Request read here (undici 6 and 7). */
interface UndiciRequest {
  origin?: unknown;
  method?: unknown;
  path?: unknown;
  /** An array of names and values in undici ≥ 6, a `name: value\r\n` string before. */
  headers?: unknown;
  addHeader?: (name: string, value: string) => unknown;
}

type Tracked = UndiciRequest & TrackedRequest;

export function onUndiciCreate(message: unknown): void {
  const request = (message as { request: Tracked }).request;
  if (request[kSpan] !== undefined || typeof request.origin !== 'string') return;
  try {
    const origin = request.origin;
    const method = typeof request.method === 'string' ? request.method : 'GET';
    const path = typeof request.path === 'string' ? request.path : '/';
    const call = startOutgoing(method, origin, hostOf(origin), path);
    request[kSpan] = call?.span ?? null;
    if (call === null || typeof request.addHeader !== 'function') return;
    request.addHeader(TRACE_HEADER, call.teracron);
    if (!hasTraceparent(request.headers)) request.addHeader(TRACEPARENT_HEADER, call.traceparent);
  } catch {
    // The call goes out untraced rather than not at all.
  }
}

export function onUndiciHeaders(message: unknown): void {
  const { request, response } = message as { request: Tracked; response: { statusCode?: number } };
  finishOutgoing(request, response?.statusCode ?? 0);
}

export function onUndiciError(message: unknown): void {
  const { request, error } = message as { request: Tracked; error: unknown };
  abortOutgoing(request, error);
}

function hostOf(origin: string): string {
  const start = origin.indexOf('//');
  return start < 0 ? origin : origin.slice(start + 2);
}

function hasTraceparent(headers: unknown): boolean {
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      if (typeof name === 'string' && name.length === 11 && name.toLowerCase() === TRACEPARENT_HEADER) return true;
    }
    return false;
  }
  return typeof headers === 'string' && headers.toLowerCase().includes(`${TRACEPARENT_HEADER}:`);
}
