/** GET /api/v1/logs (docs/query-api.md, "Logs and issues"): parameters checked, then the store's page. */
import type { ServerResponse } from 'node:http';
import { sendJson } from './http-util';
import { BadParameter, readLimit, readTime } from './query-params';
import type { QueryStore } from './store-backend';
import { LOG_LEVELS } from './store/types';
import type { LogLevel, LogsQuery } from './store/types';
import { HEX32 } from './validate';

export async function answerLogs(store: QueryStore, slug: string, params: URLSearchParams, res: ServerResponse): Promise<void> {
  const query: LogsQuery = { limit: readLimit(params, 100) };
  const level = params.get('level');
  if (level !== null && level !== '') {
    if (!(LOG_LEVELS as readonly string[]).includes(level)) {
      throw new BadParameter(`level=${JSON.stringify(level.slice(0, 40))} is not a log level`, 'use debug, info, warn, error or fatal; it is a minimum: level=warn keeps warn, error and fatal');
    }
    query.level = level as LogLevel;
  }
  const traceId = params.get('trace_id');
  if (traceId !== null && traceId !== '') {
    if (!HEX32.test(traceId)) {
      throw new BadParameter(`trace_id=${JSON.stringify(traceId.slice(0, 80))} is not a whole trace id`, 'give all 32 lowercase hex characters of the trace id (the trace_id field of a log or span)');
    }
    query.trace_id = traceId;
  }
  for (const [param, field] of [['service', 'service'], ['module', 'module'], ['q', 'text'], ['cursor', 'cursor']] as const) {
    const value = params.get(param);
    if (value !== null && value !== '') query[field] = value;
  }
  const from = readTime(params, 'from');
  const to = readTime(params, 'to');
  if (from !== undefined) query.from = from;
  if (to !== undefined) query.to = to;
  sendJson(res, 200, await store.logs(slug, query));
}
