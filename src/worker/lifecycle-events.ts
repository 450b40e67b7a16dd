/**
 * Opt-in lifecycle events (traceEmitEvents), made here from span records so the caller's
 * thread pays nothing for them: a root span gives workflow_started and workflow_completed (or
 * _failed), any other span step_started and step_completed (or _failed).
 */
import type { WireEvent, WireSpan } from '../wire/batch-codec';

export function lifecycleEvents(span: WireSpan): [WireEvent, WireEvent] {
  const prefix = span.parent_span_id === null ? 'workflow' : 'step';
  const failed = span.status === 'failed';
  const started: WireEvent = {
    trace_id: span.trace_id,
    span_id: span.span_id,
    workflow: span.workflow,
    event_type: `${prefix}_started`,
    name: span.operation,
    message: null,
    severity: 'info',
    timestamp: span.started_at,
    metadata: {},
  };
  const ended: WireEvent = {
    trace_id: span.trace_id,
    span_id: span.span_id,
    workflow: span.workflow,
    event_type: `${prefix}_${failed ? 'failed' : 'completed'}`,
    name: span.operation,
    message: failed ? `${span.error_type ?? 'Error'}: ${span.error_message ?? ''}` : null,
    severity: failed ? 'error' : 'info',
    timestamp: Math.round(span.started_at + span.duration_ms),
    metadata: { duration_ms: span.duration_ms },
  };
  return [started, ended];
}
