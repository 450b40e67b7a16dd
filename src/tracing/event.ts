/**
 * `event({ name, type, message, metadata })`: a structured event, tied to the current trace and
 * span when there is one.
 */
import { performance } from 'node:perf_hooks';
import { EVENT_TYPES, recordEventFields, severityForType } from '../recorder/recorder';
import { scrub } from './capture';
import { storage } from './context';
import { spanOfContext, traceOfContext } from './record-context';
import { tracer, warnOnce } from './tracer';

export interface EventOptions {
  name: string;
  /** info | warning | error | metric | custom | retry | workflow_* | step_*; others are sent as custom. */
  type?: string;
  message?: string;
  /** Defaults from the type: error for error/*_failed, warning for warning/retry, else info. */
  severity?: string;
  metadata?: Record<string, unknown>;
}

/** Returns false when nothing was recorded (no agent running, tracing off, or a full ring). */
export function event(options: EventOptions): boolean {
  const recorder = tracer.recorder;
  if (recorder === null || options === null || typeof options !== 'object') return false;
  if (options.name === undefined || options.name === null || String(options.name) === '') {
    warnOnce('event-name', 'event() needs a non-empty name; events without one are not recorded.');
    return false;
  }
  const type = options.type !== undefined && EVENT_TYPES.has(options.type) ? options.type : 'custom';
  const context = storage.getStore();
  let metadata = options.metadata ?? null;
  if (metadata !== null && tracer.scrubber !== undefined) metadata = scrub(metadata, tracer.scrubber, warnOnce);
  const span = spanOfContext(context);
  return recordEventFields(recorder, {
    name: String(options.name),
    type,
    severity: options.severity ?? severityForType(type),
    message: options.message ?? null,
    workflow: span === null ? null : span.workflow,
    traceId: traceOfContext(context, span),
    spanId: span,
    time: performance.now(),
    wallClock: false,
    metadata,
  });
}
