/**
 * A linear scan of a JSON or msgpack batch's structure, before it is parsed into objects:
 * container sizes, nesting depth and the count of values, checked without allocating. A body of
 * 8 MiB can hold a map of a million keys, which JSON.parse or msgpackr would turn into a million
 * properties (1.7 s of the collector's event loop, measured) before the validator could say
 * that no record has more than a few dozen. Scanning is a few milliseconds per MiB.
 *
 * The bounds are generous for every SPEC batch: records are maps of at most a few dozen keys
 * (metadata and captured parameters at most 32 each), nested a few levels; the only long array
 * is the batch's list of records.
 */
import { TeracronWireError } from '../errors';
import { jsonStringEnd } from './json-scan';

export interface StructureBounds {
  /** Elements of one array (the batch's records are one). */
  maxArray: number;
  /** Keys of one map / object. */
  maxMapKeys: number;
  /** Containers inside containers; the batch itself is depth 1. */
  maxDepth: number;
  /** Values of every kind, containers included, in the whole batch. */
  maxValues: number;
}

function tooMany(what: string, count: number, max: number): TeracronWireError {
  return new TeracronWireError(`The batch holds ${what} of ${count} entries: no SPEC batch has more than ${max}, so it was refused before being decoded.`);
}

function tooDeep(max: number): TeracronWireError {
  return new TeracronWireError(`The batch nests containers more than ${max} deep: no SPEC batch does, so it was refused before being decoded.`);
}

function tooManyValues(max: number): TeracronWireError {
  return new TeracronWireError(`The batch holds more than ${max} values: split it into smaller batches.`);
}

/**
 * Checks a msgpack value's structure. Throws TeracronWireError when a bound is passed; says
 * nothing about a truncated or malformed body (the decoder that follows reports those).
 */
export function checkMsgpackBounds(bytes: Uint8Array, bounds: StructureBounds): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  // Values still to read in each open container, innermost last.
  const remaining: number[] = [];
  let pos = 0;
  let values = 0;
  let pending = 1;
  while (pending > 0 && pos < end) {
    pending--;
    if (++values > bounds.maxValues) throw tooManyValues(bounds.maxValues);
    const b = bytes[pos++]!;
    let children = -1;
    let skip = 0;
    if (b <= 0x7f || b >= 0xe0) {
      skip = 0;
    } else if (b <= 0x8f) {
      children = (b & 0x0f) * 2;
    } else if (b <= 0x9f) {
      children = b & 0x0f;
    } else if (b <= 0xbf) {
      skip = b & 0x1f;
    } else {
      switch (b) {
        case 0xc0: case 0xc1: case 0xc2: case 0xc3: break;
        case 0xc4: case 0xd9: skip = pos < end ? bytes[pos]! + 1 : 1; break;
        case 0xc5: case 0xda: skip = pos + 2 <= end ? view.getUint16(pos) + 2 : 2; break;
        case 0xc6: case 0xdb: skip = pos + 4 <= end ? view.getUint32(pos) + 4 : 4; break;
        case 0xc7: skip = pos < end ? bytes[pos]! + 2 : 2; break;
        case 0xc8: skip = pos + 2 <= end ? view.getUint16(pos) + 3 : 3; break;
        case 0xc9: skip = pos + 4 <= end ? view.getUint32(pos) + 5 : 5; break;
        case 0xca: skip = 4; break;
        case 0xcb: skip = 8; break;
        case 0xcc: case 0xd0: skip = 1; break;
        case 0xcd: case 0xd1: skip = 2; break;
        case 0xce: case 0xd2: skip = 4; break;
        case 0xcf: case 0xd3: skip = 8; break;
        case 0xd4: skip = 2; break;
        case 0xd5: skip = 3; break;
        case 0xd6: skip = 5; break;
        case 0xd7: skip = 9; break;
        case 0xd8: skip = 17; break;
        case 0xdc: children = pos + 2 <= end ? view.getUint16(pos) : 0; pos += 2; break;
        case 0xdd: children = pos + 4 <= end ? view.getUint32(pos) : 0; pos += 4; break;
        case 0xde: children = pos + 2 <= end ? view.getUint16(pos) * 2 : 0; pos += 2; break;
        case 0xdf: children = pos + 4 <= end ? view.getUint32(pos) * 2 : 0; pos += 4; break;
      }
    }
    pos += skip;
    if (children >= 0) {
      const isMap = b <= 0x8f || b === 0xde || b === 0xdf;
      if (isMap && children / 2 > bounds.maxMapKeys) throw tooMany('a map', children / 2, bounds.maxMapKeys);
      if (!isMap && children > bounds.maxArray) throw tooMany('an array', children, bounds.maxArray);
      if (children > 0) {
        // The open containers are remaining.length deep; this one is one deeper.
        if (remaining.length + 1 > bounds.maxDepth) throw tooDeep(bounds.maxDepth);
        remaining.push(pending);
        pending = children;
      }
    }
    while (pending === 0 && remaining.length > 0) pending = remaining.pop()!;
  }
}

/** Checks a JSON text's structure the same way (strings skipped, escapes honoured). */
export function checkJsonBounds(text: string, bounds: StructureBounds): void {
  // Per open container: commas seen at its level, and whether it is an object.
  const commas: number[] = [];
  const isObject: boolean[] = [];
  let values = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    const depth = commas.length;
    if (c === 0x2c /* , */) {
      if (depth === 0) continue;
      // Members so far: the commas + 1. Checked as they come, so a million-key object is
      // refused at its limit rather than scanned to its end.
      const members = ++commas[depth - 1]! + 1;
      const object = isObject[depth - 1]!;
      if (object && members > bounds.maxMapKeys) throw tooMany('an object', members, bounds.maxMapKeys);
      if (!object && members > bounds.maxArray) throw tooMany('an array', members, bounds.maxArray);
      continue;
    }
    if (c === 0x3a /* : */) continue;
    if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      commas.pop();
      isObject.pop();
      continue;
    }
    if (++values > bounds.maxValues) throw tooManyValues(bounds.maxValues);
    if (c === 0x22) {
      i = jsonStringEnd(text, i);
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (depth + 1 > bounds.maxDepth) throw tooDeep(bounds.maxDepth);
      commas.push(0);
      isObject.push(c === 0x7b);
    } else {
      // A number or literal: skip to its last character.
      while (i + 1 < text.length && !isJsonDelimiter(text.charCodeAt(i + 1))) i++;
    }
  }
}

function isJsonDelimiter(c: number): boolean {
  return c === 0x2c || c === 0x7d || c === 0x5d || c === 0x3a || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
