/**
 * Reads, every one scoped to a project and answered from an index (see schema.ts). Rows come
 * out shaped as the query API sends them; only metadata / captured_params need parsing.
 * Each filter combination has its own statement, prepared once, so SQLite can pick the index
 * that matches it instead of scanning past `(? IS NULL OR …)` terms.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { WireAttributes, WireEvent, WireSpan } from '../../wire/batch-codec';
import { decodeSketch, quantiles } from './duration-sketch';
import { prefixRange } from './id-prefix';
import { idKey, idText, optionalIdText } from './ids';
import type { IdKey } from './ids';
import type { Db } from './open';
import { parentsFirst } from './trace-order';
import { hourOf } from './workflow-hours';
import type {
  EventsQuery, MetricSample, MetricsQuery, ProcessSummary, RunSummary, RunsQuery, StoreCounts, WorkflowSummary,
} from './types';

type Statement<R> = BetterSqlite3.Statement<unknown[], R>;

interface StoredSpan extends Omit<WireSpan, 'trace_id' | 'span_id' | 'parent_span_id' | 'metadata' | 'captured_params'> {
  trace_id: IdKey;
  span_id: IdKey;
  parent_span_id: IdKey | null;
  metadata: string;
  captured_params: string;
}
interface StoredRun extends Omit<RunSummary, 'trace_id'> {
  trace_id: IdKey;
}
interface StoredEvent extends Omit<WireEvent, 'metadata'> {
  metadata: string | WireAttributes;
}
interface WorkflowTotals {
  workflow: string;
  total_runs: number;
  failed_runs: number;
  finished_runs: number;
  duration_sum: number;
}

export interface QueryState {
  /** Indexed by filter bits: 1 = workflow, 2 = status failed or in_progress, 4 = status succeeded. */
  runs: Statement<StoredRun>[];
  workflowTotals: Statement<WorkflowTotals>;
  lastRunAt: BetterSqlite3.Statement<unknown[], number>;
  workflowSketches: BetterSqlite3.Statement<unknown[], Buffer>;
  traceSpans: Statement<StoredSpan>;
  /** Indexed by whether the range has an end (id-prefix.ts). */
  traceIdsInRange: [open: BetterSqlite3.Statement<unknown[], IdKey>, closed: BetterSqlite3.Statement<unknown[], IdKey>];
  span: Statement<StoredSpan>;
  /** Indexed by filter bits: 1 = type, 2 = workflow. */
  events: Statement<StoredEvent>[];
  /** Indexed by filter bits: 1 = pid. */
  metrics: Statement<MetricSample>[];
  pids: Statement<ProcessSummary>;
  services: BetterSqlite3.Statement<unknown[], string>;
  counts: BetterSqlite3.Statement<[{ project: number }], StoreCounts>;
}

const SPAN_COLUMNS =
  'trace_id, span_id, parent_span_id, workflow, operation, status, started_at, duration_ms, error_type, error_message, metadata, captured_params';
const SAMPLE_COLUMNS =
  'timestamp, heap_total, heap_used, rss, external, array_buffers, cpu_usage_pct, event_loop_lag, uss, pss, vms, swap, pid, ' +
  'threads, event_loop_p50, event_loop_p99, ppid, command, sdk_version, runtime_version, service, host, ' +
  'dropped_ring_full, dropped_send_failed, send_retries, metrics_dropped, spooled, replayed, dropped_spool_full, spool_bytes';
const TRACE_IDS_FROM = 'SELECT trace_id FROM runs WHERE project = ? AND trace_id >= ?';
/** Exported so a test can ask SQLite for its plan: it must be a range search of runs_trace. */
export const TRACE_IDS_IN_RANGE = `${TRACE_IDS_FROM} AND trace_id < ?`;
/**
 * The runs listing for filter bits (QueryState.runs); exported so a test can ask SQLite for its
 * plan. The literal `status <> 'succeeded'` lets SQLite use the partial index runs_unfinished.
 */
export function runsSql(bits: number): string {
  return `SELECT trace_id, workflow, operation, status, started_at, duration_ms, span_count, error_summary FROM runs
    WHERE project = ?${bits & 1 ? ' AND workflow = ?' : ''}${bits & 2 ? " AND status = ? AND status <> 'succeeded'" : ''}${bits & 4 ? ' AND status = ?' : ''}
      AND started_at >= ?
    ORDER BY started_at DESC, rowid DESC LIMIT ?`;
}

/** A trace's spans, through its run: spans_run is keyed by the run's rowid (schema.ts, migration 5). */
export const TRACE_SPANS = `SELECT ${SPAN_COLUMNS} FROM spans WHERE run = (SELECT rowid FROM runs WHERE project = ? AND trace_id = ?) ORDER BY started_at, rowid`;

