/**
 * Writes. A batch is stored in one IMMEDIATE transaction, alone or with others (insertBatches):
 * its batch_id mark, every row, the runs it touches and their hours' aggregates commit together
 * or not at all, so a rejected batch leaves nothing behind and a retried one (same batch_id) is
 * stored once.
 *
 * Spans are keyed by (project, span_id): a repeated span is ignored, except that a finished record
 * replaces a stored `started` one of the same span (a long run reported early, then finished).
 * A span carries its run's rowid. Each trace's `runs` row is written once per batch: inserted
 * already folded for a new trace, or read, folded in memory and written back.
 *
 * Logs and the errors of a batch (its error logs, its failed spans) are written in the same
 * transaction (log-ingest.ts); a failed span counts in its issue only when it was stored, not
 * when it was skipped as stored before.
 *
 * Duplicates are skipped with `ON CONFLICT (key) DO NOTHING`, never `INSERT OR IGNORE`: OR IGNORE
 * would also skip a row that breaks NOT NULL, silently storing part of a bad batch.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { WireEvent, WireResource, WireSpan } from '../../wire/batch-codec';
import type { MetricsEntry } from '../../wire/metrics-batch';
import { asError } from './errors';
import { idKey, optionalIdKey } from './ids';
import type { IdKey } from './ids';
import { createLogIngest, writeLogs, writeOccurrences } from './log-ingest';
import type { LogIngestState } from './log-ingest';
import type { Db } from './open';
import { emptyRun, foldSpan } from './run-summary';
import type { RunRow } from './run-summary';
import { createWorkflowHours, HourDeltas } from './workflow-hours';
import type { RunFacts, WorkflowHoursState } from './workflow-hours';
import type { IngestInput, IngestResult } from './types';

type Statement = BetterSqlite3.Statement;

export interface IngestState {
  now: () => number;
  markBatch: Statement;
  insertSpan: Statement;
  finishSpan: Statement;
  getRun: BetterSqlite3.Statement<unknown[], RunRow & { id: number }>;
  /** Changes nothing when the trace has a run already (lastInsertRowid is the new run's rowid). */
  insertRun: Statement;
  updateRun: Statement;
  deleteRun: Statement;
  hours: WorkflowHoursState;
  insertEvent: Statement;
  insertSample: Statement;
  logs: LogIngestState;
  insertBatch: BetterSqlite3.Transaction<(project: number, input: IngestInput) => IngestResult>;
  insertGroup: BetterSqlite3.Transaction<(items: readonly ProjectBatch[], results: Array<IngestResult | Error>) => void>;
}

export interface ProjectBatch {
  project: number;
  input: IngestInput;
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
         duration_ms, error_type, error_message, metadata, captured_params, service, environment, host, pid, run)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (project, span_id) DO NOTHING`,
    ),
    finishSpan: db.prepare(
      `UPDATE spans SET status = ?, duration_ms = ?, error_type = ?, error_message = ?, metadata = ?, captured_params = ?
       WHERE project = ? AND span_id = ? AND trace_id = ? AND status = 'started'`,
    ),
    getRun: db.prepare<unknown[], RunRow & { id: number }>(
      `SELECT rowid AS id, workflow, operation, status, started_at, duration_ms, span_count, error_summary, root_span_id,
         stand_in_span_id, stand_in_parent_span_id, error_span_id, error_started_at, error_parent_span_id
       FROM runs WHERE project = ? AND trace_id = ?`,
    ),
    insertRun: db.prepare<unknown[], number>(
      `INSERT INTO runs (project, trace_id, workflow, operation, status, started_at, duration_ms, span_count, error_summary,
         root_span_id, stand_in_span_id, stand_in_parent_span_id, error_span_id, error_started_at, error_parent_span_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (project, trace_id) DO NOTHING`,
    ),
    updateRun: db.prepare(
      `UPDATE runs SET workflow = ?, operation = ?, status = ?, started_at = ?, duration_ms = ?, span_count = ?,
         error_summary = ?, root_span_id = ?, stand_in_span_id = ?, stand_in_parent_span_id = ?, error_span_id = ?,
         error_started_at = ?, error_parent_span_id = ?
       WHERE rowid = ?`,
    ),
    deleteRun: db.prepare('DELETE FROM runs WHERE rowid = ?'),
    hours: createWorkflowHours(db),
    insertEvent: db.prepare(
      `INSERT INTO events (project, trace_id, span_id, workflow, event_type, name, message, severity, timestamp, metadata,
         service, environment, host, pid)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertSample: db.prepare(
      `INSERT INTO metric_samples (project, timestamp, heap_total, heap_used, rss, external, array_buffers,
         cpu_usage_pct, event_loop_lag, uss, pss, vms, swap, pid, threads, event_loop_p50, event_loop_p99, ppid, command,
         sdk_version, runtime_version, service, host, dropped_ring_full, dropped_send_failed, send_retries, metrics_dropped,
         spooled, replayed, dropped_spool_full, spool_bytes)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (project, pid, timestamp) DO NOTHING`,
    ),
    logs: createLogIngest(db),
  } as Omit<IngestState, 'insertBatch' | 'insertGroup'> as IngestState;
  state.insertBatch = db.transaction((project: number, input: IngestInput) => writeBatch(state, project, input));
  // Each batch's writes run straight in the group's transaction, with no savepoint of its own:
  // a savepoint makes SQLite copy every page a batch touches first to a sub-journal, which
  // cost more than the group commit saves.
  state.insertGroup = db.transaction((items: readonly ProjectBatch[], results: Array<IngestResult | Error>) => {
    items.forEach(({ project, input }, i) => (results[i] = writeBatch(state, project, input)));
  });
  return state;
}

