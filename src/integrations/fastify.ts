/**
 * `teracron/fastify`, for Fastify 5: `await fastify.register(teracronFastify)` before the
 * routes. The plugin carries Fastify's `skip-override` mark (what fastify-plugin sets) so its
 * hooks apply to the whole application instead of staying inside the plugin's own scope.
 *
 * onRequest starts (or joins) the request span and calls Fastify's `done` inside the span's
 * context: the rest of the hook chain and the handler are called from there, so spans started
 * in the handler, before or after an await, are the request span's children. The route
 * template is known at that point (`request.routeOptions.url`, prefixes included). onError only
 * records: Fastify's error handler answers exactly as it would without the plugin.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ensureServerSpan, recordServerError, runInServerSpan, setServerRoute } from '../http/request-span';
import { tracer } from '../tracing/tracer';
import { routeTemplate } from './route';

/** The parts of Fastify's request and reply the plugin reads. */
export interface FastifyRequestLike {
  raw: IncomingMessage;
  routeOptions?: { url?: unknown };
}
export interface FastifyReplyLike {
  raw: ServerResponse;
}
export type FastifyHookDone = (error?: Error) => void;

export interface FastifyInstanceLike {
  addHook(name: 'onRequest', hook: (request: FastifyRequestLike, reply: FastifyReplyLike, done: FastifyHookDone) => void): unknown;
  addHook(name: 'onError', hook: (request: FastifyRequestLike, reply: FastifyReplyLike, error: Error, done: FastifyHookDone) => void): unknown;
}

export function teracronFastify(instance: FastifyInstanceLike, _options: unknown, done: FastifyHookDone): void {
  instance.addHook('onRequest', onRequest);
  instance.addHook('onError', onError);
  done();
}

const marks = teracronFastify as unknown as Record<symbol, unknown>;
marks[Symbol.for('skip-override')] = true;
marks[Symbol.for('fastify.display-name')] = 'teracron';
marks[Symbol.for('plugin-meta')] = { name: 'teracron' };

export default teracronFastify;

function onRequest(request: FastifyRequestLike, reply: FastifyReplyLike, done: FastifyHookDone): void {
  if (tracer.recorder === null) return done();
  const req = request.raw;
  ensureServerSpan(req, reply.raw);
  const route = routeTemplate(request.routeOptions?.url);
  if (route !== null) setServerRoute(req, route);
  runInServerSpan(req, done);
}

function onError(request: FastifyRequestLike, _reply: FastifyReplyLike, error: Error, done: FastifyHookDone): void {
  recordServerError(request.raw, error);
  done();
}
