/**
 * SPAN and EVENT records straight to wire bytes: the same values, in the same order, as
 * records.ts decodes them to and the batch codec encodes them from, without the objects.
 * records.ts stays the reference (test/worker/record-encoder.test.ts holds the two together)
 * and makes the objects that the opt-in lifecycle events are derived from.
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
  TAG_NUMBER,
  TAG_STRING,
  TAG_TRUE,
} from '../ring/layout';
import { readString } from '../ring/reader';
import type { RingReader } from '../ring/reader';
import { EVENT_KEYS, SPAN_KEYS, reserve } from './item-writer';
import type { ItemWriter, OutBuffer } from './item-writer';
import { toUnixMs } from './wall-clock';
import type { WallClock } from './wall-clock';

const STATUS_NAMES = ['succeeded', 'failed', 'started', 'succeeded'] as const;

/** Where an inline string `[length int32][UTF-16 units]` at `pos` ends (padded to 4 bytes). */
function inlineEnd(r: RingReader, pos: number): number {
  return pos + 4 + ((r.views.i32[pos >> 2]! * 2 + 3) & ~3);
}

function writeInline(w: ItemWriter, o: OutBuffer, r: RingReader, pos: number): void {
  w.utf16String(o, r.views.u16, (pos + 4) >> 1, r.views.i32[pos >> 2]!);
}

/** An inline string, or null when it is empty (as records.ts reads error fields). */
function writeInlineOrNull(w: ItemWriter, o: OutBuffer, r: RingReader, pos: number): void {
  if (r.views.i32[pos >> 2] === 0) w.nil(o);
  else writeInline(w, o, r, pos);
}

/** A metadata map at `pos`; returns the position after it. */
function writeAttributes(w: ItemWriter, o: OutBuffer, r: RingReader, pos: number): number {
  const { i32, f64 } = r.views;
  const count = i32[pos >> 2]!;
  pos += 4;
  w.objectStart(o, count);
  for (let k = 0; k < count; k++) {
    w.attributeKey(o, readString(r, i32[pos >> 2]!), k);
    const tag = i32[(pos >> 2) + 1]!;
    if (tag === TAG_STRING) {
      writeInline(w, o, r, pos + 8);
      pos = inlineEnd(r, pos + 8);
    } else if (tag === TAG_NUMBER) {
      pos = (pos + 8 + 7) & ~7;
      w.number(o, f64[pos >> 3]!);
      pos += 8;
    } else {
      w.boolean(o, tag === TAG_TRUE);
      pos += 8;
    }
  }
  w.objectEnd(o);
  return pos;
}

function writeEmptyObject(w: ItemWriter, o: OutBuffer): void {
  w.objectStart(o, 0);
  w.objectEnd(o);
}

export function encodeSpan(w: ItemWriter, o: OutBuffer, index: number, r: RingReader, pos: number, kindAndFlags: number, clock: WallClock): void {
  const { i32, f64 } = r.views;
  const keys = w.spanKeys;
  const start = f64[(pos + SPAN_START) >> 3]!;
  const end = f64[(pos + SPAN_END) >> 3]!;
  const status = (kindAndFlags & STATUS_MASK) >> STATUS_SHIFT;
  w.itemStart(o, index);
  w.objectStart(o, SPAN_KEYS.length);
  writeKey(o, keys[0]!);
  w.hexId(o, r.u8, pos + SPAN_TRACE_ID);
  writeKey(o, keys[1]!);
  w.hexId(o, r.u8, pos + SPAN_SPAN_ID);
  writeKey(o, keys[2]!);
  if (kindAndFlags & SPAN_HAS_PARENT) w.hexId(o, r.u8, pos + SPAN_PARENT_ID);
  else w.nil(o);
  writeKey(o, keys[3]!);
  w.knownString(o, readString(r, i32[(pos + SPAN_WORKFLOW) >> 2]!));
  writeKey(o, keys[4]!);
  w.knownString(o, readString(r, i32[(pos + SPAN_OPERATION) >> 2]!));
  writeKey(o, keys[5]!);
  w.knownString(o, STATUS_NAMES[status]!);
  writeKey(o, keys[6]!);
  w.number(o, Math.round(kindAndFlags & SPAN_WALL_CLOCK ? start : toUnixMs(clock, start)));
  writeKey(o, keys[7]!);
  w.number(o, status === STATUS_STARTED ? 0 : roundMicros(end - start));
  // The rest is a constant for most spans; the others take a function of their own, which keeps
  // this one small enough to optimize in a few ms (each process pays that compile once).
  if (kindAndFlags & (SPAN_HAS_ERROR | SPAN_HAS_METADATA | SPAN_HAS_CAPTURED)) encodeSpanParts(w, o, r, pos, kindAndFlags, status);
  else writeKey(o, w.emptySpanTail);
}

