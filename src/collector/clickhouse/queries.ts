/**
 * The query API's reads on ClickHouse, answering the same JSON as SQLite's (store/queries.ts).
 *
 * Runs are merged from the `runs` aggregate (schema.ts) for filtering and ordering; the rows of
 * the page returned are then folded again from their spans with SQLite's own fold
 * (store/run-summary.ts), so operation, status, duration, span count and error summary are
 * exactly what SQLite would store. (The aggregate picks a stand-in root by (started_at, span_id);
 * the fold also puts a parent before its child started in the same instant. They can differ only
 * in such a tie, and then only in which runs a status or workflow filter lets through.)
 *
 * Workflows are counted from the same aggregate, with durations bucketed in SQL exactly as the
 * SQLite store's hourly sketches bucket them, so percentiles agree too.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { WireAttributes, WireEvent, WireSpan } from '../../wire/batch-codec';
import type { QueryStore } from '../store-backend';
import { LARGEST_BUCKET, LOG_GAMMA, quantiles, SMALLEST_MS, ZERO_BUCKET } from '../store/duration-sketch';
import type { DurationSketch } from '../store/duration-sketch';
import { emptyRun, foldSpan } from '../store/run-summary';
import type { RunRow } from '../store/run-summary';
import { parentsFirst } from '../store/trace-order';
import type {
  EventsQuery, MetricSample, MetricsQuery, ProcessSummary, RunSummary, RunsQuery, StoreCounts, WorkflowSummary,
} from '../store/types';
import { HOUR_MS, hourOf } from '../store/workflow-hours';
import { clickHouseIssueQueries } from './issue-queries';
import { clickHouseLogQueries } from './log-queries';
import { int, num, rowReader, str } from './sql';

const SPAN_COLUMNS =
  'trace_id, span_id, parent_span_id, workflow, operation, status, started_at, duration_ms, error_type, error_message, metadata, captured_params';
const SAMPLE_COLUMNS =
  'timestamp, heap_total, heap_used, rss, external, array_buffers, cpu_usage_pct, event_loop_lag, uss, pss, vms, swap, pid, ' +
  'threads, event_loop_p50, event_loop_p99, ppid, command, sdk_version, runtime_version, service, host, ' +
  'dropped_ring_full, dropped_send_failed, send_retries, metrics_dropped, spooled, replayed, dropped_spool_full, spool_bytes';
/** One row per trace: the root's fields from the merged aggregate. */
const MERGED_RUNS = (project: string): string =>
  `SELECT trace_id, tupleElement(r, 1) AS workflow, tupleElement(r, 3) AS status, tupleElement(r, 4) AS started_at, tupleElement(r, 5) AS duration_ms
   FROM (SELECT trace_id, argMinMerge(root) AS r FROM runs WHERE project = ${str(project)} GROUP BY trace_id)`;
/** A finished run's duration bucket, as duration-sketch.ts bucketOf computes it; NOT_FINISHED otherwise. */
const NOT_FINISHED = -99_999;
const BUCKET = `if(status = 'in_progress', ${NOT_FINISHED},
  if(duration_ms > ${num(SMALLEST_MS)}, least(${LARGEST_BUCKET}, toInt32(ceil(log(duration_ms) / ${num(LOG_GAMMA)}))), ${ZERO_BUCKET}))`;
const NULL_MARK = '\u0000null';
const PERCENTILES = [50, 95, 99] as const;

interface StoredSpan extends Omit<WireSpan, 'metadata' | 'captured_params'> {
  metadata: string;
  captured_params: string;
}

