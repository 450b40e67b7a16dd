/**
 * ItemWriter for msgpack, writing the values msgpackr (as src/wire/batch-codec.ts configures it)
 * writes, read back as the same values by any msgpack reader. Three differences, each smaller or
 * stricter: an integer beyond 32 bits is a uint64/int64 rather than a float64 (SPEC §3 has
 * timestamps as integers; see msgpack-forms.ts), maps get the smallest header (msgpackr gives
 * every object a 3-byte map16), and a lone UTF-16 surrogate becomes U+FFFD, so every string is
 * valid UTF-8 (msgpackr writes a short one as an invalid 3-byte sequence).
 */
import { EVENT_KEYS, EncodedStrings, HEX_PAIRS, SPAN_KEYS, reserve, writeBytes } from './item-writer';
import type { ItemWriter, OutBuffer } from './item-writer';
import { strHeaderBytes, writeMapHeader, writeNumber, writeStrHeader } from './msgpack-forms';
import { writeMsgpackValue } from './msgpack-value';

function encodeStr(text: string): Uint8Array {
  const utf8 = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(strHeaderBytes(utf8.length) + utf8.length);
  writeStrHeader(out, 0, utf8.length);
  utf8.copy(out, out.length - utf8.length);
  return out;
}

const strings = new EncodedStrings(encodeStr);

/**
 * UTF-16 → UTF-8, straight into the output. The header is sized for the worst case (3 bytes a
 * unit) and the bytes moved back when the string came out shorter, as msgpackr does.
 */
function writeUtf16(o: OutBuffer, u16: Uint16Array, start: number, units: number): void {
  const maxBytes = units * 3;
  const header = strHeaderBytes(maxBytes);
  reserve(o, header + maxBytes);
  const buf = o.buf;
  const from = o.pos + header;
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
  const length = p - from;
  const needed = strHeaderBytes(length);
  if (needed !== header) buf.copyWithin(o.pos + needed, from, p);
  writeStrHeader(buf, o.pos, length);
  o.pos += needed + length;
}

export const msgpackWriter: ItemWriter = {
  spanKeys: SPAN_KEYS.map(encodeStr),
  eventKeys: EVENT_KEYS.map(encodeStr),
  itemStart() {},
  objectStart: writeMapHeader,
  objectEnd() {},
  attributeKey(o, key) {
    writeBytes(o, strings.get(key));
  },
  knownString(o, text) {
    writeBytes(o, strings.get(text));
  },
  utf16String: writeUtf16,
  hexId(o, u8, at) {
    reserve(o, 34);
    const buf = o.buf;
    let p = o.pos;
    buf[p++] = 0xd9;
    buf[p++] = 32;
    for (let k = 0; k < 16; k++) {
      const pair = u8[at + k]! << 1;
      buf[p++] = HEX_PAIRS[pair]!;
      buf[p++] = HEX_PAIRS[pair + 1]!;
    }
    o.pos = p;
  },
  number: writeNumber,
  boolean(o, value) {
    reserve(o, 1);
    o.buf[o.pos++] = value ? 0xc3 : 0xc2;
  },
  nil(o) {
    reserve(o, 1);
    o.buf[o.pos++] = 0xc0;
  },
  value: writeMsgpackValue,
};
