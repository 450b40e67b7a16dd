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
    buf[o.pos++] = 0xcb;
    buf.writeDoubleBE(value, o.pos);
    o.pos += 8;
  }
}