export function clickHouseQueries(client: ClickHouseClient): QueryStore {
  const rows = rowReader(client);

  const spansOf = async (project: string, traceIds: readonly string[]): Promise<StoredSpan[]> =>
    traceIds.length === 0
      ? []
      : rows<StoredSpan>(`SELECT ${SPAN_COLUMNS} FROM spans FINAL WHERE project = ${str(project)} AND trace_id IN (${traceIds.map(str).join(', ')})`);

  return {
    async runs(project: string, query: RunsQuery): Promise<RunSummary[]> {
      const filters = [`started_at >= ${num(query.since ?? Number.MIN_SAFE_INTEGER)}`];
      if (query.workflow !== undefined) filters.push(`workflow = ${str(query.workflow)}`);
      if (query.status !== undefined) filters.push(`status = ${str(query.status)}`);
      const page = await rows<{ trace_id: string }>(
        `SELECT trace_id FROM (${MERGED_RUNS(project)}) WHERE ${filters.join(' AND ')}
         ORDER BY started_at DESC, trace_id DESC LIMIT ${int(query.limit)}`,
      );
      const ids = page.map((row) => row.trace_id);
      const folded = foldRuns(await spansOf(project, ids));
      return ids.flatMap((traceId) => {
        const run = folded.get(traceId);
        return run === undefined ? [] : [runSummary(traceId, run)];
      });
    },

    async workflows(project: string, limit: number, since?: number): Promise<WorkflowSummary[]> {
      const from = since === undefined ? Number.MIN_SAFE_INTEGER : hourOf(since) * HOUR_MS;
      const groups = await rows<{ workflow: string; bucket: number; runs: number; failed: number; duration_sum: number; last: number }>(
        `SELECT workflow, ${BUCKET} AS bucket, count() AS runs, countIf(status = 'failed') AS failed,
           sum(duration_ms) AS duration_sum, max(started_at) AS last
         FROM (${MERGED_RUNS(project)}) WHERE started_at >= ${num(from)}
         GROUP BY workflow, bucket`,
      );
      const byWorkflow = new Map<string, { total: number; failed: number; finished: number; sum: number; last: number; sketch: DurationSketch }>();
      for (const g of groups) {
        let w = byWorkflow.get(g.workflow);
        if (w === undefined) byWorkflow.set(g.workflow, (w = { total: 0, failed: 0, finished: 0, sum: 0, last: Number.NEGATIVE_INFINITY, sketch: new Map() }));
        const runs = Number(g.runs);
        w.total += runs;
        w.failed += Number(g.failed);
        w.last = Math.max(w.last, g.last);
        if (Number(g.bucket) === NOT_FINISHED) continue;
        w.finished += runs;
        w.sum += g.duration_sum;
        w.sketch.set(Number(g.bucket), runs);
      }
      return [...byWorkflow]
        .sort(([a, x], [b, y]) => y.last - x.last || (a < b ? -1 : a > b ? 1 : 0))
        .slice(0, limit)
        .map(([workflow, w]) => {
          const [p50, p95, p99] = quantiles(w.sketch, w.finished, PERCENTILES);
          return {
            workflow,
            total_runs: w.total,
            failed_runs: w.failed,
            avg_duration_ms: w.finished > 0 ? w.sum / w.finished : null,
            last_run_at: w.last,
            p50_duration_ms: p50!,
            p95_duration_ms: p95!,
            p99_duration_ms: p99!,
          };
        });
    },

    async traceSpans(project: string, traceId: string): Promise<WireSpan[]> {
      const spans = await rows<StoredSpan>(
        `SELECT ${SPAN_COLUMNS} FROM spans FINAL WHERE project = ${str(project)} AND trace_id = ${str(traceId)} ORDER BY started_at, span_id`,
      );
      return parentsFirst(spans.map(toWireSpan));
    },

    async traceIdsWithPrefix(project: string, prefix: string, limit: number): Promise<string[]> {
      const found = await rows<{ trace_id: string }>(
        `SELECT DISTINCT trace_id FROM runs
         WHERE project = ${str(project)} AND trace_id >= ${str(prefix)} AND substring(trace_id, 1, ${int(prefix.length)}) = ${str(prefix)}
         ORDER BY trace_id LIMIT ${int(limit)}`,
      );
      return found.map((row) => row.trace_id);
    },

    async span(project: string, spanId: string): Promise<WireSpan | null> {
      const found = await rows<StoredSpan>(
        `SELECT ${SPAN_COLUMNS} FROM spans
         WHERE project = ${str(project)} AND span_id = ${str(spanId)}
           AND trace_id IN (SELECT trace_id FROM span_traces WHERE project = ${str(project)} AND span_id = ${str(spanId)})
         ORDER BY version DESC LIMIT 1`,
      );
      return found.length === 0 ? null : toWireSpan(found[0]!);
    },

    async events(project: string, query: EventsQuery): Promise<WireEvent[]> {
      const filters = [`project = ${str(project)}`, `timestamp >= ${num(query.since ?? Number.MIN_SAFE_INTEGER)}`];
      if (query.type !== undefined) filters.push(`event_type = ${str(query.type)}`);
      if (query.workflow !== undefined) filters.push(`workflow = ${str(query.workflow)}`);
      const found = await rows<Omit<WireEvent, 'metadata'> & { metadata: string }>(
        `SELECT trace_id, span_id, workflow, event_type, name, message, severity, timestamp, metadata FROM events FINAL
         WHERE ${filters.join(' AND ')} ORDER BY timestamp DESC, event_key DESC LIMIT ${int(query.limit)}`,
      );
      return found.map((e) => ({ ...e, metadata: JSON.parse(e.metadata) as WireAttributes }));
    },

    async metrics(project: string, query: MetricsQuery = {}): Promise<MetricSample[]> {
      const filters = [`project = ${str(project)}`];
      if (query.pid !== undefined) filters.push(`pid = ${int(query.pid)}`);
      if (query.service !== undefined) filters.push(`service = ${str(query.service)}`);
      if (query.from !== undefined) filters.push(`timestamp >= ${num(query.from)}`);
      if (query.to !== undefined) filters.push(`timestamp <= ${num(query.to)}`);
      // Newest first so that `limit` keeps the latest samples; charts want them oldest first.
      const found = await rows<MetricSample>(
        `SELECT ${SAMPLE_COLUMNS} FROM metric_samples FINAL WHERE ${filters.join(' AND ')}
         ORDER BY timestamp DESC, sample_key DESC${query.limit === undefined ? '' : ` LIMIT ${int(query.limit)}`}`,
      );
      return found.reverse();
    },

    async pids(project: string): Promise<ProcessSummary[]> {
      // Aggregates skip NULLs, which suits ppid and command (the latest sample that carried one);
      // service and host are the latest sample's own, NULL included, so NULL is marked first.
      const found = await rows<ProcessSummary>(
        `SELECT pid, argMax(ppid, timestamp) AS ppid, argMax(command, timestamp) AS command,
           argMax(ifNull(service, ${str(NULL_MARK)}), timestamp) AS service, argMax(ifNull(host, ${str(NULL_MARK)}), timestamp) AS host,
           min(timestamp) AS first_seen, max(timestamp) AS last_seen, count() AS samples
         FROM metric_samples FINAL WHERE project = ${str(project)} AND isNotNull(pid)
         GROUP BY pid ORDER BY last_seen DESC, pid`,
      );
      return found.map((p) => ({
        pid: Number(p.pid),
        ppid: p.ppid === null ? null : Number(p.ppid),
        command: p.command,
        service: p.service === NULL_MARK ? null : p.service,
        host: p.host === NULL_MARK ? null : p.host,
        first_seen: p.first_seen,
        last_seen: p.last_seen,
        samples: Number(p.samples),
      }));
    },

    async services(project: string): Promise<string[]> {
      const found = await rows<{ service: string }>(
        `SELECT DISTINCT service FROM metric_samples WHERE project = ${str(project)} AND isNotNull(service) ORDER BY service`,
      );
      return found.map((row) => row.service);
    },

    async counts(project: string): Promise<StoreCounts> {
      const p = str(project);
      const [counts] = await rows<Record<keyof StoreCounts, number | string>>(
        `SELECT (SELECT count() FROM spans FINAL WHERE project = ${p}) AS spans,
                (SELECT count() FROM events FINAL WHERE project = ${p}) AS events,
                (SELECT count() FROM logs FINAL WHERE project = ${p}) AS logs,
                (SELECT count() FROM metric_samples FINAL WHERE project = ${p}) AS metric_samples,
                (SELECT uniqExact(trace_id) FROM runs WHERE project = ${p}) AS runs`,
      );
      return {
        spans: Number(counts!.spans),
        events: Number(counts!.events),
        logs: Number(counts!.logs),
        metric_samples: Number(counts!.metric_samples),
        runs: Number(counts!.runs),
      };
    },

    ...clickHouseLogQueries(rows),
    ...clickHouseIssueQueries(client, rows),
  };
}

/** Each trace's run, folded from its stored spans as SQLite's ingest folds them. */
function foldRuns(spans: readonly StoredSpan[]): Map<string, RunRow> {
  const runs = new Map<string, RunRow>();
  for (const stored of spans) {
    const span = toWireSpan(stored);
    let run = runs.get(span.trace_id);
    if (run === undefined) runs.set(span.trace_id, (run = emptyRun(span)));
    foldSpan(run, span, true);
  }
  return runs;
}

function runSummary(traceId: string, run: RunRow): RunSummary {
  return {
    trace_id: traceId,
    workflow: run.workflow,
    operation: run.operation,
    status: run.status,
    started_at: run.started_at,
    duration_ms: run.duration_ms,
    span_count: run.span_count,
    error_summary: run.error_summary,
  };
}

function toWireSpan(row: StoredSpan): WireSpan {
  return {
    trace_id: row.trace_id,
    span_id: row.span_id,
    parent_span_id: row.parent_span_id,
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
