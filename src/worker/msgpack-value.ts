/**
 * Any wire value as msgpack, for the few items the worker makes as objects (the opt-in
 * lifecycle events, batcher.ts). They share a batch with events written from their records,
 * so they are written in the same forms (msgpack-forms.ts): through msgpackr their timestamps
 * would be float64 next to the records' integers. Strings are UTF-8 with a lone surrogate as
 * U+FFFD, as Buffer writes them and as the record writer does.
 */
import { reserve } from './item-writer';
import type { OutBuffer } from './item-writer';
import { strHeaderBytes, writeArrayHeader, writeMapHeader, writeNumber, writeStrHeader } from './msgpack-forms';

/** Below this many units a string is encoded here, a unit at a time; a call into Buffer's C++ costs more. */
const SHORT_STRING_UNITS = 64;

/** The header is sized for the worst case (3 bytes a unit) and the bytes moved back if it was too big. */
export function writeMsgpackString(o: OutBuffer, text: string): void {
  const units = text.length;
  const maxBytes = units * 3;
  const header = strHeaderBytes(maxBytes);
  reserve(o, header + maxBytes);
  const buf = o.buf;
  const from = o.pos + header;
  const length = units < SHORT_STRING_UNITS ? writeShortUtf8(buf, from, text) : buf.write(text, from, 'utf8');
  const needed = strHeaderBytes(length);
  if (needed !== header) buf.copyWithin(o.pos + needed, from, from + length);
  writeStrHeader(buf, o.pos, length);
  o.pos += needed + length;
}

/** UTF-8 of `text` at `at`, a lone surrogate as U+FFFD (as Buffer writes it); returns the bytes written. */
function writeShortUtf8(buf: Buffer, at: number, text: string): number {
  let p = at;
  const end = text.length;
  for (let k = 0; k < end; k++) {
    let c = text.charCodeAt(k);
    if (c < 0x80) {
      buf[p++] = c;
    } else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
    } else {
      if ((c & 0xfc00) === 0xd800 && k + 1 < end && (text.charCodeAt(k + 1) & 0xfc00) === 0xdc00) {
        const cp = 0x10000 + ((c & 0x3ff) << 10) + (text.charCodeAt(++k) & 0x3ff);
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
  return p - at;
}

function writeByte(o: OutBuffer, byte: number): void {
  reserve(o, 1);
  o.buf[o.pos++] = byte;
}

/** undefined is written as nil, as batch-codec.ts has msgpackr do (encodeUndefinedAsNil). */
export function writeMsgpackValue(o: OutBuffer, value: unknown): void {
  switch (typeof value) {
    case 'string':
      writeMsgpackString(o, value);
      return;
    case 'number':
      writeNumber(o, value);
      return;
    case 'boolean':
      writeByte(o, value ? 0xc3 : 0xc2);
      return;
    case 'undefined':
      writeByte(o, 0xc0);
      return;
    case 'object':
      if (value === null) {
        writeByte(o, 0xc0);
      } else if (Array.isArray(value)) {
        writeArrayHeader(o, value.length);
        for (const item of value) writeMsgpackValue(o, item);
      } else {
        const record = value as Record<string, unknown>;
        const keys = Object.keys(record);
        writeMapHeader(o, keys.length);
        for (const key of keys) {
          writeMsgpackString(o, key);
          writeMsgpackValue(o, record[key]);
        }
      }
      return;
    default:
      throw new TypeError(`a wire value is a string, number, boolean, null, array or plain object, not a ${typeof value}`);
  }
}
