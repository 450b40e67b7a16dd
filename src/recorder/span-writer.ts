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
  // Error, metadata and captured parameters are in functions of their own: most spans have none,
  // and this function, kept small, optimizes in a few ms rather than tens (paid by every process).
  const hasParts = span.errorType !== null || span.errorMessage !== null || span.metadata !== null || span.capturedParams !== null;
  if (hasParts) {
    const extra = prepareParts(w, span);
    if (extra < 0) return abandon(w);
    flags |= parts.flags;
    bytes += extra;
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
  if (flags & (SPAN_HAS_ERROR | SPAN_HAS_METADATA | SPAN_HAS_CAPTURED)) writeParts(w, pos + SPAN_FIXED_BYTES, span, flags);
  seal(w, pos, bytes, KIND_SPAN | flags);
  publish(w);
  return true;
}

/** The flags of the parts prepareParts found, beside the byte count it returns. */
const parts = { flags: 0 };

/** Sizes the span's error, metadata and captured parameters; -1 when an attribute could not be interned. */
function prepareParts(w: RingWriter, span: SpanFields): number {
  let flags = 0;
  let bytes = 0;
  const errorType = span.errorType;
  const errorMessage = span.errorMessage;
  if (errorType !== null || errorMessage !== null) {
    flags |= SPAN_HAS_ERROR;
    bytes += inlineStringBytes(clip(errorType, MAX_ERROR_TYPE_CHARS)) + inlineStringBytes(clip(errorMessage, MAX_ERROR_MESSAGE_CHARS));
  }
  if (span.metadata !== null) {
    const extra = prepareAttributes(w, span.metadata, MAX_METADATA_STRING_CHARS, metadataScratch);
    if (extra < 0) return -1;
    if (metadataScratch.count > 0) {
      flags |= SPAN_HAS_METADATA;
      bytes += extra;
    }
  }
  if (span.capturedParams !== null) {
    const extra = prepareAttributes(w, span.capturedParams, MAX_CAPTURED_STRING_CHARS, capturedScratch);
    if (extra < 0) return -1;
    if (capturedScratch.count > 0) {
      flags |= SPAN_HAS_CAPTURED;
      bytes += extra;
    }
  }
  parts.flags = flags;
  return bytes;
}

function writeParts(w: RingWriter, at: number, span: SpanFields, flags: number): void {
  if (flags & SPAN_HAS_ERROR) {
    at = writeInlineString(w, at, span.errorType ?? '', MAX_ERROR_TYPE_CHARS);
    at = writeInlineString(w, at, span.errorMessage ?? '', MAX_ERROR_MESSAGE_CHARS);
  }
  if (flags & SPAN_HAS_METADATA) at = writeAttributes(w, at, metadataScratch);
  if (flags & SPAN_HAS_CAPTURED) writeAttributes(w, at, capturedScratch);
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
