/**
 * The msgpack forms the worker's writers choose from: the smallest header for a string or a map,
 * and the smallest exact form for a number. Shared by the record writer (msgpack-writer.ts) and
 * the writer of the few items made as objects (msgpack-value.ts), so that one batch never
 * carries the same field in two forms.
 */
import { reserve } from './item-writer';
import type { OutBuffer } from './item-writer';

const TWO_TO_32 = 0x1_0000_0000;

export function strHeaderBytes(length: number): number {
  return length < 0x20 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
}

export function writeStrHeader(buf: Buffer, at: number, length: number): void {
  if (length < 0x20) {
    buf[at] = 0xa0 | length;
  } else if (length < 0x100) {
    buf[at] = 0xd9;
    buf[at + 1] = length;
  } else if (length < 0x10000) {
    buf[at] = 0xda;
    buf.writeUInt16BE(length, at + 1);
  } else {
    buf[at] = 0xdb;
    buf.writeUInt32BE(length, at + 1);
  }
}

/**
 * A string's header is sized for the worst case (3 bytes a UTF-16 unit) before its bytes are
 * written after it, as msgpackr does; `finishStr` then moves the bytes back if the header came
 * out too big, and writes it. Returns where the bytes go.
 */
export function reserveStr(o: OutBuffer, units: number): number {
  const maxBytes = units * 3;
  reserve(o, strHeaderBytes(maxBytes) + maxBytes);
  return o.pos + strHeaderBytes(maxBytes);
}

export function finishStr(o: OutBuffer, units: number, length: number): void {
  const header = strHeaderBytes(units * 3);
  const needed = strHeaderBytes(length);
  const from = o.pos + header;
  if (needed !== header) o.buf.copyWithin(o.pos + needed, from, from + length);
  writeStrHeader(o.buf, o.pos, length);
  o.pos += needed + length;
}

/** `units` UTF-16 code units of `u16` from `start` as a msgpack str: UTF-8, a lone surrogate as U+FFFD. */
export function writeStrFromUtf16(o: OutBuffer, u16: Uint16Array, start: number, units: number): void {
  const from = reserveStr(o, units);
  const buf = o.buf;
  let p = from;
  const end = start + units;
  for (let k = start; k < end; k++) {
    let c = u16[k]!;
    if (c < 0x80) {
      buf[p++] = c;
    } else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
    } else {
      if ((c & 0xfc00) === 0xd800 && k + 1 < end && (u16[k + 1]! & 0xfc00) === 0xdc00) {
        const cp = 0x10000 + ((c & 0x3ff) << 10) + (u16[++k]! & 0x3ff);
        buf[p++] = 0xf0 | (cp >> 18);
        buf[p++] = 0x80 | ((cp >> 12) & 0x3f);
        buf[p++] = 0x80 | ((cp >> 6) & 0x3f);
        buf[p++] = 0x80 | (cp & 0x3f);
        continue;
      }
      if ((c & 0xf800) === 0xd800) c = 0xfffd;
      buf[p++] = 0xe0 | (c >> 12);
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    }
  }
  finishStr(o, units, p - from);
}

export function writeMapHeader(o: OutBuffer, fields: number): void {
  reserve(o, 5);
  if (fields < 0x10) {
    o.buf[o.pos++] = 0x80 | fields;
  } else if (fields < 0x10000) {
    o.buf[o.pos++] = 0xde;
    o.buf.writeUInt16BE(fields, o.pos);
    o.pos += 2;
  } else {
    o.buf[o.pos++] = 0xdf;
    o.buf.writeUInt32BE(fields, o.pos);
    o.pos += 4;
  }
}

export function writeArrayHeader(o: OutBuffer, items: number): void {
  reserve(o, 5);
  if (items < 0x10) {
    o.buf[o.pos++] = 0x90 | items;
  } else if (items < 0x10000) {
    o.buf[o.pos++] = 0xdc;
    o.buf.writeUInt16BE(items, o.pos);
    o.pos += 2;
  } else {
    o.buf[o.pos++] = 0xdd;
    o.buf.writeUInt32BE(items, o.pos);
    o.pos += 4;
  }
}

/**
 * An integer in the smallest of fixint, uint8..uint64 and int8..int64 that holds it; any other
 * number as float64. Integers beyond 32 bits (unix-ms timestamps above all) are integers on the
 * wire, as SPEC §3 says ("unix ms, integer"): a typed reader in another language then gets an
 * integer, not a float with an integral value. msgpackr writes them as float64; its readers
 * configured with int64AsType 'number' (batch-codec.ts) read both forms as the same number.
 */
export function writeNumber(o: OutBuffer, value: number): void {
  reserve(o, 9);
  const buf = o.buf;
  if (value >>> 0 === value) {
    if (value < 0x80) {
      buf[o.pos++] = value;
    } else if (value < 0x100) {
      buf[o.pos++] = 0xcc;
      buf[o.pos++] = value;
    } else if (value < 0x10000) {
      buf[o.pos++] = 0xcd;
      buf.writeUInt16BE(value, o.pos);
      o.pos += 2;
    } else {
      buf[o.pos++] = 0xce;
      buf.writeUInt32BE(value, o.pos);
      o.pos += 4;
    }
  } else if (value >> 0 === value) {
    if (value >= -0x20) {
      buf[o.pos++] = 0x100 + value;
    } else if (value >= -0x80) {
      buf[o.pos++] = 0xd0;
      buf[o.pos++] = 0x100 + value;
    } else if (value >= -0x8000) {
      buf[o.pos++] = 0xd1;
      buf.writeInt16BE(value, o.pos);
      o.pos += 2;
    } else {
      buf[o.pos++] = 0xd2;
      buf.writeInt32BE(value, o.pos);
      o.pos += 4;
    }
  } else if (Number.isSafeInteger(value)) {
    // |value| < 2^53: the high word's two's complement is in its low 32 bits (`>>>` takes them),
    // and `>>> 0` is the low word for a negative value too. Byte stores rather than Buffer's
    // writeInt32BE: no range checks, as fast as the float64 they replace (a timestamp a span).
    const high = Math.floor(value / TWO_TO_32);
    const low = value >>> 0;
    let p = o.pos;
    buf[p++] = value > 0 ? 0xcf : 0xd3;
    buf[p++] = high >>> 24;
    buf[p++] = high >>> 16;
    buf[p++] = high >>> 8;
    buf[p++] = high;
    buf[p++] = low >>> 24;
    buf[p++] = low >>> 16;
    buf[p++] = low >>> 8;
    buf[p++] = low;
    o.pos = p;
  } else {
    writeFloat64(o, value);
  }
}

const float = new Float64Array(1);
const floatBytes = new Uint8Array(float.buffer);
/** Where the most significant byte of `float` is: 7 on little-endian hosts. */
const FLOAT_MSB = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 7 : 0;

/**
 * A float64, big-endian, through a scratch array: Buffer's writeDoubleBE is a large function with
 * range checks that, inlined into writeNumber and the span encoder, made their optimizing
 * compiles (tens of ms each, paid again by every process) several times bigger.
 */
function writeFloat64(o: OutBuffer, value: number): void {
  float[0] = value;
  const buf = o.buf;
  let p = o.pos;
  buf[p++] = 0xcb;
  if (FLOAT_MSB === 7) for (let k = 7; k >= 0; k--) buf[p++] = floatBytes[k]!;
  else for (let k = 0; k < 8; k++) buf[p++] = floatBytes[k]!;
  o.pos = p;
}
