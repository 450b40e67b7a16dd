/**
 * Writes one SPAN record (layout.ts). This is the per-span cost on the application's thread:
 * two interned-string lookups, sixteen int32 stores, two float64 stores, one publish.
 */
import {
  KIND_SPAN,
  MAX_CAPTURED_STRING_CHARS,
  MAX_ERROR_MESSAGE_CHARS,
  MAX_ERROR_TYPE_CHARS,
  MAX_METADATA_STRING_CHARS,
  MAX_NAME_CHARS,
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
  STATUS_SHIFT,
} from '../ring/layout';
import { inlineStringBytes, intern, publish, reserve, seal, writeInlineString } from '../ring/writer';
import type { RingWriter } from '../ring/writer';
import { createPreparedAttributes, prepareAttributes, releaseAttributes, writeAttributes } from './attributes';
import type { Attributes } from './attributes';
import { writeIdWords } from './ids';
import type { IdWords } from './ids';

/**
 * What a span carries into the ring. The tracing layer keeps one of these per live span. The
 * span's own id is its w0..w3 (so a span can stand as its children's `parent`); the trace id
 * object is shared by every span of a trace.
 */
export interface SpanFields extends IdWords {
  trace: IdWords;
  parent: IdWords | null;
  workflow: string;
  operation: string;
  /** STATUS_SUCCEEDED | STATUS_FAILED | STATUS_STARTED */
  status: number;
  /** performance.now() readings of this thread in ms, or unix ms when `wallClock`. */
  start: number;
  end: number;
  wallClock: boolean;
  errorType: string | null;
  errorMessage: string | null;
  metadata: Attributes | null;
  capturedParams: Attributes | null;
}

const metadataScratch = createPreparedAttributes();
const capturedScratch = createPreparedAttributes();

/** Returns false when the span did not fit (the caller counts the drop). */
export function writeSpan(w: RingWriter, span: SpanFields): boolean {
  const generation = w.generation;
  let workflowId = w.lastWorkflowId;
  if (span.workflow !== w.lastWorkflow) {
    workflowId = intern(w, span.workflow, MAX_NAME_CHARS);
    if (workflowId < 0) return abandon(w);
    w.lastWorkflow = span.workflow;
    w.lastWorkflowId = workflowId;
  }
  let operationId = w.lastOperationId;
  if (span.operation !== w.lastOperation) {
    operationId = intern(w, span.operation, MAX_NAME_CHARS);
    if (operationId < 0) return abandon(w);
    w.lastOperation = span.operation;
    w.lastOperationId = operationId;
  }

  let flags = span.status << STATUS_SHIFT;
  if (span.wallClock) flags |= SPAN_WALL_CLOCK;
  let bytes = SPAN_FIXED_BYTES;
  const errorType = span.errorType;
  const errorMessage = span.errorMessage;
  if (errorType !== null || errorMessage !== null) {
    flags |= SPAN_HAS_ERROR;
    bytes += inlineStringBytes(clip(errorType, MAX_ERROR_TYPE_CHARS)) + inlineStringBytes(clip(errorMessage, MAX_ERROR_MESSAGE_CHARS));
  }
  if (span.metadata !== null) {
    const extra = prepareAttributes(w, span.metadata, MAX_METADATA_STRING_CHARS, metadataScratch);
    if (extra < 0) return abandon(w);
    if (metadataScratch.count > 0) {
      flags |= SPAN_HAS_METADATA;
      bytes += extra;
    }
  }
  if (span.capturedParams !== null) {
    const extra = prepareAttributes(w, span.capturedParams, MAX_CAPTURED_STRING_CHARS, capturedScratch);
    if (extra < 0) return abandon(w);
    if (capturedScratch.count > 0) {
      flags |= SPAN_HAS_CAPTURED;
      bytes += extra;
    }
  }
  bytes = (bytes + 7) & ~7;
  // A reset while interning voids the ids taken before it; the table is fresh now, so once more suffices.
  if (w.generation !== generation) return writeSpan(w, span);

  const pos = reserve(w, bytes);
  if (pos < 0) return abandon(w);
  const { i32, f64 } = w.views;
  writeIdWords(i32, (pos + SPAN_TRACE_ID) >> 2, span.trace);
  writeIdWords(i32, (pos + SPAN_SPAN_ID) >> 2, span);
  if (span.parent !== null) {
    flags |= SPAN_HAS_PARENT;
    writeIdWords(i32, (pos + SPAN_PARENT_ID) >> 2, span.parent);
  }
  i32[(pos + SPAN_WORKFLOW) >> 2] = workflowId;
  i32[(pos + SPAN_OPERATION) >> 2] = operationId;
  f64[(pos + SPAN_START) >> 3] = span.start;
  f64[(pos + SPAN_END) >> 3] = span.end;

  if (flags & (SPAN_HAS_ERROR | SPAN_HAS_METADATA | SPAN_HAS_CAPTURED)) {
    let at = pos + SPAN_FIXED_BYTES;
    if (flags & SPAN_HAS_ERROR) {
      at = writeInlineString(w, at, errorType ?? '', MAX_ERROR_TYPE_CHARS);
      at = writeInlineString(w, at, errorMessage ?? '', MAX_ERROR_MESSAGE_CHARS);
    }
    if (flags & SPAN_HAS_METADATA) at = writeAttributes(w, at, metadataScratch);
    if (flags & SPAN_HAS_CAPTURED) writeAttributes(w, at, capturedScratch);
  }
  seal(w, pos, bytes, KIND_SPAN | flags);
  publish(w);
  return true;
}

function clip(text: string | null, max: number): number {
  if (text === null) return 0;
  return text.length < max ? text.length : max;
}

/** A record that does not fit is dropped, but strings interned on the way must still cross. */
function abandon(w: RingWriter): false {
  releaseAttributes(metadataScratch);
  releaseAttributes(capturedScratch);
  publish(w);
  return false;
}