const EARLIEST = Number.MIN_SAFE_INTEGER;
const LATEST = Number.MAX_SAFE_INTEGER;
const NO_LIMIT = -1;
const PERCENTILES = [50, 95, 99] as const;

export function createQueries(db: Db): QueryState {
  const variants = <R>(count: number, sql: (bits: number) => string): Statement<R>[] =>
    Array.from({ length: count }, (_, bits) => db.prepare<unknown[], R>(sql(bits)));
  return {
    runs: variants(6, runsSql),
    workflowTotals: db.prepare(
      `SELECT workflow, sum(total_runs) AS total_runs, sum(failed_runs) AS failed_runs, sum(finished_runs) AS finished_runs,
         sum(duration_sum) AS duration_sum
       FROM workflow_hours WHERE project = ? AND hour >= ? GROUP BY workflow`,
    ),
    // The end of the runs_workflow index: one seek per workflow.
    lastRunAt: db.prepare<unknown[], number>('SELECT max(started_at) FROM runs WHERE project = ? AND workflow = ?').pluck(),
    workflowSketches: db.prepare<unknown[], Buffer>('SELECT durations FROM workflow_hours WHERE project = ? AND workflow = ? AND hour >= ?').pluck(),
    traceSpans: db.prepare(TRACE_SPANS),
    // One row per trace in runs, so a range of its (project, trace_id) index is a list of traces.
    traceIdsInRange: [
      db.prepare<unknown[], IdKey>(`${TRACE_IDS_FROM} ORDER BY trace_id LIMIT ?`).pluck(),
      db.prepare<unknown[], IdKey>(`${TRACE_IDS_IN_RANGE} ORDER BY trace_id LIMIT ?`).pluck(),
    ],
    span: db.prepare(`SELECT ${SPAN_COLUMNS} FROM spans WHERE project = ? AND span_id = ?`),
    events: variants(4, (bits) =>
      `SELECT trace_id, span_id, workflow, event_type, name, message, severity, timestamp, metadata FROM events
       WHERE project = ?${bits & 1 ? ' AND event_type = ?' : ''}${bits & 2 ? ' AND workflow = ?' : ''} AND timestamp >= ?
       ORDER BY timestamp DESC, id DESC LIMIT ?`),
    metrics: variants(4, (bits) =>
      `SELECT ${SAMPLE_COLUMNS} FROM metric_samples
       WHERE project = ?${bits & 1 ? ' AND pid = ?' : ''}${bits & 2 ? ' AND service = ?' : ''} AND timestamp >= ? AND timestamp <= ?
       ORDER BY timestamp DESC, id DESC LIMIT ?`),
    pids: db.prepare(
      `SELECT pid,
         (SELECT m.ppid FROM metric_samples AS m WHERE m.project = g.project AND m.pid = g.pid AND m.ppid IS NOT NULL
          ORDER BY m.timestamp DESC LIMIT 1) AS ppid,
         (SELECT m.command FROM metric_samples AS m WHERE m.project = g.project AND m.pid = g.pid AND m.command IS NOT NULL
          ORDER BY m.timestamp DESC LIMIT 1) AS command,
         (SELECT m.service FROM metric_samples AS m WHERE m.project = g.project AND m.pid = g.pid
          ORDER BY m.timestamp DESC LIMIT 1) AS service,
         (SELECT m.host FROM metric_samples AS m WHERE m.project = g.project AND m.pid = g.pid
          ORDER BY m.timestamp DESC LIMIT 1) AS host,
         first_seen, last_seen, samples
       FROM (SELECT project, pid, min(timestamp) AS first_seen, max(timestamp) AS last_seen, count(*) AS samples
             FROM metric_samples WHERE project = ? AND pid IS NOT NULL GROUP BY pid) AS g
       ORDER BY last_seen DESC, pid`,
    ),
    services: db.prepare<unknown[], string>('SELECT DISTINCT service FROM metric_samples WHERE project = ? AND service IS NOT NULL ORDER BY service').pluck(),
    counts: db.prepare<[{ project: number }], StoreCounts>(
      `SELECT (SELECT count(*) FROM spans WHERE project = @project) AS spans,
              (SELECT count(*) FROM events WHERE project = @project) AS events,
              (SELECT count(*) FROM logs WHERE project = @project) AS logs,
              (SELECT count(*) FROM metric_samples WHERE project = @project) AS metric_samples,
              (SELECT count(*) FROM runs WHERE project = @project) AS runs`,
    ),
  };
}

/**
 * The statement variant and leading parameters for optional `= ?` filters: bit i is set when
 * filter i is given, matching the `bits & (1 << i)` clauses the variants were prepared with.
 */
