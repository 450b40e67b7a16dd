/**
 * The consumer side of the ring, on the worker. It walks published records, keeps the interned
 * string table in step with the producer, and gives each SPAN/EVENT record to a visitor that
 * copies what it needs; TAIL is released once the visitor has returned, so the producer may
 * overwrite the bytes right after.
 */
import {
  HEAD,
  KIND_PAD,
  KIND_STRING,
  KIND_STRINGS_RESET,
  TAG_NUMBER,
  TAG_STRING,
  TAG_TRUE,
  STAT_TAKEN,
  TAIL,
  ringViews,
} from './layout';
import type { RingViews } from './layout';
import { addStat } from './shared-stats';

export interface RingReader {
  readonly views: RingViews;
  readonly u8: Uint8Array;
  tail: number;
  strings: string[];
  /** Byte position after the last value read by readInlineString/readAttributes. */
  cursor: number;
}

/**
 * A reader starting at the current TAIL. `strings` is the table in force there: empty for the
 * first worker, the producer's copy (writer.ts stringsAt) for one that replaces a dead worker.
 */
export function createRingReader(sab: SharedArrayBuffer, strings: readonly string[] = []): RingReader {
  const views = ringViews(sab);
  return {
    views,
    u8: new Uint8Array(sab, views.i32.byteOffset, views.capacity),
    tail: Atomics.load(views.ctrl, TAIL),
    strings: strings.slice(),
    cursor: 0,
  };
}

/** Bytes published by the producer and not consumed yet. */
export function pendingBytes(r: RingReader): number {
  return (Atomics.load(r.views.ctrl, HEAD) - r.tail) | 0;
}

/**
 * Calls `visit(kindAndFlags, pos)` for each data record (string bookkeeping is handled here)
 * until the ring is empty or `visit` returns true, then releases the space read. `stopAt`, when
 * given, is a HEAD value not to read past (a flush covers what was written before it was asked
 * for). Returns the records visited.
 */
export function drainRecords(
  r: RingReader,
  visit: (kindAndFlags: number, pos: number) => boolean,
  stopAt?: number,
): number {
  const { i32, ctrl, mask } = r.views;
  const head = stopAt ?? Atomics.load(ctrl, HEAD);
  let visited = 0;
  let full = false;
  while (!full && ((head - r.tail) | 0) > 0) {
    const pos = r.tail & mask;
    const bytes = i32[pos >> 2]!;
    const kindAndFlags = i32[(pos >> 2) + 1]!;
    const kind = kindAndFlags & 0xff;
    if (bytes <= 0 || (bytes & 7) !== 0) {
      throw new Error(`teracron ring corrupted: record of ${bytes} bytes at ${pos}`);
    }
    if (kind === KIND_STRING) {
      const id = i32[(pos >> 2) + 2]!;
      r.strings[id] = readInlineString(r, pos + 12);
    } else if (kind === KIND_STRINGS_RESET) {
      r.strings = [];
    } else if (kind !== KIND_PAD) {
      full = visit(kindAndFlags, pos);
      visited++;
    }
    r.tail = (r.tail + bytes) | 0;
  }
  Atomics.store(ctrl, TAIL, r.tail);
  // Counted with TAIL, so a worker that dies between two drains holds exactly taken - accounted.
  if (visited > 0) addStat(r.views, STAT_TAKEN, visited);
  return visited;
}

/** Reads `[length][UTF-16 units]` at `pos`; leaves `r.cursor` after it. */
export function readInlineString(r: RingReader, pos: number): string {
  const { i32, u16 } = r.views;
  const n = i32[pos >> 2]!;
  const start = (pos + 4) >> 1;
  r.cursor = pos + 4 + ((n * 2 + 3) & ~3);
  if (n === 0) return '';
  if (n <= 64) {
    let text = '';
    for (let k = 0; k < n; k++) text += String.fromCharCode(u16[start + k]!);
    return text;
  }
  return longString(u16, start, n);
}

/** Units per String.fromCharCode call: apply() takes a bounded number of arguments. */
const UNITS_PER_CALL = 8192;

/**
 * The units as they are, a lone surrogate included, as the loop above keeps them for a short
 * string: a TextDecoder would make it U+FFFD, so a value would depend on its length (and the
 * JSON written straight from the record, worker/json-writer.ts, keeps it as \udxxx).
 */
function longString(u16: Uint16Array, start: number, n: number): string {
  let text = '';
  for (let at = start, end = start + n; at < end; at += UNITS_PER_CALL) {
    text += String.fromCharCode.apply(null, u16.subarray(at, Math.min(end, at + UNITS_PER_CALL)) as unknown as number[]);
  }
  return text;
}

export function readString(r: RingReader, id: number): string {
  const text = r.strings[id];
  if (text === undefined) throw new Error(`teracron ring corrupted: unknown string id ${id}`);
  return text;
}

/** Reads a metadata map at `pos` into a fresh object; leaves `r.cursor` after it. */
export function readAttributes(r: RingReader, pos: number): Record<string, string | number | boolean> {
  const { i32, f64 } = r.views;
  const count = i32[pos >> 2]!;
  pos += 4;
  const out: Record<string, string | number | boolean> = {};
  for (let k = 0; k < count; k++) {
    const key = readString(r, i32[pos >> 2]!);
    const tag = i32[(pos >> 2) + 1]!;
    let value: string | number | boolean;
    if (tag === TAG_STRING) {
      value = readInlineString(r, pos + 8);
      pos = r.cursor;
    } else if (tag === TAG_NUMBER) {
      pos = (pos + 8 + 7) & ~7;
      value = f64[pos >> 3]!;
      pos += 8;
    } else {
      value = tag === TAG_TRUE;
      pos += 8;
    }
    // A "__proto__" key must stay a key, not replace the object's prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else out[key] = value;
  }
  r.cursor = pos;
  return out;
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** 32 lowercase hex characters of the 16 bytes at `pos`. */
export function readIdHex(r: RingReader, pos: number): string {
  const u8 = r.u8;
  let hex = '';
  for (let k = 0; k < 16; k++) hex += HEX[u8[pos + k]!]!;
  return hex;
}
