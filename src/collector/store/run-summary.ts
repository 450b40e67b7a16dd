/**
 * The `runs` row of a trace, folded one span at a time so ingest never re-reads a trace's spans.
 *
 * - root: the span without a parent; with several, the earliest started (ties: smallest span id).
 *   workflow, operation, status (`started` reads as in_progress), started_at and duration_ms
 *   come from it.
 * - a trace whose root is elsewhere (continued from another service through a propagation
 *   header, whose own spans never reach this collector) has no such span: the earliest-started
 *   span stands in for it, so the run has this service's status and duration. A root arriving
 *   later (children sent in an earlier batch than their root) takes over.
 * - error_summary: "<error_type>: <error_message>" of the earliest-started failed span; of two
 *   started in the same millisecond, the parent of the other, else the smaller span id.
 *   Timestamps are whole milliseconds on the wire, so a root and its first child often tie.
 *
 * The fold gives the same row whatever order the spans arrive in, which is what lets children
 * arrive before their root (they finish first) and batches arrive out of order.
 */
import type { WireSpan } from '../../wire/batch-codec';
import type { RunSummary } from './types';

/** A run as stored: the query API's RunSummary (less the key) plus what the fold needs. */
export interface RunRow extends Omit<RunSummary, 'trace_id'> {
  root_span_id: string | null;
  /** The earliest span, standing in for a root this collector has not seen. */
  stand_in_span_id: string | null;
  stand_in_parent_span_id: string | null;
  error_span_id: string | null;
  error_started_at: number | null;
  error_parent_span_id: string | null;
}

export function emptyRun(first: WireSpan): RunRow {
  return {
    workflow: first.workflow,
    operation: first.operation,
    status: runStatus(first),
    started_at: first.started_at,
    duration_ms: first.duration_ms,
    span_count: 0,
    error_summary: null,
    root_span_id: null,
    stand_in_span_id: null,
    stand_in_parent_span_id: null,
    error_span_id: null,
    error_started_at: null,
    error_parent_span_id: null,
  };
}

/**
 * Folds `span` into `run` in place. `isNew` is false when the span replaced a stored `started`
 * record of itself (it is then already counted).
 */
export function foldSpan(run: RunRow, span: WireSpan, isNew: boolean): void {
  if (isNew) run.span_count++;
  if (span.parent_span_id === null) {
    if (run.root_span_id === null || run.root_span_id === span.span_id || comesFirst(span, run.started_at, run.root_span_id, null)) {
      run.root_span_id = span.span_id;
      takeFrom(run, span);
    }
  } else if (run.root_span_id === null && standsIn(run, span)) {
    run.stand_in_span_id = span.span_id;
    run.stand_in_parent_span_id = span.parent_span_id;
    takeFrom(run, span);
  }
  if (span.status === 'failed' && (run.error_span_id === null || run.error_span_id === span.span_id || comesFirst(span, run.error_started_at!, run.error_span_id, run.error_parent_span_id))) {
    run.error_span_id = span.span_id;
    run.error_started_at = span.started_at;
    run.error_parent_span_id = span.parent_span_id;
    run.error_summary = errorSummary(span.error_type, span.error_message);
  }
}

function standsIn(run: RunRow, span: WireSpan): boolean {
  // A row stored before stand-ins were kept has none: only an earlier span replaces its fields.
  if (run.stand_in_span_id === null) return span.started_at <= run.started_at;
  return run.stand_in_span_id === span.span_id || comesFirst(span, run.started_at, run.stand_in_span_id, run.stand_in_parent_span_id);
}

function runStatus(span: WireSpan): RunRow['status'] {
  return span.status === 'started' ? 'in_progress' : span.status;
}

function takeFrom(run: RunRow, span: WireSpan): void {
  run.workflow = span.workflow;
  run.operation = span.operation;
  run.started_at = span.started_at;
  run.duration_ms = span.duration_ms;
  run.status = runStatus(span);
}

/**
 * Whether `span` comes before the span (`otherId`, child of `otherParentId`) that started at
 * `startedAt`: the earlier start; in the same millisecond, a parent before its child, else the
 * smaller span id. So the order never depends on which batch arrived first.
 */
function comesFirst(span: WireSpan, startedAt: number, otherId: string, otherParentId: string | null): boolean {
  if (span.started_at !== startedAt) return span.started_at < startedAt;
  if (otherParentId === span.span_id) return true;
  if (span.parent_span_id === otherId) return false;
  return span.span_id < otherId;
}

export function errorSummary(type: string | null, message: string | null): string {
  if (type && message) return `${type}: ${message}`;
  return type || message || 'failed without an error type or message';
}