export function insertBatch(state: IngestState, project: number, input: IngestInput): IngestResult {
  // IMMEDIATE takes the write lock up front: a deferred transaction that upgrades later can fail
  // with SQLITE_BUSY without waiting when another connection writes.
  return state.insertBatch.immediate(project, input);
}

/**
 * Several batches in one transaction (group commit): one commit's cost shared by all, and the
 * pages their spans dirty in the random-keyed indexes (span id, trace id) written once for the
 * group. When the group fails (a batch breaks a constraint, the disk is full), it is rolled back
 * whole and each batch is written again in a transaction of its own, so each succeeds or fails
 * alone: a batch that fails gets its error in its place, with nothing of it stored.
 */
export function insertBatches(state: IngestState, items: readonly ProjectBatch[]): Array<IngestResult | Error> {
  const results: Array<IngestResult | Error> = new Array(items.length);
  try {
    state.insertGroup.immediate(items, results);
    return results;
  } catch (groupError) {
    if (items.length === 1) return [asError(groupError)];
  }
  return items.map(({ project, input }) => {
    try {
      return insertBatch(state, project, input);
    } catch (error) {
      return asError(error);
    }
  });
}

function writeBatch(state: IngestState, project: number, input: IngestInput): IngestResult {
  if (input.batchId !== null && state.markBatch.run(project, input.batchId, input.kind, state.now(), itemCount(input)).changes === 0) {
    return DUPLICATE;
  }
  switch (input.kind) {
    case 'trace': {
      const hours = new HourDeltas();
      const written = new Set<string>();
      const accepted = writeSpans(state, project, input.resource, input.spans, hours, written);
      hours.flush(state.hours);
      // A failed span stored before (sent again in another batch) is no new occurrence.
      const occurrences = input.occurrences.filter((o) => o.span_id !== null && written.has(o.span_id));
      writeOccurrences(state.logs, project, input.resource?.service ?? null, occurrences);
      return { accepted, duplicate: false };
    }
    case 'event':
      return { accepted: writeEvents(state, project, input.resource, input.events), duplicate: false };
    case 'log': {
      const accepted = writeLogs(state.logs, project, input.resource, input.logs, input.fingerprints);
      writeOccurrences(state.logs, project, input.resource?.service ?? null, input.occurrences);
      return { accepted, duplicate: false };
    }
    case 'metrics':
      return { accepted: writeSamples(state, project, input), duplicate: false };
    default:
      throw new TypeError(`Unknown batch kind ${JSON.stringify((input as { kind: unknown }).kind)}: expected "trace", "event", "log" or "metrics".`);
  }
}

function itemCount(input: IngestInput): number {
  switch (input.kind) {
    case 'trace':
      return input.spans.length;
    case 'event':
      return input.events.length;
    case 'log':
      return input.logs.length;
    case 'metrics':
      return input.entries.length;
  }
}

interface SpanColumns {
  project: number;
  service: string | null;
  environment: string | null;
  host: string | null;
  pid: number | null;
}

/** `written` gets the ids of the spans stored or finished (not those skipped as stored before). */
function writeSpans(state: IngestState, project: number, resource: WireResource | null, spans: WireSpan[], hours: HourDeltas, written: Set<string>): number {
  const columns: SpanColumns = {
    project,
    service: resource?.service ?? null,
    environment: resource?.environment ?? null,
    host: resource?.host ?? null,
    pid: resource?.pid ?? null,
  };
  // A batch's spans by trace, in batch order: each trace's run is read (or created) once.
  const traces = new Map<string, WireSpan[]>();
  for (const span of spans) {
    const list = traces.get(span.trace_id);
    if (list === undefined) traces.set(span.trace_id, [span]);
    else list.push(span);
  }
  let accepted = 0;
  for (const [traceId, list] of traces) accepted += writeTrace(state, columns, idKey(traceId), list, hours, written);
  return accepted;
}

/** What writing a span did: stored it, replaced its stored `started` record, or nothing. */
type Outcome = 'new' | 'finished' | 'skipped';

