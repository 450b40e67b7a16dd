/**
 * The logs query on ClickHouse, answering the same JSON as SQLite's (docs/query-api.md, "Logs and
 * issues"). Logs read newest first by (timestamp, log_key): log_key is the batch id and the log's
 * place in it (packed-rows.ts), so within one millisecond a batch's later logs come first, as on
 * SQLite; logs of two batches in the same millisecond are ordered by batch id, which is the one
 * order every collector of a fleet agrees on (SQLite's is arrival). The log_key is the log's id,
 * and a page's cursor (store/log-cursor.ts, shared with SQLite) its last row's (timestamp, id):
 * the next page starts strictly after it.
 */
import type { WireAttributes } from '../../wire/batch-codec';
import type { QueryStore } from '../store-backend';
import { decodeLogCursor, encodeLogCursor, InvalidCursorError } from '../store/log-cursor';
import { LOG_LEVELS } from '../store/types';
import type { LogLevel, LogPage, LogsQuery, StoredLog } from '../store/types';
import { int, num, str } from './sql';
import type { RowReader } from './sql';

const LOG_COLUMNS =
  'log_key, timestamp, level, message, module, service, environment, host, pid, trace_id, span_id, extra, error_type, error_message, stack, fingerprint';

type LogRow = Omit<StoredLog, 'id' | 'extra'> & { log_key: string; extra: string };

/** A log_key (packed-rows.ts): the batch id (or a key made for a batch without one), `_`, its place. */
const LOG_KEY = /^[0-9a-z-]{1,48}_\d{7}$/;

export function clickHouseLogQueries(rows: RowReader): Pick<QueryStore, 'logs'> {
  return {
    async logs(project: string, query: LogsQuery): Promise<LogPage> {
      const filters = [`project = ${str(project)}`];
      if (query.level !== undefined) filters.push(`level IN (${levelsFrom(query.level).map(str).join(', ')})`);
      if (query.service !== undefined) filters.push(`service = ${str(query.service)}`);
      if (query.module !== undefined) filters.push(`module = ${str(query.module)}`);
      if (query.trace_id !== undefined) filters.push(`trace_id = ${str(query.trace_id)}`);
      if (query.from !== undefined) filters.push(`timestamp >= ${num(query.from)}`);
      if (query.to !== undefined) filters.push(`timestamp <= ${num(query.to)}`);
      if (query.text !== undefined && query.text !== '') {
        const text = str(query.text);
        filters.push(`(positionCaseInsensitiveUTF8(message, ${text}) > 0 OR positionCaseInsensitiveUTF8(ifNull(error_message, ''), ${text}) > 0)`);
      }
      if (query.cursor !== undefined) {
        const cursor = decodeLogCursor(query.cursor);
        // Another store's cursor decodes too: only an id of ours says where the page ended.
        if (!LOG_KEY.test(cursor.id)) throw new InvalidCursorError(query.cursor);
        filters.push(`(timestamp < ${num(cursor.timestamp)} OR (timestamp = ${num(cursor.timestamp)} AND log_key < ${str(cursor.id)}))`);
      }
      // One more than asked for says whether another page follows.
      const found = await rows<LogRow>(
        `SELECT ${LOG_COLUMNS} FROM logs FINAL WHERE ${filters.join(' AND ')}
         ORDER BY timestamp DESC, log_key DESC LIMIT ${int(query.limit + 1)}`,
      );
      const page = found.slice(0, query.limit);
      const last = page[page.length - 1];
      return {
        logs: page.map(toStoredLog),
        next_cursor: found.length > query.limit && last !== undefined ? encodeLogCursor({ timestamp: last.timestamp, id: last.log_key }) : null,
      };
    },
  };
}

/** The levels at `level` or above: `warn` keeps warn, error and fatal. */
function levelsFrom(level: LogLevel): readonly LogLevel[] {
  return LOG_LEVELS.slice(LOG_LEVELS.indexOf(level));
}

function toStoredLog(row: LogRow): StoredLog {
  return {
    id: row.log_key,
    timestamp: row.timestamp,
    level: row.level,
    message: row.message,
    module: row.module,
    service: row.service,
    environment: row.environment,
    host: row.host,
    pid: row.pid === null ? null : Number(row.pid),
    trace_id: row.trace_id,
    span_id: row.span_id,
    extra: JSON.parse(row.extra) as WireAttributes as StoredLog['extra'],
    error_type: row.error_type,
    error_message: row.error_message,
    stack: row.stack,
    fingerprint: row.fingerprint,
  };
}
