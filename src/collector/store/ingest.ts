/**
 * Writes. A batch is one IMMEDIATE transaction: its batch_id mark, every row and the runs it
 * touches commit together or not at all, so a rejected batch leaves nothing behind and a retried
 * one (same batch_id) is stored once.
 *
 * Spans are keyed by (project, span_id): a repeated span is ignored, except that a finished record
 * replaces a stored `started` one of the same span (a long run reported early, then finished).
 * Each trace's `runs` row is read once per batch, folded in memory and written once.
 *
 * Duplicates are skipped with `ON CONFLICT (key) DO NOTHING`, never `INSERT OR IGNORE`: OR IGNORE
 * would also skip a row that breaks NOT NULL, silently storing part of a bad batch.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { WireEvent, WireResource, WireSpan } from '../../wire/batch-codec';
import type { MetricsEntry } from '../../wire/metrics-batch';
import { idKey, optionalIdKey } from './ids';
import type { IdKey } from './ids';
import type { Db } from './open';
import { emptyRun, foldSpan } from './run-summary';
import type { RunRow } from './run-summary';
import type { IngestInput, IngestResult } from './types';

type Statement = BetterSqlite3.Statement;

export interface IngestState {
  now: () => number;
  markBatch: Statement;
  insertSpan: Statement;
  finishSpan: Statement;
  getRun: BetterSqlite3.Statement<unknown[], RunRow>;
  putRun: Statement;
  insertEvent: Statement;
  insertSample: Statement;
  insertBatch: BetterSqlite3.Transaction<(project: number, input: IngestInput) => IngestResult>;
}

const DUPLICATE: IngestResult = Object.freeze({ accepted: 0, duplicate: true });

export function createIngest(db: Db, now: () => number): IngestState {
  const state = {
    now,
    markBatch: db.prepare(
      `INSERT INTO batches_seen (project, batch_id, kind, received_at, item_count) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (project, batch_id) DO NOTHING`,
    ),
    insertSpan: db.prepare(
      `INSERT INTO spans (project, span_id, trace_id, parent_span_id, workflow, operation, status, started_at,
         duration_ms, error_type, error_message, metadata, captured_params, service, environment, host, pid)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (project, span_id) DO NOTHING`,
    ),
    finishSpan: db.prepare(
      `UPDATE spans SET status = ?, duration_ms = ?, error_type = ?, error_message = ?, metadata = ?, captured_params = ?
       WHERE project = ? AND span_id = ? AND trace_id = ? AND status = 'started'`,
    ),
    getRun: db.prepare<unknown[], RunRow>(
      `SELECT workflow, operation, status, started_at, duration_ms, span_count, error_summary, root_span_id,
         stand_in_span_id, stand_in_parent_span_id, error_span_id, error_started_at, error_parent_span_id
       FROM runs WHERE project = ? AND trace_id = ?`,
    ),
    putRun: db.prepare(
      `INSERT INTO runs (project, trace_id, workflow, operation, status, started_at, duration_ms, span_count, error_summary,
         root_span_id, stand_in_span_id, stand_in_parent_span_id, error_span_id, error_started_at, error_parent_span_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (project, trace_id) DO UPDATE SET workflow = excluded.workflow, operation = excluded.operation,
         status = excluded.status, started_at = excluded.started_at, duration_ms = excluded.duration_ms,
         span_count = excluded.span_count, error_summary = excluded.error_summary, root_span_id = excluded.root_span_id,
         stand_in_span_id = excluded.stand_in_span_id, stand_in_parent_span_id = excluded.stand_in_parent_span_id,
         error_span_id = excluded.error_span_id, error_started_at = excluded.error_started_at,
         error_parent_span_id = excluded.error_parent_span_id`,
    ),
    insertEvent: db.prepare(
      `INSERT INTO events (project, trace_id, span_id, workflow, event_type, name, message, severity, timestamp, metadata,
         service, environment, host, pid)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertSample: db.prepare(
      `INSERT INTO metric_samples (project, timestamp, heap_total, heap_used, rss, external, array_buffers,
         cpu_usage_pct, event_loop_lag, uss, pss, vms, swap, pid, threads, event_loop_p50, event_loop_p99, ppid, command,
         sdk_version, runtime_version, service, host, dropped_ring_full, dropped_send_failed, send_retries, metrics_dropped)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (project, pid, timestamp) DO NOTHING`,
    ),
  } as Omit<IngestState, 'insertBatch'> as IngestState;
  state.insertBatch = db.transaction((project: number, input: IngestInput) => writeBatch(state, project, input));
  return state;
}

export function insertBatch(state: IngestState, project: number, input: IngestInput): IngestResult {
  // IMMEDIATE takes the write lock up front: a deferred transaction that upgrades later can fail
  // with SQLITE_BUSY without waiting when another connection writes.
  return state.insertBatch.immediate(project, input);
}

function writeBatch(state: IngestState, project: number, input: IngestInput): IngestResult {
  if (input.batchId !== null && state.markBatch.run(project, input.batchId, input.kind, state.now(), itemCount(input)).changes === 0) {
    return DUPLICATE;
  }
  switch (input.kind) {
    case 'trace':
      return { accepted: writeSpans(state, project, input.resource, input.spans), duplicate: false };
    case 'event':
      return { accepted: writeEvents(state, project, input.resource, input.events), duplicate: false };
    case 'metrics':
      return { accepted: writeSamples(state, project, input), duplicate: false };
    default:
      throw new TypeError(`Unknown batch kind ${JSON.stringify((input as { kind: unknown }).kind)}: expected "trace", "event" or "metrics".`);
  }
}

function itemCount(input: IngestInput): number {
  switch (input.kind) {
    case 'trace':
      return input.spans.length;
    case 'event':
      return input.events.length;
    case 'metrics':
      return input.entries.length;
  }
}

function writeSpans(state: IngestState, project: number, resource: WireResource | null, spans: WireSpan[]): number {
  const service = resource?.service ?? null;
  const environment = resource?.environment ?? null;
  const host = resource?.host ?? null;
  const pid = resource?.pid ?? null;
  // Keyed by the trace id text; the stored key travels along for the final write.
  const runs = new Map<string, { key: IdKey; row: RunRow }>();
  let accepted = 0;
  for (const span of spans) {
    const spanKey = idKey(span.span_id);
    const traceKey = idKey(span.trace_id);
    const metadata = json(span.metadata);
    const captured = json(span.captured_params);
    const errorType = span.error_type ?? null;
    const errorMessage = span.error_message ?? null;
    let isNew = true;
    const inserted = state.insertSpan.run(
      project, spanKey, traceKey, optionalIdKey(span.parent_span_id), span.workflow, span.operation, span.status,
      span.started_at, span.duration_ms, errorType, errorMessage, metadata, captured, service, environment, host, pid,
    ).changes;
    if (inserted === 0) {
      if (span.status === 'started') continue;
      const finished = state.finishSpan.run(
        span.status, span.duration_ms, errorType, errorMessage, metadata, captured, project, spanKey, traceKey,
      ).changes;
      if (finished === 0) continue;
      isNew = false;
    }
    accepted++;
    let run = runs.get(span.trace_id);
    if (run === undefined) {
      run = { key: traceKey, row: state.getRun.get(project, traceKey) ?? emptyRun(span) };
      runs.set(span.trace_id, run);
    }
    foldSpan(run.row, span, isNew);
  }
  for (const { key, row } of runs.values()) {
    state.putRun.run(
      project, key, row.workflow, row.operation, row.status, row.started_at, row.duration_ms, row.span_count,
      row.error_summary, row.root_span_id, row.stand_in_span_id, row.stand_in_parent_span_id, row.error_span_id,
      row.error_started_at, row.error_parent_span_id,
    );
  }
  return accepted;
}

function writeEvents(state: IngestState, project: number, resource: WireResource | null, events: WireEvent[]): number {
  const service = resource?.service ?? null;
  const environment = resource?.environment ?? null;
  const host = resource?.host ?? null;
  const pid = resource?.pid ?? null;
  for (const event of events) {
    state.insertEvent.run(
      project, event.trace_id ?? null, event.span_id ?? null, event.workflow ?? null, event.event_type, event.name,
      event.message ?? null, event.severity, event.timestamp, json(event.metadata), service, environment, host, pid,
    );
  }
  return events.length;
}

function writeSamples(state: IngestState, project: number, input: Extract<IngestInput, { kind: 'metrics' }>): number {
  const { sdkVersion, runtimeVersion, service, host } = input;
  let accepted = 0;
  for (const e of input.entries) {
    accepted += state.insertSample.run(
      project, e.timestamp, e.heap_total, e.heap_used, e.rss, e.external, e.array_buffers, e.cpu_usage_pct,
      e.event_loop_lag, e.uss ?? null, e.pss ?? null, e.vms ?? null, e.swap ?? null, e.pid ?? null, e.threads ?? null,
      e.event_loop_p50 ?? null, e.event_loop_p99 ?? null, e.ppid ?? null, e.command ?? null, sdkVersion, runtimeVersion,
      service, host, e.dropped_ring_full ?? null, e.dropped_send_failed ?? null, e.send_retries ?? null, e.metrics_dropped ?? null,
    ).changes;
  }
  return accepted;
}

function json(attributes: Record<string, unknown> | null | undefined): string {
  return attributes == null ? '{}' : JSON.stringify(attributes);
}
