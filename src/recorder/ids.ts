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

/** Stores an id's words at int32 index `i` of the ring. */
export function writeIdWords(i32: Int32Array, i: number, id: IdWords): void {
  i32[i] = id.w0;
  i32[i + 1] = id.w1;
  i32[i + 2] = id.w2;
  i32[i + 3] = id.w3;
}

export function copyId(into: IdWords, from: IdWords): void {
  into.w0 = from.w0;
  into.w1 = from.w1;
  into.w2 = from.w2;
  into.w3 = from.w3;
}

/** Overwrites `id` with fresh random words (an id object reused, or a span's own id fields). */
export function fillRandomId(id: IdWords): void {
  const n = takeOffset();
  const w = pool.words;
  id.w0 = w[n]!;
  id.w1 = w[n + 1]!;
  id.w2 = w[n + 2]!;
  id.w3 = w[n + 3]!;
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
