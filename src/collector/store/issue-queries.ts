/**
 * Issues as the query API shows them, and the one write it makes: an issue's status.
 *
 * A regression is read, not stored: an issue whose status is `resolved` and whose last
 * occurrence is later than `resolved_at` reads as `open` with `regression` true. So ingest never
 * touches the status columns, and `status=open` lists regressed issues while `status=resolved`
 * leaves them out.
 *
 * The status is set on the query connection, the only write it makes. BEGIN IMMEDIATE waits
 * (busy_timeout, open.ts) for the writer thread's transaction in progress instead of failing.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Db } from './open';
import { HOUR_MS, hourOf } from './workflow-hours';
import type { IssueDetail, IssueStatus, IssueSummary, IssuesQuery, LogLevel } from './types';

interface IssueRow {
  fingerprint: string;
  type: string;
  message: string;
  status: IssueStatus;
  resolved_at: number | null;
  count: number;
  first_seen: number;
  last_seen: number;
  services: string;
  last_trace_id: string | null;
  frames: string;
  status_changed_at: number | null;
}

type Occurrence = IssueDetail['occurrences'][number];

export interface IssueQueryState {
  db: Db;
  lists: Map<string, BetterSqlite3.Statement<unknown[], IssueRow>>;
  one: BetterSqlite3.Statement<unknown[], IssueRow & { latest_message: string; latest_stack: string | null }>;
  hourly: BetterSqlite3.Statement<unknown[], { hour: number; count: number }>;
  occurrences: BetterSqlite3.Statement<unknown[], Occurrence>;
  setStatus: BetterSqlite3.Transaction<(project: number, fingerprint: string, status: IssueStatus, now: number) => boolean>;
}

/** How many occurrences the detail lists. */
export const LATEST_OCCURRENCES = 20;

const SUMMARY_COLUMNS = `fingerprint, type, message, status, resolved_at, count, first_seen, last_seen, last_trace_id, frames, status_changed_at,
  (SELECT json_group_array(service) FROM issue_services AS s WHERE s.project = i.project AND s.fingerprint = i.fingerprint) AS services`;

/** Stored status → what the filter keeps, with a regression counted as open. */
const STATUS_FILTER: Record<IssueStatus, string> = {
  open: " AND (status = 'open' OR (status = 'resolved' AND last_seen > resolved_at))",
  resolved: " AND status = 'resolved' AND last_seen <= resolved_at",
  ignored: " AND status = 'ignored'",
};
const ORDER: Record<IssuesQuery['sort'], string> = {
  last_seen: 'last_seen DESC, fingerprint',
  count: 'count DESC, last_seen DESC, fingerprint',
};

export function createIssueQueries(db: Db): IssueQueryState {
  const update = db.prepare(
    `UPDATE issues SET status = @status, status_changed_at = @now, resolved_at = CASE WHEN @status = 'resolved' THEN @now ELSE NULL END
     WHERE project = @project AND fingerprint = @fingerprint`,
  );
  return {
    db,
    lists: new Map(),
    one: db.prepare(`SELECT ${SUMMARY_COLUMNS}, latest_message, latest_stack FROM issues AS i WHERE project = ? AND fingerprint = ?`),
    hourly: db.prepare(
      `SELECT timestamp / ${HOUR_MS} AS hour, count(*) AS count FROM issue_occurrences
       WHERE project = ? AND fingerprint = ? AND timestamp >= ? AND timestamp < ? GROUP BY 1`,
    ),
    occurrences: db.prepare(
      `SELECT timestamp, source, level, service, message, trace_id, span_id FROM issue_occurrences
       WHERE project = ? AND fingerprint = ? ORDER BY timestamp DESC, id DESC LIMIT ${LATEST_OCCURRENCES}`,
    ),
    setStatus: db.transaction((project: number, fingerprint: string, status: IssueStatus, now: number) =>
      update.run({ project, fingerprint, status, now }).changes > 0,
    ),
  };
}

export function listIssues(q: IssueQueryState, project: number, query: IssuesQuery): IssueSummary[] {
  const key = `${query.status ?? ''}|${query.service === undefined ? '' : 's'}|${query.sort}`;
  let statement = q.lists.get(key);
  if (statement === undefined) {
    statement = q.db.prepare<unknown[], IssueRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM issues AS i WHERE project = ?${query.status === undefined ? '' : STATUS_FILTER[query.status]}${
        query.service === undefined ? '' : ' AND EXISTS (SELECT 1 FROM issue_services AS s WHERE s.project = i.project AND s.fingerprint = i.fingerprint AND s.service = ?)'
      } ORDER BY ${ORDER[query.sort]} LIMIT ?`,
    );
    q.lists.set(key, statement);
  }
  const params: unknown[] = [project];
  if (query.service !== undefined) params.push(query.service);
  params.push(query.limit);
  return statement.all(...params).map(toSummary);
}

export function findIssue(q: IssueQueryState, project: number, fingerprint: string, hours: number, now: number): IssueDetail | null {
  const row = q.one.get(project, fingerprint);
  if (row === undefined) return null;
  const lastHour = hourOf(now);
  const firstHour = lastHour - hours + 1;
  const counts = new Map<number, number>();
  for (const { hour, count } of q.hourly.all(project, fingerprint, firstHour * HOUR_MS, (lastHour + 1) * HOUR_MS)) counts.set(hour, count);
  const hourly = Array.from({ length: hours }, (_, i) => ({ hour: (firstHour + i) * HOUR_MS, count: counts.get(firstHour + i) ?? 0 }));
  return {
    issue: toSummary(row),
    latest_message: row.latest_message,
    latest_stack: row.latest_stack,
    hourly,
    occurrences: q.occurrences.all(project, fingerprint).map((o) => ({ ...o, level: o.level as LogLevel | null })),
  };
}

/** Sets the status as of `now`; the issue as it then reads, or null when there is none. */
export function setIssueStatus(q: IssueQueryState, project: number, fingerprint: string, status: IssueStatus, now: number): IssueSummary | null {
  // IMMEDIATE: take the write lock up front, waiting for the writer thread, rather than fail
  // with SQLITE_BUSY on upgrading a read.
  if (!q.setStatus.immediate(project, fingerprint, status, now)) return null;
  const row = q.one.get(project, fingerprint);
  return row === undefined ? null : toSummary(row);
}

function toSummary(row: IssueRow): IssueSummary {
  const regression = row.status === 'resolved' && row.resolved_at !== null && row.last_seen > row.resolved_at;
  return {
    fingerprint: row.fingerprint,
    type: row.type,
    message: row.message,
    status: regression ? 'open' : row.status,
    regression,
    count: row.count,
    first_seen: row.first_seen,
    last_seen: row.last_seen,
    services: (JSON.parse(row.services) as string[]).sort(),
    last_trace_id: row.last_trace_id,
    frames: JSON.parse(row.frames) as string[],
    status_changed_at: row.status_changed_at,
  };
}
