/**
 * The writes of logs and of issues, run inside a batch's transaction (ingest.ts): a batch stored
 * once counts its errors once, and a duplicate batch_id stores and counts nothing.
 *
 * A batch's occurrences are folded per fingerprint first, so an issue row is written once per
 * batch however many times the error occurred in it. The upsert keeps what the list shows:
 * count, first and last seen, the latest occurrence's message, the latest stack sent and the
 * latest trace. Status columns are never written here: they belong to the query API
 * (issue-queries.ts), and a resolved issue that occurs again reads as a regression without a
 * write.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { WireLog, WireResource } from '../../wire/batch-codec';
import { optionalIdKey } from './ids';
import type { Db } from './open';
import { LOG_LEVELS } from './types';
import type { IssueOccurrence, LogLevel } from './types';

type Statement = BetterSqlite3.Statement;

export interface LogIngestState {
  insertLog: Statement;
  upsertIssue: Statement;
  insertOccurrence: Statement;
  insertService: Statement;
}

export function createLogIngest(db: Db): LogIngestState {
  return {
    insertLog: db.prepare(
      `INSERT INTO logs (project, timestamp, level, message, module, service, environment, host, pid, trace_id, span_id,
         extra, error_type, error_message, stack, fingerprint)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    // Unqualified columns in DO UPDATE are the stored row's values before this update.
    upsertIssue: db.prepare(
      `INSERT INTO issues (project, fingerprint, type, message, frames, count, first_seen, last_seen, last_trace_id, last_trace_at,
         latest_message, latest_stack, status)
       VALUES (@project, @fingerprint, @type, @message, @frames, @count, @first_seen, @last_seen, @last_trace_id, @last_trace_at,
         @latest_message, @latest_stack, 'open')
       ON CONFLICT (project, fingerprint) DO UPDATE SET
         count = count + excluded.count,
         first_seen = min(first_seen, excluded.first_seen),
         last_seen = max(last_seen, excluded.last_seen),
         latest_message = CASE WHEN excluded.last_seen >= last_seen THEN excluded.latest_message ELSE latest_message END,
         latest_stack = CASE WHEN excluded.latest_stack IS NOT NULL AND (latest_stack IS NULL OR @latest_stack_at >= last_seen)
           THEN excluded.latest_stack ELSE latest_stack END,
         last_trace_id = CASE WHEN excluded.last_trace_at IS NOT NULL AND (last_trace_at IS NULL OR excluded.last_trace_at >= last_trace_at)
           THEN excluded.last_trace_id ELSE last_trace_id END,
         last_trace_at = CASE WHEN excluded.last_trace_at IS NOT NULL AND (last_trace_at IS NULL OR excluded.last_trace_at >= last_trace_at)
           THEN excluded.last_trace_at ELSE last_trace_at END`,
    ),
    insertOccurrence: db.prepare(
      `INSERT INTO issue_occurrences (project, fingerprint, timestamp, source, level, service, message, trace_id, span_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertService: db.prepare(
      'INSERT INTO issue_services (project, fingerprint, service) VALUES (?, ?, ?) ON CONFLICT (project, fingerprint, service) DO NOTHING',
    ),
  };
}

export function levelRank(level: LogLevel): number {
  return LOG_LEVELS.indexOf(level);
}

export function writeLogs(
  state: LogIngestState, project: number, resource: WireResource | null, logs: readonly WireLog[], fingerprints: ReadonlyArray<string | null>,
): number {
  const service = resource?.service ?? null;
  const environment = resource?.environment ?? null;
  const host = resource?.host ?? null;
  const pid = resource?.pid ?? null;
  logs.forEach((log, i) => {
    state.insertLog.run(
      project, log.timestamp, levelRank(log.level as LogLevel), log.message, log.module ?? null, service, environment, host, pid,
      optionalIdKey(log.trace_id), optionalIdKey(log.span_id), log.extra == null ? '{}' : JSON.stringify(log.extra),
      log.error_type ?? null, log.error_message ?? null, log.stack ?? null, fingerprints[i] ?? null,
    );
  });
  return logs.length;
}

/** One issue's occurrences in a batch, folded. */
interface IssueDelta {
  project: number;
  fingerprint: string;
  type: string;
  message: string;
  frames: string;
  count: number;
  first_seen: number;
  last_seen: number;
  latest_message: string;
  latest_stack: string | null;
  latest_stack_at: number | null;
  last_trace_id: string | null;
  last_trace_at: number | null;
}

/** Stores the occurrences (of one batch, sent by `service`) and updates their issues. */
export function writeOccurrences(state: LogIngestState, project: number, service: string | null, occurrences: readonly IssueOccurrence[]): void {
  if (occurrences.length === 0) return;
  const deltas = new Map<string, IssueDelta>();
  for (const o of occurrences) {
    state.insertOccurrence.run(project, o.fingerprint, o.timestamp, o.source, o.level, service, o.message, o.trace_id, o.span_id);
    const delta = deltas.get(o.fingerprint);
    if (delta === undefined) {
      deltas.set(o.fingerprint, {
        project, fingerprint: o.fingerprint, type: o.type, message: o.normalized_message, frames: JSON.stringify(o.frames), count: 1,
        first_seen: o.timestamp, last_seen: o.timestamp, latest_message: o.message,
        latest_stack: o.stack, latest_stack_at: o.stack === null ? null : o.timestamp,
        last_trace_id: o.trace_id, last_trace_at: o.trace_id === null ? null : o.timestamp,
      });
      continue;
    }
    // Ties go to the later in the batch: it arrived last.
    delta.count++;
    delta.first_seen = Math.min(delta.first_seen, o.timestamp);
    if (o.timestamp >= delta.last_seen) {
      delta.last_seen = o.timestamp;
      delta.latest_message = o.message;
    }
    if (o.stack !== null && (delta.latest_stack_at === null || o.timestamp >= delta.latest_stack_at)) {
      delta.latest_stack = o.stack;
      delta.latest_stack_at = o.timestamp;
    }
    if (o.trace_id !== null && (delta.last_trace_at === null || o.timestamp >= delta.last_trace_at)) {
      delta.last_trace_id = o.trace_id;
      delta.last_trace_at = o.timestamp;
    }
  }
  for (const delta of deltas.values()) {
    state.upsertIssue.run(delta);
    if (service !== null) state.insertService.run(project, delta.fingerprint, service);
  }
}
