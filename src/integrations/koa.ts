/**
 * `teracron/koa`, for Koa 2: `app.use(teracronKoa())` before any other middleware.
 *
 * The rest of the chain runs inside the request span's context. The route template is
 * @koa/router's `ctx._matchedRoute` (prefixes of nested routers included), read when the chain
 * returns or throws, which is before Koa writes the response. An error is recorded and thrown
 * on as the very same object, so Koa's own handling (`ctx.onerror`, `app.on('error')`) answers
 * with the status and body it would give without the middleware.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ensureServerSpan, recordServerError, runInServerSpan, setServerRoute } from '../http/request-span';
import { tracer } from '../tracing/tracer';
import { routeTemplate } from './route';

/** The part of Koa's context the middleware reads. */
export interface KoaContextLike {
  req: IncomingMessage;
  res: ServerResponse;
  _matchedRoute?: unknown;
}
export type KoaNext = () => Promise<unknown>;
export type KoaMiddleware = (ctx: KoaContextLike, next: KoaNext) => Promise<unknown>;

export function teracronKoa(): KoaMiddleware {
  return function teracronKoa(ctx, next) {
    if (tracer.recorder === null) return next();
    return inServerSpan(ctx, next);
  };
}

async function inServerSpan(ctx: KoaContextLike, next: KoaNext): Promise<void> {
  const req = ctx.req;
  ensureServerSpan(req, ctx.res);
  try {
    await runInServerSpan(req, next);
  } catch (error) {
    recordServerError(req, error);
    throw error;
  } finally {
    const route = routeTemplate(ctx._matchedRoute);
    if (route !== null) setServerRoute(req, route);
  }
}
