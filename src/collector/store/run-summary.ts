/**
 * The `runs` row of a trace, folded one span at a time so ingest never re-reads a trace's spans.
 *
 * - root: the span without a parent; with several, the earliest started (ties: smallest span id).
 *   workflow, operation, started_at and duration_ms come from it; until it arrives they come from
 *   the earliest span seen, with duration 0.
 * - status: the root's (`started` reads as in_progress); in_progress until a root arrives.
 * - error_summary: "<error_type>: <error_message>" of the earliest-started failed span.
 *
 * The fold gives the same row whatever order the spans arrive in, which is what lets children
 * arrive before their root (they finish first) and batches arrive out of order.
 */
import type { WireSpan } from '../../wire/batch-codec';
import type { RunSummary } from './types';

/** A run as stored: the query API's RunSummary (less the key) plus what the fold needs. */
export interface RunRow extends Omit<RunSummary, 'trace_id'> {
  root_span_id: string | null;
  error_span_id: string | null;
  error_started_at: number | null;
}

export function emptyRun(first: WireSpan): RunRow {
  return {
    workflow: first.workflow,
    operation: first.operation,
    status: 'in_progress',
    started_at: first.started_at,
    duration_ms: 0,
    span_count: 0,
    error_summary: null,
    root_span_id: null,
    error_span_id: null,
    error_started_at: null,
  };
}

/**
 * Folds `span` into `run` in place. `isNew` is false when the span replaced a stored `started`
 * record of itself (it is then already counted).
 */
export function foldSpan(run: RunRow, span: WireSpan, isNew: boolean): void {
  if (isNew) run.span_count++;
  if (span.parent_span_id === null) {
    if (run.root_span_id === null || run.root_span_id === span.span_id || precedes(span, run.started_at, run.root_span_id)) {
      run.root_span_id = span.span_id;
      run.workflow = span.workflow;
      run.operation = span.operation;
      run.started_at = span.started_at;
      run.duration_ms = span.duration_ms;
      run.status = span.status === 'started' ? 'in_progress' : span.status;
    }
  } else if (run.root_span_id === null && span.started_at < run.started_at) {
    run.workflow = span.workflow;
    run.operation = span.operation;
    run.started_at = span.started_at;
  }
  if (span.status === 'failed' && (run.error_span_id === null || precedes(span, run.error_started_at!, run.error_span_id))) {
    run.error_span_id = span.span_id;
    run.error_started_at = span.started_at;
    run.error_summary = errorSummary(span.error_type, span.error_message);
  }
}

function precedes(span: WireSpan, startedAt: number, spanId: string): boolean {
  return span.started_at < startedAt || (span.started_at === startedAt && span.span_id < spanId);
}

export function errorSummary(type: string | null, message: string | null): string {
  if (type && message) return `${type}: ${message}`;
  return type || message || 'failed without an error type or message';
}
