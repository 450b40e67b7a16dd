/**
 * Metadata and captured parameters in the ring: `[count][key id][tag][value]…` (see layout.ts).
 *
 * Writing takes two passes so the record can be reserved at its final size: `prepareAttributes`
 * interns the keys, turns values the wire cannot carry into short strings and returns the bytes
 * needed; `writeAttributes` then copies them. The scratch arrays are reused, so nothing is
 * allocated for primitive values. Limits of SPEC §3 (32 keys, 128-char keys, string lengths)
 * are applied here, before anything crosses.
 */
import {
  MAX_KEY_CHARS,
  MAX_METADATA_KEYS,
  TAG_FALSE,
  TAG_NUMBER,
  TAG_STRING,
  TAG_TRUE,
} from '../ring/layout';
import { inlineStringBytes, intern, writeInlineString } from '../ring/writer';
import type { RingWriter } from '../ring/writer';

export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, unknown>;

/** One prepared map; two exist because a span may carry metadata and captured params. */
export interface PreparedAttributes {
  count: number;
  keys: number[];
  values: AttributeValue[];
  maxChars: number;
}

export function createPreparedAttributes(): PreparedAttributes {
  return { count: 0, keys: [], values: [], maxChars: 0 };
}

/**
 * Interns keys and normalises values into `out`. Returns the bytes the map needs in the record,
 * or -1 when a key could not be interned (ring full).
 */
export function prepareAttributes(w: RingWriter, attrs: Attributes, maxChars: number, out: PreparedAttributes): number {
  let count = 0;
  let bytes = 4;
  out.maxChars = maxChars;
  out.count = 0;
  for (const key in attrs) {
    if (count === MAX_METADATA_KEYS) break;
    const raw = attrs[key];
    if (raw === undefined) continue;
    const value = toAttributeValue(raw, maxChars);
    const keyId = intern(w, key, MAX_KEY_CHARS);
    if (keyId < 0) return -1;
    out.keys[count] = keyId;
    out.values[count] = value;
    out.count = ++count;
    bytes += 8;
    if (typeof value === 'string') bytes += inlineStringBytes(value.length < maxChars ? value.length : maxChars);
    else if (typeof value === 'number') bytes += 12;
  }
  out.count = count;
  return bytes;
}

/** Writes a prepared map at byte position `pos`; returns the position after it. */
export function writeAttributes(w: RingWriter, pos: number, prepared: PreparedAttributes): number {
  const { i32, f64 } = w.views;
  const count = prepared.count;
  i32[pos >> 2] = count;
  pos += 4;
  for (let k = 0; k < count; k++) {
    const value = prepared.values[k]!;
    i32[pos >> 2] = prepared.keys[k]!;
    if (typeof value === 'string') {
      i32[(pos >> 2) + 1] = TAG_STRING;
      pos = writeInlineString(w, pos + 8, value, prepared.maxChars);
    } else if (typeof value === 'number') {
      i32[(pos >> 2) + 1] = TAG_NUMBER;
      pos = (pos + 8 + 7) & ~7;
      f64[pos >> 3] = value;
      pos += 8;
    } else {
      i32[(pos >> 2) + 1] = value ? TAG_TRUE : TAG_FALSE;
      pos += 8;
    }
  }
  releaseAttributes(prepared);
  return pos;
}

/**
 * Lets go of the values so a captured argument is not kept alive by the scratch array. The
 * slots are cleared rather than the array truncated: truncating frees its backing store, and
 * the next span would allocate it again.
 */
export function releaseAttributes(prepared: PreparedAttributes): void {
  const values = prepared.values;
  for (let k = 0; k < prepared.count; k++) values[k] = '';
  prepared.count = 0;
}

/**
 * Strings, finite numbers and booleans pass; everything else becomes a short string, because
 * the wire carries only those three types and JSON cannot carry NaN or Infinity.
 */
export function toAttributeValue(value: unknown, maxChars: number): AttributeValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
    case 'symbol':
      return value.toString();
    case 'function':
      return `[Function ${value.name || 'anonymous'}]`;
    default:
      return shortString(value, maxChars);
  }
}

function shortString(value: unknown, maxChars: number): string {
  if (value === null) return 'null';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value instanceof Error) return `${value.name}: ${value.message}`.slice(0, maxChars);
  if (ArrayBuffer.isView(value)) return `[${value.constructor.name} ${value.byteLength} bytes]`;
  try {
    const json = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    if (typeof json === 'string') return json.length > maxChars ? `${json.slice(0, maxChars - 1)}…` : json;
  } catch {
    // Circular or throwing toJSON: fall through to the tag.
  }
  return Object.prototype.toString.call(value);
}
