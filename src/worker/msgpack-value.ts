/**
 * Any wire value as msgpack, for the few items the worker makes as objects (the opt-in
 * lifecycle events, batcher.ts). They share a batch with events written from their records,
 * so they are written in the same forms (msgpack-forms.ts): through msgpackr their timestamps
 * would be float64 next to the records' integers. Strings are UTF-8 with a lone surrogate as
 * U+FFFD, as Buffer writes them and as the record writer does.
 */
import { reserve } from './item-writer';
import type { OutBuffer } from './item-writer';
import { finishStr, reserveStr, writeArrayHeader, writeMapHeader, writeNumber, writeStrFromUtf16 } from './msgpack-forms';

/** Below this many units a string is encoded here, a unit at a time; a call into Buffer's C++ costs more. */
const SHORT_STRING_UNITS = 64;

/** A short string's units, copied here to go through the record writer's own UTF-16 → UTF-8. */
const scratch = new Uint16Array(SHORT_STRING_UNITS);

/** UTF-8 with a lone surrogate as U+FFFD, as Buffer writes it and as the record writer does. */
export function writeMsgpackString(o: OutBuffer, text: string): void {
  const units = text.length;
  if (units < SHORT_STRING_UNITS) {
    for (let k = 0; k < units; k++) scratch[k] = text.charCodeAt(k);
    writeStrFromUtf16(o, scratch, 0, units);
    return;
  }
  const from = reserveStr(o, units);
  finishStr(o, units, o.buf.write(text, from, 'utf8'));
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
