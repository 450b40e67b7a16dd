/**
 * The query side (QUERY_API.md, docs/query-api.md): every request carries `Authorization: Bearer
 * <api key>`, the key picks the project, and answers hold that project's data only. Parameters
 * are checked before any lookup; a bad one is a 400 that says which and how to fix it. All reads
 * but one write: PATCH of an issue's status, authenticated and rate-limited the same way.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError, sendJson } from './http-util';
import { answerIssue, answerIssues, patchIssue } from './issues-api';
import { keyForBearer } from './keys';
import type { ProjectKeys } from './keys';
import { answerLogs } from './logs-api';
import type { RateLimiter } from './rate-limit';
import { InvalidCursorError } from './store/log-cursor';
import { StoreUnavailableError } from './store-backend';
import type { QueryStore } from './store-backend';
import { BadParameter, checkId, decodePathSegment, readInteger, readLimit, readSince, readTime } from './query-params';
import { MIN_TRACE_ID_PREFIX, TRACE_ID_LENGTH } from './validate';

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
      case 'logs':
        await answerLogs(ctx.store, slug, params, res);
        return true;
      case 'issues':
        await answerIssues(ctx.store, slug, params, res);
        return true;
      case 'issue':
        await answerIssue(ctx.store, slug, route.id, params, res);
        return true;
    }
  } catch (err) {
    return answerError(res, err);
  }
}

/** Answers a PATCH of the query API (an issue's status); returns false when the path is not one. */
export async function handleQueryPatch(ctx: QueryContext, path: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const route = matchRoute(path);
  if (route?.name !== 'issue') return false;
  const project = authenticate(ctx, req, res);
  if (project === null) return true;
  try {
    await patchIssue(ctx.store, project.slug, route.id, req, res);
    return true;
  } catch (err) {
    return answerError(res, err);
  }
}

/** The refusals a query can end in; anything else is the collector's own error (500). */
function answerError(res: ServerResponse, err: unknown): true {
  if (err instanceof BadParameter || err instanceof InvalidCursorError) {
    sendError(res, 400, err.message, err.hint);
    return true;
  }
  if (err instanceof StoreUnavailableError) {
    sendError(res, 503, `the collector's store did not answer: ${err.message}`, 'retry after a few seconds; the collector logs why', { 'retry-after': '5' });
    return true;
  }
  throw err;
}

type Route =
  | { name: 'whoami' | 'runs' | 'workflows' | 'metrics' | 'recorded-events' | 'logs' | 'issues'; id?: undefined }
  | { name: 'trace' | 'span' | 'issue'; id: string };

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
    case '/api/v1/logs':
      return { name: 'logs' };
    case '/api/v1/issues':
      return { name: 'issues' };
  }
  const match = /^\/api\/v1\/(traces|spans|issues)\/([^/]*)$/.exec(path);
  if (match === null) return null;
  return { name: match[1] === 'traces' ? 'trace' : match[1] === 'spans' ? 'span' : 'issue', id: decodePathSegment(match[2]!) };
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