function optionalFilters(project: number, filters: readonly unknown[]): { bits: number; params: unknown[] } {
  const params: unknown[] = [project];
  let bits = 0;
  filters.forEach((value, i) => {
    if (value === undefined) return;
    bits |= 1 << i;
    params.push(value);
  });
  return { bits, params };
}

export function listRuns(q: QueryState, project: number, query: RunsQuery): RunSummary[] {
  const { status } = query;
  const { bits, params } = optionalFilters(project, [query.workflow, status === 'succeeded' ? undefined : status, status === 'succeeded' ? status : undefined]);
  params.push(query.since ?? EARLIEST, query.limit);
  const rows = q.runs[bits]!.all(...params);
  for (const row of rows) row.trace_id = idText(row.trace_id);
  return rows as RunSummary[];
}

/**
 * Workflows with runs that started since `since` (whole hours: the aggregates are per hour), most
 * recently run first. Percentiles come from the duration sketches, within RELATIVE_ACCURACY.
 */
export function listWorkflows(q: QueryState, project: number, limit: number, since?: number): WorkflowSummary[] {
  const fromHour = since === undefined ? Number.MIN_SAFE_INTEGER : hourOf(since);
  const listed = q.workflowTotals
    .all(project, fromHour)
    .filter((row) => row.total_runs > 0)
    .map((row) => ({ row, lastRunAt: q.lastRunAt.get(project, row.workflow) ?? 0 }))
    .sort((a, b) => b.lastRunAt - a.lastRunAt || (a.row.workflow < b.row.workflow ? -1 : a.row.workflow > b.row.workflow ? 1 : 0))
    .slice(0, limit);
  return listed.map(({ row, lastRunAt }) => {
    const sketch = new Map<number, number>();
    if (row.finished_runs > 0) for (const bytes of q.workflowSketches.all(project, row.workflow, fromHour)) decodeSketch(bytes, sketch);
    const [p50, p95, p99] = quantiles(sketch, row.finished_runs, PERCENTILES);
    return {
      workflow: row.workflow,
      total_runs: row.total_runs,
      failed_runs: row.failed_runs,
      avg_duration_ms: row.finished_runs > 0 ? row.duration_sum / row.finished_runs : null,
      last_run_at: lastRunAt,
      p50_duration_ms: p50!,
      p95_duration_ms: p95!,
      p99_duration_ms: p99!,
    };
  });
}

export function traceSpans(q: QueryState, project: number, traceId: string): WireSpan[] {
  return parentsFirst(q.traceSpans.all(project, idKey(traceId)).map(toWireSpan));
}

/** Up to `limit` trace ids that start with `prefix` (lowercase hex), in id order. */
export function traceIdsWithPrefix(q: QueryState, project: number, prefix: string, limit: number): string[] {
  const { low, high } = prefixRange(prefix);
  const rows = high === null ? q.traceIdsInRange[0].all(project, low, limit) : q.traceIdsInRange[1].all(project, low, high, limit);
  return rows.map(idText);
}

export function findSpan(q: QueryState, project: number, spanId: string): WireSpan | null {
  const row = q.span.get(project, idKey(spanId));
  return row === undefined ? null : toWireSpan(row);
}

function toWireSpan(row: StoredSpan): WireSpan {
  return {
    trace_id: idText(row.trace_id),
    span_id: idText(row.span_id),
    parent_span_id: optionalIdText(row.parent_span_id),
    workflow: row.workflow,
    operation: row.operation,
    status: row.status,
    started_at: row.started_at,
    duration_ms: row.duration_ms,
    error_type: row.error_type,
    error_message: row.error_message,
    metadata: JSON.parse(row.metadata) as WireAttributes,
    captured_params: JSON.parse(row.captured_params) as WireAttributes,
  };
}

export function listEvents(q: QueryState, project: number, query: EventsQuery): WireEvent[] {
  const { bits, params } = optionalFilters(project, [query.type, query.workflow]);
  params.push(query.since ?? EARLIEST, query.limit);
  const rows = q.events[bits]!.all(...params);
  for (const row of rows) row.metadata = JSON.parse(row.metadata as string) as WireAttributes;
  return rows as WireEvent[];
}

export function listMetrics(q: QueryState, project: number, query: MetricsQuery): MetricSample[] {
  const { bits, params } = optionalFilters(project, [query.pid, query.service]);
  params.push(query.from ?? EARLIEST, query.to ?? LATEST, query.limit ?? NO_LIMIT);
  // Newest first so that `limit` keeps the latest samples; charts want them oldest first.
  return q.metrics[bits]!.all(...params).reverse();
}

export function listServices(q: QueryState, project: number): string[] {
  return q.services.all(project);
}

export function listPids(q: QueryState, project: number): ProcessSummary[] {
  return q.pids.all(project);
}

export function countRows(q: QueryState, project: number): StoreCounts {
  return q.counts.get({ project })!;
}
