/** Writes one EVENT record (layout.ts). */
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
  KIND_EVENT,
  MAX_ERROR_MESSAGE_CHARS,
  MAX_METADATA_STRING_CHARS,
  MAX_NAME_CHARS,
  MAX_SEVERITY_CHARS,
} from '../ring/layout';
import { inlineStringBytes, intern, publish, reserve, seal, writeInlineString } from '../ring/writer';
import type { RingWriter } from '../ring/writer';
import { createPreparedAttributes, prepareAttributes, releaseAttributes, writeAttributes } from './attributes';
import type { Attributes } from './attributes';
import { writeIdWords } from './ids';
import type { IdWords } from './ids';

export interface EventFields {
  name: string;
  type: string;
  severity: string;
  message: string | null;
  workflow: string | null;
  traceId: IdWords | null;
  spanId: IdWords | null;
  /** performance.now() of this thread in ms, or unix ms when `wallClock`. */
  time: number;
  wallClock: boolean;
  metadata: Attributes | null;
}

const metadataScratch = createPreparedAttributes();

export function writeEvent(w: RingWriter, event: EventFields): boolean {
  const generation = w.generation;
  const nameId = intern(w, event.name, MAX_NAME_CHARS);
  const typeId = nameId < 0 ? -1 : intern(w, event.type, MAX_NAME_CHARS);
  const severityId = typeId < 0 ? -1 : intern(w, event.severity, MAX_SEVERITY_CHARS);
  const workflowId = event.workflow === null || severityId < 0 ? -1 : intern(w, event.workflow, MAX_NAME_CHARS);
  if (severityId < 0 || (event.workflow !== null && workflowId < 0)) return abandon(w);

  let flags = event.wallClock ? EVENT_WALL_CLOCK : 0;
  let bytes = EVENT_FIXED_BYTES;
  const message = event.message;
  if (message !== null) {
    flags |= EVENT_HAS_MESSAGE;
    bytes += inlineStringBytes(message.length < MAX_ERROR_MESSAGE_CHARS ? message.length : MAX_ERROR_MESSAGE_CHARS);
  }
  if (event.metadata !== null) {
    const extra = prepareAttributes(w, event.metadata, MAX_METADATA_STRING_CHARS, metadataScratch);
    if (extra < 0) return abandon(w);
    if (metadataScratch.count > 0) {
      flags |= EVENT_HAS_METADATA;
      bytes += extra;
    }
  }
  bytes = (bytes + 7) & ~7;
  // A reset while interning voids the ids taken before it; the table is fresh now, so once more suffices.
  if (w.generation !== generation) return writeEvent(w, event);
  const pos = reserve(w, bytes);
  if (pos < 0) return abandon(w);

  const { i32, f64 } = w.views;
  if (event.traceId !== null) {
    flags |= EVENT_HAS_TRACE;
    writeIdWords(i32, (pos + EVENT_TRACE_ID) >> 2, event.traceId);
  }
  if (event.spanId !== null) {
    flags |= EVENT_HAS_SPAN;
    writeIdWords(i32, (pos + EVENT_SPAN_ID) >> 2, event.spanId);
  }
  if (workflowId >= 0) flags |= EVENT_HAS_WORKFLOW;
  i32[(pos + EVENT_NAME) >> 2] = nameId;
  i32[(pos + EVENT_TYPE) >> 2] = typeId;
  i32[(pos + EVENT_SEVERITY) >> 2] = severityId;
  i32[(pos + EVENT_WORKFLOW) >> 2] = workflowId;
  f64[(pos + EVENT_TIME) >> 3] = event.time;
  let at = pos + EVENT_FIXED_BYTES;
  if (message !== null) at = writeInlineString(w, at, message, MAX_ERROR_MESSAGE_CHARS);
  if (flags & EVENT_HAS_METADATA) writeAttributes(w, at, metadataScratch);
  seal(w, pos, bytes, KIND_EVENT | flags);
  publish(w);
  return true;
}

function abandon(w: RingWriter): false {
  releaseAttributes(metadataScratch);
  publish(w);
  return false;
}