/** A span's error, metadata and captured parameters, and the end of its object. */
function encodeSpanParts(w: ItemWriter, o: OutBuffer, r: RingReader, pos: number, kindAndFlags: number, status: number): void {
  const i32 = r.views.i32;
  const keys = w.spanKeys;
  let at = pos + SPAN_FIXED_BYTES;
  if (kindAndFlags & SPAN_HAS_ERROR) {
    const messageAt = inlineEnd(r, at);
    const hasType = i32[at >> 2] !== 0;
    const hasMessage = i32[messageAt >> 2] !== 0;
    writeKey(o, keys[8]!);
    if (hasType) writeInline(w, o, r, at);
    // A failed span with a message but no type is reported as a plain Error (records.ts does the same).
    else if (status === STATUS_FAILED && hasMessage) w.knownString(o, 'Error');
    else w.nil(o);
    writeKey(o, keys[9]!);
    writeInlineOrNull(w, o, r, messageAt);
    at = inlineEnd(r, messageAt);
  } else {
    writeKey(o, keys[8]!);
    w.nil(o);
    writeKey(o, keys[9]!);
    w.nil(o);
  }
  writeKey(o, keys[10]!);
  if (kindAndFlags & SPAN_HAS_METADATA) at = writeAttributes(w, o, r, at);
  else writeEmptyObject(w, o);
  writeKey(o, keys[11]!);
  if (kindAndFlags & SPAN_HAS_CAPTURED) writeAttributes(w, o, r, at);
  else writeEmptyObject(w, o);
  w.objectEnd(o);
}

export function encodeEvent(w: ItemWriter, o: OutBuffer, index: number, r: RingReader, pos: number, kindAndFlags: number, clock: WallClock): void {
  const { i32, f64 } = r.views;
  const keys = w.eventKeys;
  w.itemStart(o, index);
  w.objectStart(o, EVENT_KEYS.length);
  writeKey(o, keys[0]!);
  if (kindAndFlags & EVENT_HAS_TRACE) w.hexId(o, r.u8, pos + EVENT_TRACE_ID);
  else w.nil(o);
  writeKey(o, keys[1]!);
  if (kindAndFlags & EVENT_HAS_SPAN) w.hexId(o, r.u8, pos + EVENT_SPAN_ID);
  else w.nil(o);
  writeKey(o, keys[2]!);
  if (kindAndFlags & EVENT_HAS_WORKFLOW) w.knownString(o, readString(r, i32[(pos + EVENT_WORKFLOW) >> 2]!));
  else w.nil(o);
  writeKey(o, keys[3]!);
  w.knownString(o, readString(r, i32[(pos + EVENT_TYPE) >> 2]!));
  writeKey(o, keys[4]!);
  w.knownString(o, readString(r, i32[(pos + EVENT_NAME) >> 2]!));
  writeKey(o, keys[5]!);
  let at = pos + EVENT_FIXED_BYTES;
  if (kindAndFlags & EVENT_HAS_MESSAGE) {
    writeInline(w, o, r, at);
    at = inlineEnd(r, at);
  } else {
    w.nil(o);
  }
  writeKey(o, keys[6]!);
  w.knownString(o, readString(r, i32[(pos + EVENT_SEVERITY) >> 2]!));
  writeKey(o, keys[7]!);
  const time = f64[(pos + EVENT_TIME) >> 3]!;
  w.number(o, Math.round(kindAndFlags & EVENT_WALL_CLOCK ? time : toUnixMs(clock, time)));
  writeKey(o, keys[8]!);
  if (kindAndFlags & EVENT_HAS_METADATA) writeAttributes(w, o, r, at);
  else writeEmptyObject(w, o);
  w.objectEnd(o);
}

/** Keys (and the empty tail) are a few bytes long: a loop beats a native copy for them. */
function writeKey(o: OutBuffer, key: Uint8Array): void {
  const n = key.length;
  reserve(o, n);
  const buf = o.buf;
  for (let k = 0; k < n; k++) buf[o.pos + k] = key[k]!;
  o.pos += n;
}

function roundMicros(ms: number): number {
  return ms > 0 ? Math.round(ms * 1000) / 1000 : 0;
}
