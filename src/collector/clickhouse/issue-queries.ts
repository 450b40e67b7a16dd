/**
 * Issues on ClickHouse, answering the same JSON as SQLite's (docs/query-api.md, "Logs and
 * issues"). An issue is folded at read time from its occurrences (FINAL collapses the copies two
 * racing collectors may write; schema.ts says why there is no aggregate), joined with the latest
 * status set through the API. Regression is read, not stored: an issue resolved at R with an
 * occurrence later than R reads `open` with `regression` true, so nothing has to be written when
 * the error comes back, and resolving again (a later R) or setting `open` clears it.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { StoreUnavailableError } from '../store-backend';
import type { QueryStore } from '../store-backend';
import type { IssueDetail, IssuesQuery, IssueStatus, IssueSummary } from '../store/types';
import { HOUR_MS, hourOf } from '../store/workflow-hours';
import { int, num, str } from './sql';
import type { RowReader } from './sql';

/** How many of the latest occurrences an issue's detail lists. */
const LATEST_OCCURRENCES = 20;

interface IssueRow {
  fingerprint: string;
  type: string;
  message: string;
  frames: string;
  status: IssueStatus;
  regression: number;
  count: number | string;
  first_seen: number;
  last_seen: number;
  services: string[];
  last_trace_id: string | null;
  set_status: IssueStatus | '';
  changed_at: number;
}

/** Read as the API answers them. */
type OccurrenceRow = IssueDetail['occurrences'][number];

/**
 * Each issue of the project (or only `fingerprint`) as the API lists it. Type, message and frames
 * are part of the fingerprint, so any occurrence's would do: the first's, as SQLite keeps. The
 * aggregates skip NULLs, so `last_trace_id` is the trace of the latest occurrence that had one;
 * an issue never given a status (or whose status retention forgot) joins with '' and reads `open`.
 */
function issueSql(project: string, fingerprint?: string): string {
  const p = str(project);
  const only = fingerprint === undefined ? '' : ` AND fingerprint = ${str(fingerprint)}`;
  return `SELECT fingerprint, type, message, frames, count, first_seen, last_seen, services, last_trace_id, set_status, set_at AS changed_at,
       set_status = 'resolved' AND last_seen > set_at AS regression,
       if(set_status IN ('resolved', 'ignored') AND NOT regression, set_status, 'open') AS status
     FROM (
       SELECT fingerprint,
         argMin(type, tuple(timestamp, occurrence_key)) AS type,
         argMin(normalized_message, tuple(timestamp, occurrence_key)) AS message,
         argMin(frames, tuple(timestamp, occurrence_key)) AS frames,
         count() AS count, min(timestamp) AS first_seen, max(timestamp) AS last_seen,
         groupUniqArray(service) AS services,
         argMax(trace_id, tuple(timestamp, occurrence_key)) AS last_trace_id
       FROM issue_occurrences FINAL WHERE project = ${p}${only} GROUP BY fingerprint
     ) ANY LEFT JOIN (
       SELECT fingerprint, argMax(status, version) AS set_status, argMax(changed_at, version) AS set_at
       FROM issue_status WHERE project = ${p}${only} GROUP BY fingerprint
     ) USING fingerprint`;
}

/** Version of a status set now: µs, and never two alike from this process, so the later setting wins. */
let lastVersion = 0;
export function statusVersion(now: number): number {
  lastVersion = Math.max(Math.floor(now * 1000), lastVersion + 1);
  return lastVersion;
}

