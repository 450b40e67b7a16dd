/** Writes one LOG record (layout.ts). */
import {
  KIND_LOG,
  LOG_FIXED_BYTES,
  LOG_HAS_ERROR,
  LOG_HAS_EXTRA,
  LOG_HAS_MODULE,
  LOG_HAS_SPAN,
  LOG_HAS_STACK,
  LOG_HAS_TRACE,
  LOG_LEVEL_SHIFT,
  LOG_MODULE,
  LOG_SPAN_ID,
  LOG_TIME,
  LOG_TRACE_ID,
  LOG_WALL_CLOCK,
  MAX_ERROR_TYPE_CHARS,
  MAX_LOG_MESSAGE_CHARS,
  MAX_LOG_STACK_CHARS,
  MAX_METADATA_STRING_CHARS,
  MAX_NAME_CHARS,
} from '../ring/layout';
import { inlineStringBytes, intern, publish, reserve, seal, writeInlineString } from '../ring/writer';
import type { RingWriter } from '../ring/writer';
import { createPreparedAttributes, prepareAttributes, releaseAttributes, writeAttributes } from './attributes';
import type { Attributes } from './attributes';
import { writeIdWords } from './ids';
import type { IdWords } from './ids';

export interface LogFields {
  /** Index into LOG_LEVELS (src/wire/batch-codec.ts). */
  level: number;
  message: string;
  module: string | null;
  traceId: IdWords | null;
  spanId: IdWords | null;
  /** performance.now() of this thread in ms, or unix ms when `wallClock`. */
  time: number;
  wallClock: boolean;
  extra: Attributes | null;
  /** Set together: an error's class name and message (either may be ''). */
  errorType: string | null;
  errorMessage: string | null;
  stack: string | null;
}

const extraScratch = createPreparedAttributes();

function clipped(text: string, max: number): number {
  return text.length < max ? text.length : max;
}

export function writeLog(w: RingWriter, log: LogFields): boolean {
  const generation = w.generation;
  const moduleId = log.module === null ? -1 : intern(w, log.module, MAX_NAME_CHARS);
  if (log.module !== null && moduleId < 0) return abandon(w);

  let flags = (log.level << LOG_LEVEL_SHIFT) | (log.wallClock ? LOG_WALL_CLOCK : 0);
  let bytes = LOG_FIXED_BYTES + inlineStringBytes(clipped(log.message, MAX_LOG_MESSAGE_CHARS));
  const errorType = log.errorType;
  const errorMessage = log.errorMessage;
  if (errorType !== null || errorMessage !== null) {
    flags |= LOG_HAS_ERROR;
    bytes += inlineStringBytes(errorType === null ? 0 : clipped(errorType, MAX_ERROR_TYPE_CHARS));
    bytes += inlineStringBytes(errorMessage === null ? 0 : clipped(errorMessage, MAX_LOG_MESSAGE_CHARS));
  }
  if (log.stack !== null) {
    flags |= LOG_HAS_STACK;
    bytes += inlineStringBytes(clipped(log.stack, MAX_LOG_STACK_CHARS));
  }
  if (log.extra !== null) {
    const extra = prepareAttributes(w, log.extra, MAX_METADATA_STRING_CHARS, extraScratch);
    if (extra < 0) return abandon(w);
    if (extraScratch.count > 0) {
      flags |= LOG_HAS_EXTRA;
      bytes += extra;
    }
  }
  bytes = (bytes + 7) & ~7;
  // A reset while interning voids the ids taken before it; the table is fresh now, so once more suffices.
  if (w.generation !== generation) return writeLog(w, log);
  const pos = reserve(w, bytes);
  if (pos < 0) return abandon(w);

  const { i32, f64 } = w.views;
  if (log.traceId !== null) {
    flags |= LOG_HAS_TRACE;
    writeIdWords(i32, (pos + LOG_TRACE_ID) >> 2, log.traceId);
  }
  if (log.spanId !== null) {
    flags |= LOG_HAS_SPAN;
    writeIdWords(i32, (pos + LOG_SPAN_ID) >> 2, log.spanId);
  }
  if (moduleId >= 0) flags |= LOG_HAS_MODULE;
  i32[(pos + LOG_MODULE) >> 2] = moduleId;
  f64[(pos + LOG_TIME) >> 3] = log.time;
  let at = writeInlineString(w, pos + LOG_FIXED_BYTES, log.message, MAX_LOG_MESSAGE_CHARS);
  if (flags & LOG_HAS_ERROR) {
    at = writeInlineString(w, at, errorType ?? '', MAX_ERROR_TYPE_CHARS);
    at = writeInlineString(w, at, errorMessage ?? '', MAX_LOG_MESSAGE_CHARS);
  }
  if (log.stack !== null) at = writeInlineString(w, at, log.stack, MAX_LOG_STACK_CHARS);
  if (flags & LOG_HAS_EXTRA) writeAttributes(w, at, extraScratch);
  seal(w, pos, bytes, KIND_LOG | flags);
  publish(w);
  return true;
}

function abandon(w: RingWriter): false {
  releaseAttributes(extraScratch);
  publish(w);
  return false;
}
