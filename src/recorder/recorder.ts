/**
 * The main-thread recorder: the ring writer plus the counters only this thread touches.
 * `recordSpanInput` / `recordEventInput` turn the documented low-level inputs into ring records;
 * the tracing layer writes SpanFields directly through `recordSpanFields`.
 */
import { performance } from 'node:perf_hooks';
import { STATUS_FAILED, STATUS_STARTED, STATUS_SUCCEEDED } from '../ring/layout';
import { createRingWriter } from '../ring/writer';
import type { RingWriter } from '../ring/writer';
import { writeEvent } from './event-writer';
import type { EventFields } from './event-writer';
import { writeLog } from './log-writer';
import type { LogFields } from './log-writer';
import { copyId, fillRandomId, idWordsFrom } from './ids';
import { writeSpan } from './span-writer';
import type { SpanFields } from './span-writer';
import { writeStderrOnce } from '../stderr';
import { publishRingFull } from '../ring/agent-counters';

export interface Recorder {
  readonly writer: RingWriter;
  produced: number;
  droppedRingFull: number;
}

export function createRecorder(sab: SharedArrayBuffer): Recorder {
  return { writer: createRingWriter(sab), produced: 0, droppedRingFull: 0 };
}

/** A span for `client.recordSpan()`. Ids are 32 hex characters or 16 raw bytes. */
export interface SpanInput {
  workflow: string;
  /** Defaults to the workflow name. */
  operation?: string;
  /** The trace this span belongs to; omitted (or malformed): a new trace. */
  traceId?: string | Uint8Array;
  /** Omitted (or malformed): a fresh random id. */
  spanId?: string | Uint8Array;
  /** Omitted, null or malformed: a root span. */
  parentSpanId?: string | Uint8Array | null;
  status?: 'succeeded' | 'failed' | 'started';
  /** performance.now() when the span started / ended, in ms. `endTime` defaults to now. */
  startTime?: number;
  endTime?: number;
  /** Alternatively, wall-clock start (unix ms) and duration. */
  startedAt?: number;
  durationMs?: number;
  errorType?: string;
  errorMessage?: string;
  /** ≤ 32 keys; strings, finite numbers and booleans; anything else becomes a short string. */
  metadata?: Record<string, unknown>;
  capturedParams?: Record<string, unknown>;
}

export interface EventInput {
  name: string;
  /** info | warning | error | metric | custom | workflow_* | step_* | retry; anything else is sent as custom. */
  type?: string;
  message?: string;
  /** Defaults from the type: error for *failed/error, warning for warning/retry, else info. */
  severity?: string;
  workflow?: string;
  traceId?: string | Uint8Array;
  spanId?: string | Uint8Array;
  /** Unix ms; defaults to now. */
  timestamp?: number;
  metadata?: Record<string, unknown>;
}

// The low-level API reuses these per call: writing is synchronous, so one of each is enough.
const scratchTrace = { w0: 0, w1: 0, w2: 0, w3: 0 };
const spanScratch: SpanFields = {
  w0: 0,
  w1: 0,
  w2: 0,
  w3: 0,
  trace: { w0: 0, w1: 0, w2: 0, w3: 0 },
  parent: null,
  workflow: '',
  operation: '',
  status: STATUS_SUCCEEDED,
  start: 0,
  end: 0,
  wallClock: false,
  errorType: null,
  errorMessage: null,
  metadata: null,
  capturedParams: null,
};

export function recordSpanFields(rec: Recorder, span: SpanFields): boolean {
  rec.produced++;
  if (writeSpan(rec.writer, span)) return true;
  countFull(rec);
  return false;
}

export function recordSpanInput(rec: Recorder, input: SpanInput): boolean {
  const s = spanScratch;
  const traceId = input.traceId === undefined ? null : idWordsFrom(input.traceId);
  if (traceId === null) fillRandomId(scratchTrace);
  s.trace = traceId ?? scratchTrace;
  const spanId = input.spanId === undefined ? null : idWordsFrom(input.spanId);
  if (spanId === null) fillRandomId(s);
  else copyId(s, spanId);
  s.parent = input.parentSpanId == null ? null : idWordsFrom(input.parentSpanId);
  // A receiver refuses a whole batch for one record with an empty name, so none is written.
  s.workflow = nameOr(input.workflow, 'unknown');
  s.operation = input.operation === undefined ? s.workflow : nameOr(input.operation, s.workflow);
  s.status = input.status === 'failed' ? STATUS_FAILED : input.status === 'started' ? STATUS_STARTED : STATUS_SUCCEEDED;
  if (input.startedAt !== undefined) {
    s.wallClock = true;
    s.start = input.startedAt;
    s.end = input.startedAt + (input.durationMs ?? 0);
  } else {
    s.wallClock = false;
    s.end = input.endTime ?? performance.now();
    s.start = input.startTime ?? s.end - (input.durationMs ?? 0);
  }
  s.errorType = input.errorType ?? null;
  s.errorMessage = input.errorMessage ?? null;
  s.metadata = input.metadata ?? null;
  s.capturedParams = input.capturedParams ?? null;
  const ok = recordSpanFields(rec, s);
  s.metadata = null;
  s.capturedParams = null;
  return ok;
}

export const EVENT_TYPES: ReadonlySet<string> = new Set([
  'info', 'warning', 'error', 'metric', 'custom',
  'workflow_started', 'workflow_completed', 'workflow_failed',
  'step_started', 'step_completed', 'step_failed', 'retry',
]);

export function severityForType(type: string): string {
  if (type === 'error' || type.endsWith('_failed')) return 'error';
  if (type === 'warning' || type === 'retry') return 'warning';
  return 'info';
}

export function recordEventFields(rec: Recorder, event: EventFields): boolean {
  rec.produced++;
  if (writeEvent(rec.writer, event)) return true;
  countFull(rec);
  return false;
}

export function recordLogFields(rec: Recorder, log: LogFields): boolean {
  rec.produced++;
  if (writeLog(rec.writer, log)) return true;
  countFull(rec);
  return false;
}

export function recordEventInput(rec: Recorder, input: EventInput): boolean {
  if (input.name === undefined || input.name === null || String(input.name) === '') {
    writeStderrOnce('event-name', 'recordEvent() needs a non-empty name; events without one are not recorded.');
    return false;
  }
  const type = input.type !== undefined && EVENT_TYPES.has(input.type) ? input.type : 'custom';
  return recordEventFields(rec, {
    name: String(input.name),
    type,
    severity: input.severity ?? severityForType(type),
    message: input.message ?? null,
    workflow: input.workflow ?? null,
    traceId: input.traceId === undefined ? null : idWordsFrom(input.traceId),
    spanId: input.spanId === undefined ? null : idWordsFrom(input.spanId),
    time: input.timestamp ?? performance.now(),
    wallClock: input.timestamp !== undefined,
    metadata: input.metadata ?? null,
  });
}

function nameOr(value: unknown, fallback: string): string {
  const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  return text === '' ? fallback : text;
}

function countFull(rec: Recorder): void {
  rec.droppedRingFull++;
  // For the worker, which ships the count as a metric.
  publishRingFull(rec.writer.views, rec.droppedRingFull);
  writeStderrOnce(
    'ring-full',
    `the telemetry buffer (${rec.writer.views.capacity} bytes) is full, so new spans, events and logs are being dropped; ` +
      'they are counted in stats().droppedRingFull. Raise ringBytes / TERACRON_RING_BYTES, or check that the endpoint keeps up.',
  );
}
