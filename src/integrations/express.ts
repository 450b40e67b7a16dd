/**
 * `teracron/express`, for Express 4 and 5:
 *
 *   app.use(teracronMiddleware());      // first
 *   …routes…
 *   app.use(teracronErrorHandler());    // after the routes, before the app's own error handlers
 *
 * The route template is taken at the moment Express matches a route, not when the response
 * ends: by then an error that left a nested router has had `req.baseUrl` restored to the outer
 * router's value, and the span may already be closed by the server's own 'finish' listener.
 * So the middleware watches the two properties the router writes, `req.baseUrl` (entering and
 * leaving a mounted router) and `req.route` (a route matched), through per-request accessors.
 *
 * `req.baseUrl` holds the matched text of the URL, not the mount path: `app.use('/orgs/:org',
 * router)` gives `/orgs/acme`. When the router extends it, the mount layer's params are what
 * `req.params` holds at that moment (Express 4 and 5 both set them before trimming the prefix),
 * so whole segments equal to a param value are written back as `:name`, which keeps operations
 * as few as the app's routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ensureServerSpan, recordServerError, runInServerSpan, setServerRoute } from '../http/request-span';
import { tracer } from '../tracing/tracer';
import { routeTemplate } from './route';

/** The part of Express's request the integration reads (Express 4 and 5 alike). */
export interface ExpressRequestLike extends IncomingMessage {
  baseUrl?: string;
  route?: unknown;
  params?: unknown;
}

export type ExpressNext = (error?: unknown) => void;
export type ExpressMiddleware = (req: ExpressRequestLike, res: ServerResponse, next: ExpressNext) => void;
export type ExpressErrorMiddleware = (error: unknown, req: ExpressRequestLike, res: ServerResponse, next: ExpressNext) => void;

/** `app.use(teracronMiddleware())` before any other middleware and route. */
export function teracronMiddleware(): ExpressMiddleware {
  return function teracronMiddleware(req, res, next) {
    if (tracer.recorder === null) return next();
    ensureServerSpan(req, res);
    watchRouting(req);
    runInServerSpan(req, next);
  };
}

/**
 * `app.use(teracronErrorHandler())` after the routes: records the error on the request span and
 * passes it on unchanged, so the app's error handlers (or Express's final handler) answer as
 * they would without it. Express 5 brings rejected async handlers here by itself; in Express 4,
 * errors reach it when they are thrown synchronously or passed to `next(error)`.
 */
export function teracronErrorHandler(): ExpressErrorMiddleware {
  // Four parameters: that is how Express tells an error handler from a middleware.
  return function teracronErrorHandler(error, req, _res, next) {
    recordServerError(req, error);
    next(error);
  };
}

function watchRouting(req: ExpressRequestLike): void {
  const own = Object.getOwnPropertyDescriptor(req, 'route');
  // Already watched (the middleware mounted twice), or a property we must not touch.
  if (own !== undefined && (own.get !== undefined || !own.configurable)) return;
  const baseOwn = Object.getOwnPropertyDescriptor(req, 'baseUrl');
  if (baseOwn !== undefined && !baseOwn.configurable) return;

  let base: unknown = req.baseUrl;
  let route: unknown = req.route;
  let template: string | null = null;
  // Each base URL seen on this request with its template; a router leaving restores an
  // earlier value, which then maps back to the template it had.
  let basePattern = typeof base === 'string' ? base : '';
  const bases: string[] = [basePattern];
  const patterns: string[] = [basePattern];

  Object.defineProperty(req, 'baseUrl', {
    configurable: true,
    enumerable: true,
    get: () => base,
    set(value: unknown) {
      basePattern = typeof value === 'string' ? patternOf(value) : '';
      base = value;
    },
  });
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => route,
    set(value: unknown) {
      route = value;
      const tail = routeTemplate((value as { path?: unknown } | null | undefined)?.path);
      if (tail === null) return;
      const full = basePattern !== '' && tail === '/' ? basePattern : basePattern + tail;
      if (full === template) return;
      template = full;
      setServerRoute(req, full);
    },
  });

  function patternOf(value: string): string {
    const known = bases.indexOf(value);
    if (known >= 0) return patterns[known]!;
    const current = typeof base === 'string' ? base : '';
    const pattern = value.startsWith(current) ? basePattern + withParamNames(value.slice(current.length), req.params) : value;
    bases.push(value);
    patterns.push(pattern);
    return pattern;
  }
}

/** `/acme/teams/7` with params { org: 'acme', team: '7' } → `/:org/teams/:team` (in param order). */
function withParamNames(path: string, params: unknown): string {
  if (params === null || typeof params !== 'object') return path;
  const names = Object.keys(params);
  if (names.length === 0) return path;
  const segments = path.split('/');
  let from = 0;
  for (const name of names) {
    const value = (params as Record<string, unknown>)[name];
    if (typeof value !== 'string' || value === '') continue;
    for (let i = from; i < segments.length; i++) {
      if (segments[i] === value || safeDecode(segments[i]!) === value) {
        segments[i] = `:${name}`;
        from = i + 1;
        break;
      }
    }
  }
  return segments.join('/');
}

function safeDecode(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
