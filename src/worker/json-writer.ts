/**
 * ItemWriter for JSON, writing exactly what JSON.stringify writes for the same value: the same
 * escapes (`\"`, `\\`, `\b\f\n\r\t`, `\u00xx` for other control characters, `\udxxx` for a lone
 * surrogate), numbers as String(n) and non-finite numbers as null.
 */
import { encodeWireValue } from '../wire/batch-codec';
import { EVENT_KEYS, EncodedStrings, SPAN_KEYS, reserve, withConstants, writeBytes, writeHexDigits } from './item-writer';
import type { ItemWriter, OutBuffer } from './item-writer';

const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** The one-letter escapes JSON.stringify uses, by code unit (0: none). */
const SHORT_ESCAPES = new Uint8Array(0x60);
SHORT_ESCAPES[0x08] = 0x62; // \b
SHORT_ESCAPES[0x09] = 0x74; // \t
SHORT_ESCAPES[0x0a] = 0x6e; // \n
SHORT_ESCAPES[0x0c] = 0x66; // \f
SHORT_ESCAPES[0x0d] = 0x72; // \r
SHORT_ESCAPES[QUOTE] = QUOTE;
SHORT_ESCAPES[BACKSLASH] = BACKSLASH;

function keyTokens(keys: readonly string[]): Uint8Array[] {
  return keys.map((key, index) => Buffer.from(`${index === 0 ? '' : ','}${JSON.stringify(key)}:`, 'utf8'));
}

const strings = new EncodedStrings((text) => Buffer.from(JSON.stringify(text), 'utf8'));
const attributeKeys = new EncodedStrings((key) => Buffer.from(`${JSON.stringify(key)}:`, 'utf8'));

function writeByte(o: OutBuffer, byte: number): void {
  reserve(o, 1);
  o.buf[o.pos++] = byte;
}

const NULL = Buffer.from('null');
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');

/**
 * A safe integer's decimal digits, as String() writes them (-0 as 0). Timestamps, counts and
 * ids are most of a span's numbers; written digit by digit they need no string and no call
 * into C++, which counted for a tenth of the worker's time encoding a cold exit batch.
 */
function writeInteger(o: OutBuffer, value: number): void {
  let rest = Math.abs(value);
  let digits = 1;
  for (let t = rest; t >= 10; t = Math.floor(t / 10)) digits++;
  const negative = value < 0;
  reserve(o, digits + 1);
  const buf = o.buf;
  if (negative) buf[o.pos++] = 0x2d;
  let p = o.pos + digits;
  o.pos = p;
  do {
    const next = Math.floor(rest / 10);
    buf[--p] = 0x30 + (rest - next * 10);
    rest = next;
  } while (rest > 0);
}

function writeAscii(o: OutBuffer, text: string): void {
  reserve(o, text.length);
  o.pos += o.buf.write(text, o.pos, 'latin1');
}

/** `\u` and four hex digits of `unit`, at `p`; returns the position after them. */
function writeUnicodeEscape(buf: Buffer, p: number, unit: number): number {
  buf[p++] = BACKSLASH;
  buf[p++] = 0x75;
  buf[p++] = HEX_DIGITS[unit >> 12]!;
  buf[p++] = HEX_DIGITS[(unit >> 8) & 0xf]!;
  buf[p++] = HEX_DIGITS[(unit >> 4) & 0xf]!;
  buf[p++] = HEX_DIGITS[unit & 0xf]!;
  return p;
}

function writeUtf16(o: OutBuffer, u16: Uint16Array, start: number, units: number): void {
  // Six bytes is the longest a unit becomes (\u001f, or \ud800 for a lone surrogate).
  reserve(o, 2 + units * 6);
  const buf = o.buf;
  let p = o.pos;
  buf[p++] = QUOTE;
  const end = start + units;
  for (let k = start; k < end; k++) {
    const c = u16[k]!;
    if (c < 0x80) {
      if (c >= 0x20 && c !== QUOTE && c !== BACKSLASH) {
        buf[p++] = c;
      } else if (SHORT_ESCAPES[c] !== 0) {
        buf[p++] = BACKSLASH;
        buf[p++] = SHORT_ESCAPES[c]!;
      } else {
        p = writeUnicodeEscape(buf, p, c);
      }
    } else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
    } else if ((c & 0xf800) !== 0xd800) {
      buf[p++] = 0xe0 | (c >> 12);
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    } else if ((c & 0xfc00) === 0xd800 && k + 1 < end && (u16[k + 1]! & 0xfc00) === 0xdc00) {
      const cp = 0x10000 + ((c & 0x3ff) << 10) + (u16[++k]! & 0x3ff);
      buf[p++] = 0xf0 | (cp >> 18);
      buf[p++] = 0x80 | ((cp >> 12) & 0x3f);
      buf[p++] = 0x80 | ((cp >> 6) & 0x3f);
      buf[p++] = 0x80 | (cp & 0x3f);
    } else {
      p = writeUnicodeEscape(buf, p, c);
    }
  }
  buf[p++] = QUOTE;
  o.pos = p;
}

export const jsonWriter: ItemWriter = withConstants({
  spanKeys: keyTokens(SPAN_KEYS),
  eventKeys: keyTokens(EVENT_KEYS),
  itemStart(o, index) {
    if (index > 0) writeByte(o, COMMA);
  },
  objectStart(o) {
    writeByte(o, 0x7b);
  },
  objectEnd(o) {
    writeByte(o, 0x7d);
  },
  attributeKey(o, key, index) {
    if (index > 0) writeByte(o, COMMA);
    writeBytes(o, attributeKeys.get(key));
  },
  knownString(o, text) {
    writeBytes(o, strings.get(text));
  },
  utf16String: writeUtf16,
  hexId(o, u8, at) {
    reserve(o, 34);
    const buf = o.buf;
    let p = o.pos;
    buf[p++] = QUOTE;
    p = writeHexDigits(buf, p, u8, at);
    buf[p++] = QUOTE;
    o.pos = p;
  },
  number(o, value) {
    if (Number.isSafeInteger(value)) writeInteger(o, value);
    else writeAscii(o, Number.isFinite(value) ? String(value) : 'null');
  },
  boolean(o, value) {
    writeBytes(o, value ? TRUE : FALSE);
  },
  nil(o) {
    writeBytes(o, NULL);
  },
  value(o, value) {
    writeBytes(o, encodeWireValue(value, 'json'));
  },
});
