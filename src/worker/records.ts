/**
 * Turns SPAN and EVENT records into the wire objects of SPEC §3. This is where ids become hex,
 * clock readings become unix milliseconds and interned ids become strings again.
 */
import {
  EVENT_FIXED_BYTES,
  EVENT_HAS_MESSAGE,
  EVENT_HAS_METADATA,
  EVENT_HAS_SPAN,
  EVENT_HAS_TRACE,
  EVENT_HAS_WORKFLOW,
  EVENT_NAME,
  EVENT_SEVERITY,
  EVENT_SPAN_ID,
  EVENT_TIME,
  EVENT_TRACE_ID,
  EVENT_TYPE,
  EVENT_WALL_CLOCK,
  EVENT_WORKFLOW,
  SPAN_END,
  SPAN_FIXED_BYTES,
  SPAN_HAS_CAPTURED,
  SPAN_HAS_ERROR,
  SPAN_HAS_METADATA,
  SPAN_HAS_PARENT,
  SPAN_OPERATION,
  SPAN_PARENT_ID,
  SPAN_SPAN_ID,
  SPAN_START,
  SPAN_TRACE_ID,
  SPAN_WALL_CLOCK,
  SPAN_WORKFLOW,
  STATUS_FAILED,
  STATUS_MASK,
  STATUS_SHIFT,
  STATUS_STARTED,
} from '../ring/layout';
import { readAttributes, readIdHex, readInlineString, readString } from '../ring/reader';
import type { RingReader } from '../ring/reader';
import type { WireEvent, WireSpan } from '../wire/batch-codec';
import type { WallClock } from './wall-clock';
import { toUnixMs } from './wall-clock';

const STATUS_NAMES = ['succeeded', 'failed', 'started', 'succeeded'] as const;

export function decodeSpan(r: RingReader, pos: number, kindAndFlags: number, clock: WallClock): WireSpan {
  const { i32, f64 } = r.views;
  const start = f64[(pos + SPAN_START) >> 3]!;
  const end = f64[(pos + SPAN_END) >> 3]!;
  const status = (kindAndFlags & STATUS_MASK) >> STATUS_SHIFT;
  let errorType: string | null = null;
  let errorMessage: string | null = null;
  let metadata: WireSpan['metadata'] = {};
  let capturedParams: WireSpan['captured_params'] = {};
  let at = pos + SPAN_FIXED_BYTES;
  if (kindAndFlags & SPAN_HAS_ERROR) {
    errorType = readInlineString(r, at) || null;
    errorMessage = readInlineString(r, r.cursor) || null;
    at = r.cursor;
  }
  if (kindAndFlags & SPAN_HAS_METADATA) {
    metadata = readAttributes(r, at);
    at = r.cursor;
  }
  if (kindAndFlags & SPAN_HAS_CAPTURED) capturedParams = readAttributes(r, at);
  return {
    trace_id: readIdHex(r, pos + SPAN_TRACE_ID),
    span_id: readIdHex(r, pos + SPAN_SPAN_ID),
    parent_span_id: kindAndFlags & SPAN_HAS_PARENT ? readIdHex(r, pos + SPAN_PARENT_ID) : null,
    workflow: readString(r, i32[(pos + SPAN_WORKFLOW) >> 2]!),
    operation: readString(r, i32[(pos + SPAN_OPERATION) >> 2]!),
    status: STATUS_NAMES[status]!,
    started_at: Math.round(kindAndFlags & SPAN_WALL_CLOCK ? start : toUnixMs(clock, start)),
    duration_ms: status === STATUS_STARTED ? 0 : roundMicros(end - start),
    error_type: errorType ?? (status === STATUS_FAILED && errorMessage !== null ? 'Error' : null),
    error_message: errorMessage,
    metadata,
    captured_params: capturedParams,
  };
}

export function decodeEvent(r: RingReader, pos: number, kindAndFlags: number, clock: WallClock): WireEvent {
  const { i32, f64 } = r.views;
  return {
    trace_id: kindAndFlags & EVENT_HAS_TRACE ? readIdHex(r, pos + EVENT_TRACE_ID) : null,
    span_id: kindAndFlags & EVENT_HAS_SPAN ? readIdHex(r, pos + EVENT_SPAN_ID) : null,
    workflow: kindAndFlags & EVENT_HAS_WORKFLOW ? readString(r, i32[(pos + EVENT_WORKFLOW) >> 2]!) : null,
    event_type: readString(r, i32[(pos + EVENT_TYPE) >> 2]!),
    name: readString(r, i32[(pos + EVENT_NAME) >> 2]!),
    message: kindAndFlags & EVENT_HAS_MESSAGE ? readInlineString(r, pos + EVENT_FIXED_BYTES) : null,
    severity: readString(r, i32[(pos + EVENT_SEVERITY) >> 2]!),
    timestamp: Math.round(kindAndFlags & EVENT_WALL_CLOCK ? f64[(pos + EVENT_TIME) >> 3]! : toUnixMs(clock, f64[(pos + EVENT_TIME) >> 3]!)),
    metadata: kindAndFlags & EVENT_HAS_METADATA ? readAttributes(r, kindAndFlags & EVENT_HAS_MESSAGE ? r.cursor : pos + EVENT_FIXED_BYTES) : {},
  };
}

function roundMicros(ms: number): number {
  return ms > 0 ? Math.round(ms * 1000) / 1000 : 0;
}
