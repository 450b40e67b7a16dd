/**
 * The logs listing: newest first (timestamp, then rowid, which is arrival order), every filter
 * of docs/query-api.md, and keyset paging. A page fetches one log more than asked to know
 * whether another page follows; its cursor is the last log's (timestamp, rowid), and the next
 * page starts strictly after it, so logs that share a millisecond are neither repeated nor
 * skipped across pages.
 *
 * Each filter combination is one statement, prepared on first use, so SQLite picks the index
 * that fits it: logs_trace for a trace, else logs_time. A minimum level is read level by level
 * from logs_level, each level's logs already in time order, and the few lists merged here: a
 * range over levels would have SQLite sort every error the project ever logged to return 100.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { WireAttributes } from '../../wire/batch-codec';
import { idKey, optionalIdText } from './ids';
import type { IdKey } from './ids';
import { decodeLogCursor, encodeLogCursor, InvalidCursorError } from './log-cursor';
import { levelRank } from './log-ingest';
import type { Db } from './open';
import { LOG_LEVELS } from './types';
import type { LogPage, LogsQuery, StoredLog } from './types';

interface LogRow extends Omit<StoredLog, 'id' | 'level' | 'trace_id' | 'span_id' | 'extra'> {
  id: number;
  level: number;
  trace_id: IdKey | null;
  span_id: IdKey | null;
  extra: string;
}

export interface LogQueryState {
  db: Db;
  /** By filter bits (see logsSql). */
  statements: Map<number, BetterSqlite3.Statement<unknown[], LogRow>>;
}

const CONTAINS = 'teracron_contains_ci';

export function createLogQueries(db: Db): LogQueryState {
  // SQLite's lower() and LIKE fold ASCII only; "ignoring case" should hold for any script.
  db.function(CONTAINS, { deterministic: true }, (text: unknown, needle: unknown) =>
    typeof text === 'string' && typeof needle === 'string' && text.toLowerCase().includes(needle) ? 1 : 0,
  );
  return { db, statements: new Map() };
}

/**
 * The filters as bits of a statement's key, each with its clause. listLogs passes the
 * parameters in this order, after the project.
 */
const LEVEL = 1;
const MIN_LEVEL = 2;
const SERVICE = 4;
const MODULE = 8;
const TEXT = 16;
const TRACE = 32;
const FROM = 64;
const TO = 128;
const CURSOR = 256;
const CLAUSES: ReadonlyArray<[bit: number, sql: string]> = [
  // One level, from logs_level in time order.
  [LEVEL, 'level = ?'],
  // A filter on the rows another index gives: the unary + keeps logs_level out.
  [MIN_LEVEL, '+level >= ?'],
  [SERVICE, 'service = ?'],
  [MODULE, 'module = ?'],
  [TEXT, `(${CONTAINS}(message, ?) OR ${CONTAINS}(error_message, ?))`],
  [TRACE, 'trace_id = ?'],
  [FROM, 'timestamp >= ?'],
  [TO, 'timestamp <= ?'],
  // After the cursor's (timestamp, id); `timestamp <= ?` lets the index start there.
  [CURSOR, 'timestamp <= ? AND (timestamp < ? OR id < ?)'],
];

export function logsSql(bits: number): string {
  const where = ['project = ?', ...CLAUSES.filter(([bit]) => bits & bit).map(([, sql]) => sql)].join(' AND ');
  return `SELECT id, timestamp, level, message, module, service, environment, host, pid, trace_id, span_id, extra,
      error_type, error_message, stack, fingerprint
    FROM logs WHERE ${where} ORDER BY timestamp DESC, id DESC LIMIT ?`;
}

export function listLogs(state: LogQueryState, project: number, query: LogsQuery): LogPage {
  const cursor = query.cursor === undefined ? undefined : decodeLogCursor(query.cursor);
  if (cursor !== undefined && !/^\d{1,16}$/.test(cursor.id)) throw new InvalidCursorError(query.cursor!);
  const rank = query.level === undefined ? 0 : levelRank(query.level);
  // With a trace, its few logs come from logs_trace and the level only filters them.
  const levelByLevel = rank > 0 && query.trace_id === undefined;
  let bits = rank === 0 ? 0 : levelByLevel ? LEVEL : MIN_LEVEL;
  const params: unknown[] = [];
  if (query.service !== undefined) {
    bits |= SERVICE;
    params.push(query.service);
  }
  if (query.module !== undefined) {
    bits |= MODULE;
    params.push(query.module);
  }
  if (query.text !== undefined && query.text !== '') {
    bits |= TEXT;
    const needle = query.text.toLowerCase();
    params.push(needle, needle);
  }
  if (query.trace_id !== undefined) {
    bits |= TRACE;
    params.push(idKey(query.trace_id));
  }
  if (query.from !== undefined) {
    bits |= FROM;
    params.push(query.from);
  }
  if (query.to !== undefined) {
    bits |= TO;
    params.push(query.to);
  }
  if (cursor !== undefined) {
    bits |= CURSOR;
    params.push(cursor.timestamp, cursor.timestamp, Number(cursor.id));
  }
  const fetch = query.limit + 1;
  const read = statement(state, bits);
  const rows = levelByLevel
    ? LOG_LEVELS.slice(rank).flatMap((_, i) => read.all(project, rank + i, ...params, fetch)).sort(newestFirst).slice(0, fetch)
    : read.all(project, ...(rank === 0 ? [] : [rank]), ...params, fetch);
  const more = rows.length > query.limit;
  const logs = (more ? rows.slice(0, query.limit) : rows).map(toStoredLog);
  const last = logs[logs.length - 1];
  return { logs, next_cursor: more && last !== undefined ? encodeLogCursor(last) : null };
}

function newestFirst(a: LogRow, b: LogRow): number {
  return b.timestamp - a.timestamp || b.id - a.id;
}

function statement(state: LogQueryState, bits: number): BetterSqlite3.Statement<unknown[], LogRow> {
  let prepared = state.statements.get(bits);
  if (prepared === undefined) {
    prepared = state.db.prepare<unknown[], LogRow>(logsSql(bits));
    state.statements.set(bits, prepared);
  }
  return prepared;
}

function toStoredLog(row: LogRow): StoredLog {
  return {
    id: String(row.id),
    timestamp: row.timestamp,
    level: LOG_LEVELS[row.level]!,
    message: row.message,
    module: row.module,
    service: row.service,
    environment: row.environment,
    host: row.host,
    pid: row.pid,
    trace_id: optionalIdText(row.trace_id),
    span_id: optionalIdText(row.span_id),
    extra: JSON.parse(row.extra) as WireAttributes,
    error_type: row.error_type,
    error_message: row.error_message,
    stack: row.stack,
    fingerprint: row.fingerprint,
  };
}
