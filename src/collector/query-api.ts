/**
 * The read side (QUERY_API.md): every request carries `Authorization: Bearer <api key>`, the key
 * picks the project, and answers hold that project's data only. Parameters are checked before
 * any lookup; a bad one is a 400 that says which and how to fix it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError, sendJson } from './http-util';
import { keyForBearer } from './keys';
import type { ProjectKeys } from './keys';
import type { RateLimiter } from './rate-limit';
import { StoreUnavailableError } from './store-backend';
import type { QueryStore } from './store-backend';
import { isQueryId, MIN_TRACE_ID_PREFIX, TRACE_ID_LENGTH } from './validate';

export interface QueryContext {
  projects: Map<string, ProjectKeys>;
  store: QueryStore;
  limiter: RateLimiter;
}

const RUN_STATUSES = new Set(['succeeded', 'failed', 'in_progress']);

/** Answers a GET under /v1 or /api/v1; returns false when the path is not a query route. */
export async function handleQuery(ctx: QueryContext, path: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const route = matchRoute(path);
  if (route === null) return false;
  const project = authenticate(ctx, req, res);
  if (project === null) return true;
  const slug = project.slug;
  const params = url.searchParams;
  try {
    switch (route.name) {
      case 'whoami':
        sendJson(res, 200, { project_slug: slug, authenticated: true });
        return true;
      case 'runs': {
        const limit = readLimit(params, 50);
        const since = readSince(params);
        const status = params.get('status');
        if (status !== null && status !== '' && !RUN_STATUSES.has(status)) throw new BadParameter(`status=${JSON.stringify(status)} is not a run status`, 'use succeeded, failed or in_progress');
        const workflow = params.get('workflow');
        sendJson(res, 200, {
          events: await ctx.store.runs(slug, {
            limit,
            ...(workflow ? { workflow } : {}),
            ...(status ? { status: status as 'succeeded' | 'failed' | 'in_progress' } : {}),
            ...(since !== undefined ? { since } : {}),
          }),
        });
        return true;
      }
      case 'workflows':
        sendJson(res, 200, { workflows: await ctx.store.workflows(slug, readLimit(params, 20), readSince(params)) });
        return true;
      case 'trace': {
        const id = await fullTraceId(ctx, slug, checkId(route.id, 'trace id'), res);
        if (id === null) return true;
        const spans = await ctx.store.traceSpans(slug, id);
        if (spans.length === 0) return notFound(res, `no trace ${id} in project ${slug}`, 'check the id; traces older than the retention period are deleted');
        sendJson(res, 200, { trace_id: id, spans });
        return true;
      }
      case 'span': {
        const id = checkId(route.id, 'span id');
        const span = await ctx.store.span(slug, id);
        if (span === null) return notFound(res, `no span ${id} in project ${slug}`, 'check the id; spans older than the retention period are deleted');
        sendJson(res, 200, span);
        return true;
      }
      case 'metrics': {
        const pid = readInteger(params, 'pid');
        const from = readTime(params, 'from');
        const to = readTime(params, 'to');
        const limit = readLimit(params, 1000, 100_000);
        const service = params.get('service') || undefined;
        const [samples, pids, services] = await Promise.all([
          ctx.store.metrics(slug, {
            limit,
            ...(pid !== undefined ? { pid } : {}),
            ...(service !== undefined ? { service } : {}),
            ...(from !== undefined ? { from } : {}),
            ...(to !== undefined ? { to } : {}),
          }),
          ctx.store.pids(slug),
          ctx.store.services(slug),
        ]);
        sendJson(res, 200, { samples, pids, services });
        return true;
      }
      case 'recorded-events': {
        const since = readSince(params);
        const type = params.get('type');
        const workflow = params.get('workflow');
        sendJson(res, 200, {
          events: await ctx.store.events(slug, { limit: readLimit(params, 100), ...(since !== undefined ? { since } : {}), ...(type ? { type } : {}), ...(workflow ? { workflow } : {}) }),
        });
        return true;
      }
    }
  } catch (err) {
    if (err instanceof BadParameter) {
      sendError(res, 400, err.message, err.hint);
      return true;
    }
    if (err instanceof StoreUnavailableError) {
      sendError(res, 503, `the collector's store did not answer: ${err.message}`, 'retry after a few seconds; the collector logs why', { 'retry-after': '5' });
      return true;
    }
    throw err;
  }
}

type Route = { name: 'whoami' | 'runs' | 'workflows' | 'metrics' | 'recorded-events'; id?: undefined } | { name: 'trace' | 'span'; id: string };

function matchRoute(path: string): Route | null {
  switch (path) {
    case '/v1/auth/whoami':
      return { name: 'whoami' };
    case '/api/v1/events':
      return { name: 'runs' };
    case '/api/v1/workflows':
      return { name: 'workflows' };
    case '/api/v1/metrics':
      return { name: 'metrics' };
    case '/api/v1/recorded-events':
      return { name: 'recorded-events' };
  }
  const match = /^\/api\/v1\/(traces|spans)\/([^/]*)$/.exec(path);
  if (match === null) return null;
  return { name: match[1] === 'traces' ? 'trace' : 'span', id: decodePathSegment(match[2]!) };
}

