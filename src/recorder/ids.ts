/**
 * Trace and span ids are 16 random bytes. They are taken as int32 words from a pool that the
 * CSPRNG refills 16 KiB at a time (about 3 ns per id here, amortised), so the hot path never
 * calls into crypto and never formats hex: the worker does that.
 */
import { randomFillSync } from 'node:crypto';

const POOL_WORDS = 4096;
// A state object rather than module-level `let`s: V8 keeps its fields in registers-friendly
// shape, which made a take about three times cheaper here.
const pool = { words: new Int32Array(POOL_WORDS), next: POOL_WORDS };

/** Offset of 4 fresh random words in `pool.words`; ids are always taken whole. */
function takeOffset(): number {
  let n = pool.next;
  if (n === POOL_WORDS) {
    randomFillSync(pool.words);
    n = 0;
  }
  pool.next = n + 4;
  return n;
}

/** A 16-byte id as four int32 words in platform byte order, the form the ring stores. */
export interface IdWords {
  w0: number;
  w1: number;
  w2: number;
  w3: number;
}

export function newIdWords(): IdWords {
  const n = takeOffset();
  const w = pool.words;
  return { w0: w[n]!, w1: w[n + 1]!, w2: w[n + 2]!, w3: w[n + 3]! };
}

/** The three ids of a span as twelve int32 fields: copied with stores, never allocated. */
export interface SpanIds {
  t0: number;
  t1: number;
  t2: number;
  t3: number;
  s0: number;
  s1: number;
  s2: number;
  s3: number;
  p0: number;
  p1: number;
  p2: number;
  p3: number;
  hasParent: boolean;
}

export function assignRandomTraceId(ids: SpanIds): void {
  const n = takeOffset();
  const w = pool.words;
  ids.t0 = w[n]!;
  ids.t1 = w[n + 1]!;
  ids.t2 = w[n + 2]!;
  ids.t3 = w[n + 3]!;
}

export function assignRandomSpanId(ids: SpanIds): void {
  const n = takeOffset();
  const w = pool.words;
  ids.s0 = w[n]!;
  ids.s1 = w[n + 1]!;
  ids.s2 = w[n + 2]!;
  ids.s3 = w[n + 3]!;
}

export function assignTraceId(ids: SpanIds, id: IdWords): void {
  ids.t0 = id.w0;
  ids.t1 = id.w1;
  ids.t2 = id.w2;
  ids.t3 = id.w3;
}

export function assignSpanId(ids: SpanIds, id: IdWords): void {
  ids.s0 = id.w0;
  ids.s1 = id.w1;
  ids.s2 = id.w2;
  ids.s3 = id.w3;
}

export function assignParentId(ids: SpanIds, id: IdWords | null): void {
  if (id === null) {
    ids.hasParent = false;
    ids.p0 = ids.p1 = ids.p2 = ids.p3 = 0;
    return;
  }
  ids.hasParent = true;
  ids.p0 = id.w0;
  ids.p1 = id.w1;
  ids.p2 = id.w2;
  ids.p3 = id.w3;
}

export function traceIdOf(ids: SpanIds): IdWords {
  return { w0: ids.t0, w1: ids.t1, w2: ids.t2, w3: ids.t3 };
}

export function spanIdOf(ids: SpanIds): IdWords {
  return { w0: ids.s0, w1: ids.s1, w2: ids.s2, w3: ids.s3 };
}

/** Stores an id's words at int32 index `i` of the ring. */
export function writeIdWords(i32: Int32Array, i: number, id: IdWords): void {
  i32[i] = id.w0;
  i32[i + 1] = id.w1;
  i32[i + 2] = id.w2;
  i32[i + 3] = id.w3;
}

const scratch = new Int32Array(4);
const scratchBytes = new Uint8Array(scratch.buffer);
const HEX_ID = /^[0-9a-f]{32}$/i;

/**
 * Parses a 32-hex id (or 16 raw bytes) into words. Returns null for anything else, and for the
 * all-zero id, which W3C trace context reserves as invalid.
 */
export function idWordsFrom(value: string | Uint8Array): IdWords | null {
  if (typeof value === 'string') {
    if (!HEX_ID.test(value)) return null;
    scratchBytes.set(Buffer.from(value, 'hex'));
  } else {
    if (!(value instanceof Uint8Array) || value.byteLength !== 16) return null;
    scratchBytes.set(value);
  }
  if ((scratch[0]! | scratch[1]! | scratch[2]! | scratch[3]!) === 0) return null;
  return { w0: scratch[0]!, w1: scratch[1]!, w2: scratch[2]!, w3: scratch[3]! };
}

/** Lowercase hex of an id; for headers and tests, never on the per-span path. */
export function idWordsToHex(id: IdWords): string {
  scratch[0] = id.w0;
  scratch[1] = id.w1;
  scratch[2] = id.w2;
  scratch[3] = id.w3;
  return Buffer.from(scratchBytes).toString('hex');
}