export function clickHouseIssueQueries(client: ClickHouseClient, rows: RowReader): Pick<QueryStore, 'issues' | 'issue' | 'setIssueStatus'> {
  const summary = async (project: string, fingerprint: string): Promise<IssueSummary | null> => {
    const [row] = await rows<IssueRow>(issueSql(project, fingerprint));
    return row === undefined ? null : toSummary(row);
  };

  return {
    async issues(project: string, query: IssuesQuery): Promise<IssueSummary[]> {
      const filters = ['1'];
      if (query.status !== undefined) filters.push(`status = ${str(query.status)}`);
      if (query.service !== undefined) filters.push(`has(services, ${str(query.service)})`);
      const order = query.sort === 'count' ? 'count DESC, last_seen DESC, fingerprint' : 'last_seen DESC, fingerprint';
      const found = await rows<IssueRow>(`SELECT * FROM (${issueSql(project)}) WHERE ${filters.join(' AND ')} ORDER BY ${order} LIMIT ${int(query.limit)}`);
      return found.map(toSummary);
    },

    async issue(project: string, fingerprint: string, hours: number, now: number): Promise<IssueDetail | null> {
      const lastHour = hourOf(now);
      const firstHour = lastHour - hours + 1;
      const where = `project = ${str(project)} AND fingerprint = ${str(fingerprint)}`;
      const [issue, [stack], latest, perHour] = await Promise.all([
        summary(project, fingerprint),
        // The latest stack sent (a failed span's occurrence carries none), as SQLite keeps it.
        rows<{ latest_stack: string | null }>(`SELECT argMax(stack, tuple(timestamp, occurrence_key)) AS latest_stack FROM issue_occurrences FINAL WHERE ${where}`),
        rows<OccurrenceRow>(
          `SELECT timestamp, source, level, service, message, trace_id, span_id FROM issue_occurrences FINAL
           WHERE ${where} ORDER BY timestamp DESC, occurrence_key DESC LIMIT ${int(LATEST_OCCURRENCES)}`,
        ),
        rows<{ hour: number | string; count: number | string }>(
          `SELECT intDiv(toUInt64(timestamp), ${int(HOUR_MS)}) AS hour, count() AS count FROM issue_occurrences FINAL
           WHERE ${where} AND timestamp >= ${num(firstHour * HOUR_MS)} AND timestamp < ${num((lastHour + 1) * HOUR_MS)}
           GROUP BY hour`,
        ),
      ]);
      if (issue === null || latest.length === 0) return null;
      const counts = new Map(perHour.map((row) => [Number(row.hour), Number(row.count)]));
      const hourly: IssueDetail['hourly'] = [];
      for (let hour = firstHour; hour <= lastHour; hour++) hourly.push({ hour: hour * HOUR_MS, count: counts.get(hour) ?? 0 });
      return {
        issue,
        latest_message: latest[0]!.message,
        latest_stack: stack?.latest_stack ?? null,
        hourly,
        occurrences: latest.map((o) => ({
          timestamp: o.timestamp,
          source: o.source,
          level: o.level,
          service: o.service,
          message: o.message,
          trace_id: o.trace_id,
          span_id: o.span_id,
        })),
      };
    },

    async setIssueStatus(project: string, fingerprint: string, status: IssueStatus, now: number): Promise<IssueSummary | null> {
      const known = await rows<{ one: number }>(
        `SELECT 1 AS one FROM issue_occurrences WHERE project = ${str(project)} AND fingerprint = ${str(fingerprint)} LIMIT 1`,
      );
      if (known.length === 0) return null;
      try {
        await client.insert({
          table: 'issue_status',
          values: [{ project, fingerprint, status, changed_at: now, version: statusVersion(now) }],
          format: 'JSONEachRow',
        });
      } catch (error) {
        throw new StoreUnavailableError(`ClickHouse: ${((error as Error).message ?? String(error)).split('\n')[0]}`);
      }
      return summary(project, fingerprint);
    },
  };
}

function toSummary(row: IssueRow): IssueSummary {
  // '' when never set, or forgotten by retention (retention.ts).
  const set = row.set_status !== '';
  return {
    fingerprint: row.fingerprint,
    type: row.type,
    message: row.message,
    status: row.status,
    regression: Number(row.regression) === 1,
    count: Number(row.count),
    first_seen: row.first_seen,
    last_seen: row.last_seen,
    // In JavaScript's order, as SQLite's store sorts them (arraySort's byte order differs past U+FFFF).
    services: row.services.sort(),
    last_trace_id: row.last_trace_id,
    frames: JSON.parse(row.frames) as string[],
    status_changed_at: set ? row.changed_at : null,
  };
}
