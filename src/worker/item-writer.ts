/**
 * The output side of direct encoding: ring records become msgpack or JSON bytes in one reusable
 * buffer, with no span objects in between. Building objects first (hex strings, metadata maps)
 * and then serializing them cost the worker about 14 µs a span before the code was warm, most
 * of it allocation and garbage collection; at exit, when the worker's code is still cold and a
 * busy machine gives it half a core, that decided whether 50,000 spans shipped in 2 s.
 *
 * One `ItemWriter` per wire format says how each kind of value is written; record-encoder.ts
 * walks the records and calls it. Both formats write the values the codec in
 * src/wire/batch-codec.ts would (tests hold JSON to the same bytes, msgpack to the same values).
 */

/** A growable byte buffer, reused batch after batch so its pages stay warm. */
export interface OutBuffer {
  buf: Buffer;
  pos: number;
}

const NO_BYTES = Buffer.alloc(0);

export function createOutBuffer(initialBytes: number): OutBuffer {
  // `buf` is assigned twice on purpose: V8 then treats the field as mutable from the start. A
  // field only ever written once is taken as a constant by optimized code, and the first time a
  // batch outgrew its buffer, every encoder function was thrown away and compiled again.
  const o: OutBuffer = { buf: NO_BYTES, pos: 0 };
  o.buf = Buffer.allocUnsafe(initialBytes);
  return o;
}

/** Makes room for `bytes` more bytes after `pos`. */
export function reserve(o: OutBuffer, bytes: number): void {
  if (o.pos + bytes <= o.buf.length) return;
  const grown = Buffer.allocUnsafe(Math.max(o.buf.length * 2, o.pos + bytes));
  o.buf.copy(grown, 0, 0, o.pos);
  o.buf = grown;
}

export function writeBytes(o: OutBuffer, bytes: Uint8Array): void {
  reserve(o, bytes.length);
  o.buf.set(bytes, o.pos);
  o.pos += bytes.length;
}

/** Field names of the wire objects that record-encoder.ts writes, in their wire order. */
export const SPAN_KEYS = ['trace_id', 'span_id', 'parent_span_id', 'workflow', 'operation', 'status', 'started_at', 'duration_ms', 'error_type', 'error_message', 'metadata', 'captured_params'] as const;
export const EVENT_KEYS = ['trace_id', 'span_id', 'workflow', 'event_type', 'name', 'message', 'severity', 'timestamp', 'metadata'] as const;

export interface ItemWriter {
  /** Encoded keys: `spanKeys[k]` is what comes before the k-th value of a span (separator included). */
  readonly spanKeys: readonly Uint8Array[];
  /**
   * Everything after `duration_ms` of a span without error, metadata or captured parameters (most
   * spans): those four keys, null, null, {}, {} and the end of the object, as one constant.
   */
  readonly emptySpanTail: Uint8Array;
  readonly eventKeys: readonly Uint8Array[];
  /** Before the `index`-th item of a batch's array. */
  itemStart(o: OutBuffer, index: number): void;
  /** An object of `fields` entries whose keys are written with `spanKeys`/`eventKeys`. */
  objectStart(o: OutBuffer, fields: number): void;
  objectEnd(o: OutBuffer): void;
  /** Before the `index`-th entry of a metadata map whose keys are interned strings. */
  attributeKey(o: OutBuffer, key: string, index: number): void;
  /** A string that recurs (interned names, statuses): encoded once and cached. */
  knownString(o: OutBuffer, text: string): void;
  /** `units` UTF-16 code units starting at element `start` of `u16`: the ring's inline strings. */
  utf16String(o: OutBuffer, u16: Uint16Array, start: number, units: number): void;
  /** 16 bytes at `at` as 32 lowercase hex characters. */
  hexId(o: OutBuffer, u8: Uint8Array, at: number): void;
  number(o: OutBuffer, value: number): void;
  boolean(o: OutBuffer, value: boolean): void;
  nil(o: OutBuffer): void;
  /** Any value the batch codec can encode, through it: for the rare items made as objects. */
  value(o: OutBuffer, value: unknown): void;
}

/** ASCII codes of the two hex digits of every byte, for `hexId`. */
export const HEX_PAIRS: Uint8Array = (() => {
  const pairs = new Uint8Array(512);
  for (let b = 0; b < 256; b++) {
    const hex = b.toString(16).padStart(2, '0');
    pairs[2 * b] = hex.charCodeAt(0);
    pairs[2 * b + 1] = hex.charCodeAt(1);
  }
  return pairs;
})();

/** 16 bytes of `u8` from `at` as 32 lowercase hex characters at `p` of `buf`; returns the position after them. */
export function writeHexDigits(buf: Buffer, p: number, u8: Uint8Array, at: number): number {
  for (let k = 0; k < 16; k++) {
    const pair = u8[at + k]! << 1;
    buf[p++] = HEX_PAIRS[pair]!;
    buf[p++] = HEX_PAIRS[pair + 1]!;
  }
  return p;
}

/**
 * A string → bytes cache for names that recur in every record. Interned names are bounded by
 * the ring (MAX_INTERNED_STRINGS between resets), so the cache is simply emptied past a size.
 */
export class EncodedStrings {
  readonly #cache = new Map<string, Uint8Array>();
  readonly #encode: (text: string) => Uint8Array;
  readonly #limit: number;

  constructor(encode: (text: string) => Uint8Array, limit = 16_384) {
    this.#encode = encode;
    this.#limit = limit;
  }

  get(text: string): Uint8Array {
    let bytes = this.#cache.get(text);
    if (bytes === undefined) {
      if (this.#cache.size >= this.#limit) this.#cache.clear();
      bytes = this.#encode(text);
      this.#cache.set(text, bytes);
    }
    return bytes;
  }
}

const TAIL_NULLS = [SPAN_KEYS.indexOf('error_type'), SPAN_KEYS.indexOf('error_message')];
const TAIL_EMPTY_OBJECTS = [SPAN_KEYS.indexOf('metadata'), SPAN_KEYS.indexOf('captured_params')];

/** A writer from its parts, with the constants that are written through them. */
export function withConstants(parts: Omit<ItemWriter, 'emptySpanTail'>): ItemWriter {
  const o = createOutBuffer(128);
  for (const k of TAIL_NULLS) {
    writeBytes(o, parts.spanKeys[k]!);
    parts.nil(o);
  }
  for (const k of TAIL_EMPTY_OBJECTS) {
    writeBytes(o, parts.spanKeys[k]!);
    parts.objectStart(o, 0);
    parts.objectEnd(o);
  }
  parts.objectEnd(o);
  return { ...parts, emptySpanTail: Uint8Array.from(o.buf.subarray(0, o.pos)) };
}