function writeTrace(state: IngestState, columns: SpanColumns, traceKey: IdKey, spans: WireSpan[], hours: HourDeltas, written: Set<string>): number {
  // Most traces are new: their run row is written first, since their spans carry its rowid. The
  // row is folded ahead from what writing the spans should do (each span new, a repeated span id
  // replacing its `started` record), and folded again from what they did only if that differs
  // (a span id already stored under another trace). A trace already stored (a conflict, which
  // costs one index search) goes the other way: its run is read, folded and written back.
  const planned = plannedOutcomes(spans);
  const row = foldAll(spans, planned);
  if (row === null) return 0;
  const project = columns.project;
  // Not RETURNING rowid: SQLite collects RETURNING rows in a temporary table first.
  const inserted = state.insertRun.run(project, traceKey, ...runValues(row));
  if (inserted.changes === 0) return writeToStoredRun(state, columns, traceKey, spans, hours, written);
  const runId = Number(inserted.lastInsertRowid);
  const outcomes = spans.map((span, i) => (planned[i] === 'skipped' ? 'skipped' : writeSpan(state, columns, traceKey, runId, span)));
  let final = row;
  if (outcomes.some((outcome, i) => outcome !== planned[i])) {
    const refolded = foldAll(spans, outcomes);
    if (refolded === null) {
      state.deleteRun.run(runId);
      return 0;
    }
    updateRun(state, runId, refolded);
    final = refolded;
  }
  spans.forEach((span, i) => {
    if (outcomes[i] !== 'skipped') written.add(span.span_id);
  });
  hours.add(project, final, 1);
  return final.span_count;
}

function writeToStoredRun(state: IngestState, columns: SpanColumns, traceKey: IdKey, spans: WireSpan[], hours: HourDeltas, written: Set<string>): number {
  const stored = state.getRun.get(columns.project, traceKey)!;
  const before: RunFacts = { workflow: stored.workflow, status: stored.status, started_at: stored.started_at, duration_ms: stored.duration_ms };
  let accepted = 0;
  for (const span of spans) {
    const outcome = writeSpan(state, columns, traceKey, stored.id, span);
    if (outcome === 'skipped') continue;
    written.add(span.span_id);
    accepted++;
    foldSpan(stored, span, outcome === 'new');
  }
  if (accepted > 0) {
    updateRun(state, stored.id, stored);
    hours.replace(columns.project, before, stored);
  }
  return accepted;
}

function writeSpan(state: IngestState, c: SpanColumns, traceKey: IdKey, runId: number, span: WireSpan): Outcome {
  const spanKey = idKey(span.span_id);
  const metadata = json(span.metadata);
  const captured = json(span.captured_params);
  const errorType = span.error_type ?? null;
  const errorMessage = span.error_message ?? null;
  const inserted = state.insertSpan.run(
    c.project, spanKey, traceKey, optionalIdKey(span.parent_span_id), span.workflow, span.operation, span.status,
    span.started_at, span.duration_ms, errorType, errorMessage, metadata, captured, c.service, c.environment, c.host, c.pid, runId,
  ).changes;
  if (inserted === 1) return 'new';
  if (span.status === 'started') return 'skipped';
  const finished = state.finishSpan.run(span.status, span.duration_ms, errorType, errorMessage, metadata, captured, c.project, spanKey, traceKey).changes;
  return finished === 1 ? 'finished' : 'skipped';
}

/** What writing a new trace's spans will do if none of their ids is stored yet. */
function plannedOutcomes(spans: WireSpan[]): Outcome[] {
  const statusById = new Map<string, string>();
  return spans.map((span) => {
    const earlier = statusById.get(span.span_id);
    if (earlier === undefined) {
      statusById.set(span.span_id, span.status);
      return 'new';
    }
    if (earlier !== 'started' || span.status === 'started') return 'skipped';
    statusById.set(span.span_id, span.status);
    return 'finished';
  });
}

/** The run of spans that had these outcomes; null when none was written. */
function foldAll(spans: WireSpan[], outcomes: readonly Outcome[]): RunRow | null {
  let row: RunRow | null = null;
  spans.forEach((span, i) => {
    const outcome = outcomes[i]!;
    if (outcome === 'skipped') return;
    row ??= emptyRun(span);
    foldSpan(row, span, outcome === 'new');
  });
  return row;
}

function runValues(row: RunRow): unknown[] {
  return [
    row.workflow, row.operation, row.status, row.started_at, row.duration_ms, row.span_count, row.error_summary,
    row.root_span_id, row.stand_in_span_id, row.stand_in_parent_span_id, row.error_span_id, row.error_started_at,
    row.error_parent_span_id,
  ];
}

function updateRun(state: IngestState, runId: number, row: RunRow): void {
  state.updateRun.run(...runValues(row), runId);
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
      e.spooled ?? null, e.replayed ?? null, e.dropped_spool_full ?? null, e.spool_bytes ?? null,
    ).changes;
  }
  return accepted;
}

function json(attributes: Record<string, unknown> | null | undefined): string {
  return attributes == null ? '{}' : JSON.stringify(attributes);
}