/**
 * A segment whose percent-escapes are not UTF-8 (`%ZZ`, `%E0%A4%A`) is kept as sent: it is no
 * id either way, and checkId answers 400 naming it, where decodeURIComponent's URIError was a 500.
 */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function authenticate(ctx: QueryContext, req: IncomingMessage, res: ServerResponse): ProjectKeys | null {
  const header = req.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (match === null) {
    sendError(res, 401, header === undefined ? 'the Authorization header is missing' : 'the Authorization header is not "Bearer <api key>"', 'send Authorization: Bearer tcn_… with the project\'s API key (never in the URL)');
    return null;
  }
  const project = keyForBearer(ctx.projects, match[1]!);
  if (project === null) {
    sendError(res, 401, 'this API key belongs to no project on this collector', 'use the key printed by `teracron keygen` for a project whose keys are in this collector\'s keys/ directory');
    return null;
  }
  const allowed = ctx.limiter.take(project.apiKey);
  if (!allowed.ok) {
    sendError(res, 429, 'too many queries with this key', `retry after ${allowed.retryAfterS} s`, { 'retry-after': String(allowed.retryAfterS) });
    return null;
  }
  return project;
}

class BadParameter extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

function notFound(res: ServerResponse, error: string, hint: string): true {
  sendError(res, 404, error, hint);
  return true;
}

/** How many ids an ambiguous prefix's answer lists. */
const LISTED_MATCHES = 5;

/**
 * A whole trace id as it is; a prefix of 8 or more characters (what the dashboard shows) as the
 * one trace it starts. Null once an answer was sent: the prefix was too short (400), started no
 * trace (404) or several (409, listing a few so that the caller can pick).
 */
async function fullTraceId(ctx: QueryContext, slug: string, id: string, res: ServerResponse): Promise<string | null> {
  if (id.length >= TRACE_ID_LENGTH) return id;
  if (id.length < MIN_TRACE_ID_PREFIX) {
    throw new BadParameter(
      `trace id ${JSON.stringify(id)} has ${id.length} character${id.length === 1 ? '' : 's'}: a trace id prefix needs at least ${MIN_TRACE_ID_PREFIX}`,
      `give the whole ${TRACE_ID_LENGTH}-character trace id or its first ${MIN_TRACE_ID_PREFIX} or more characters (the dashboard shows the first ${MIN_TRACE_ID_PREFIX})`,
    );
  }
  const matches = await ctx.store.traceIdsWithPrefix(slug, id, LISTED_MATCHES + 1);
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) {
    notFound(res, `no trace id in project ${slug} starts with ${id}`, 'check the id; traces older than the retention period are deleted');
    return null;
  }
  const listed = matches.slice(0, LISTED_MATCHES);
  const count = matches.length > LISTED_MATCHES ? `more than ${LISTED_MATCHES}` : String(matches.length);
  sendJson(res, 409, {
    error: `trace id prefix ${id} is ambiguous: it starts ${count} traces in project ${slug} (${listed.join(', ')}${matches.length > LISTED_MATCHES ? ', …' : ''})`,
    hint: `give more characters of the trace id, up to all ${TRACE_ID_LENGTH}, so that it starts only one trace`,
    matches: listed,
  });
  return null;
}

function checkId(id: string, what: string): string {
  if (!isQueryId(id)) throw new BadParameter(`${what} ${JSON.stringify(id.slice(0, 80))} is not lowercase hex of at most 64 characters`, 'ids are the 32-hex trace_id / span_id fields of the spans');
  return id;
}

function readLimit(params: URLSearchParams, fallback: number, max = 1000): number {
  const raw = params.get('limit');
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new BadParameter(`limit=${JSON.stringify(raw.slice(0, 40))} is not a number`, `use a whole number from 1 to ${max}`);
  return Math.min(max, Math.max(1, Math.trunc(value)));
}

function readSince(params: URLSearchParams): number | undefined {
  const raw = params.get('since');
  if (raw === null || raw === '') return undefined;
  const time = Date.parse(raw);
  if (Number.isNaN(time) || !/^\d{4}-\d{2}-\d{2}/.test(raw)) throw new BadParameter(`since=${JSON.stringify(raw.slice(0, 40))} is not an ISO 8601 time`, 'use e.g. since=2026-11-21T10:00:00Z');
  return time;
}

function readTime(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  if (/^\d+$/.test(raw)) return Number(raw);
  const time = Date.parse(raw);
  if (Number.isNaN(time)) throw new BadParameter(`${name}=${JSON.stringify(raw.slice(0, 40))} is neither unix milliseconds nor an ISO 8601 time`, `use e.g. ${name}=${Date.now()}`);
  return time;
}

function readInteger(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^\d{1,10}$/.test(raw)) throw new BadParameter(`${name}=${JSON.stringify(raw.slice(0, 40))} is not a whole number`, `use e.g. ${name}=1234`);
  return Number(raw);
}
