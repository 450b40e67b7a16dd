/**
 * ItemWriter for msgpack, writing the values msgpackr (as src/wire/batch-codec.ts configures it)
 * writes, read back as the same values by any msgpack reader. Three differences, each smaller or
 * stricter: an integer beyond 32 bits is a uint64/int64 rather than a float64 (SPEC §3 has
 * timestamps as integers; see msgpack-forms.ts), maps get the smallest header (msgpackr gives
 * every object a 3-byte map16), and a lone UTF-16 surrogate becomes U+FFFD, so every string is
 * valid UTF-8 (msgpackr writes a short one as an invalid 3-byte sequence).
 */
import { EVENT_KEYS, EncodedStrings, SPAN_KEYS, reserve, withConstants, writeBytes, writeHexDigits } from './item-writer';
import type { ItemWriter, OutBuffer } from './item-writer';
import { strHeaderBytes, writeMapHeader, writeNumber, writeStrFromUtf16, writeStrHeader } from './msgpack-forms';
import { writeMsgpackValue } from './msgpack-value';

function encodeStr(text: string): Uint8Array {
  const utf8 = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(strHeaderBytes(utf8.length) + utf8.length);
  writeStrHeader(out, 0, utf8.length);
  utf8.copy(out, out.length - utf8.length);
  return out;
}

const strings = new EncodedStrings(encodeStr);

export const msgpackWriter: ItemWriter = withConstants({
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
  utf16String: writeStrFromUtf16,
  hexId(o, u8, at) {
    reserve(o, 34);
    const buf = o.buf;
    let p = o.pos;
    buf[p++] = 0xd9;
    buf[p++] = 32;
    o.pos = writeHexDigits(buf, p, u8, at);
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
});
