/**
 * The buffers batches are sealed into, reused from one batch to the next. A fresh envelope of
 * 1.7 MB per batch was fresh memory each time, which the kernel faults in page by page as the
 * ciphertext is copied in (about 110 ms of the worker's CPU for 50,000 spans at exit).
 *
 * A buffer is lent for one batch and comes back only when that batch is finally answered or
 * given up, after all its retries (which resend the same bytes), and only if no socket can still
 * be sending it (body-writes.ts); otherwise it is left to the garbage collector and a fresh one
 * takes its place. The batcher seals a batch only once it has a free in-flight slot, so at most
 * MAX_IN_FLIGHT buffers are ever lent, and that many are kept.
 *
 * Kept buffers grow to the largest envelope seen, so that any of them fits the next batch. The
 * memory this holds is bounded: at most `maxBuffers` buffers of at most MAX_POOLED_BYTES each,
 * 4 × 8 MiB in the worst case. A batch holds at most 2 MiB of records (MAX_BATCH_RECORD_BYTES),
 * a few MB once encoded (about 1.7 MB for 5,000 spans in JSON), so about 4 × 2 MB in practice,
 * which is what four batches in flight held before as well. Envelopes above MAX_POOLED_BYTES
 * (past the collector's default body limit, so refused anyway) are sealed into buffers of their
 * own and not kept.
 */
import { isBodyAtRest } from './body-writes';

export const MAX_POOLED_BYTES = 8 * 1024 * 1024;
/**
 * New buffers get an eighth more than the envelope needs, in whole 64 KiB steps: batches of the
 * same item count grow as they go (span numbers, ids and times take more digits), and without
 * the headroom two of the four buffers were replaced during one 50,000-span exit.
 */
const SIZE_STEP = 64 * 1024;
const HEADROOM_SHIFT = 3;

export interface EnvelopePool {
  readonly maxBuffers: number;
  /** Kept buffers not lent out. */
  readonly free: Buffer[];
  /** Buffers lent and not yet returned. */
  lent: number;
  /** The size new buffers are given: the largest envelope seen so far, with headroom. */
  bufferBytes: number;
  /** Buffers allocated, and returned buffers let go because a socket might still be sending them: for tests and measurements. */
  allocated: number;
  letGo: number;
}

export function createEnvelopePool(maxBuffers: number): EnvelopePool {
  return { maxBuffers, free: [], lent: 0, bufferBytes: 0, allocated: 0, letGo: 0 };
}

/** A buffer of at least `bytes` for one batch's envelope, until returnEnvelopeBuffer(). */
export function takeEnvelopeBuffer(pool: EnvelopePool, bytes: number): Buffer {
  pool.lent++;
  if (bytes > MAX_POOLED_BYTES) return Buffer.allocUnsafe(bytes);
  const kept = pool.free.pop();
  if (kept !== undefined && kept.byteLength >= bytes) return kept;
  // A kept buffer too small for this batch is dropped: the new one replaces it at the larger size.
  if (bytes > pool.bufferBytes) pool.bufferBytes = Math.min(MAX_POOLED_BYTES, Math.ceil((bytes + (bytes >> HEADROOM_SHIFT)) / SIZE_STEP) * SIZE_STEP);
  pool.allocated++;
  return Buffer.allocUnsafe(pool.bufferBytes);
}

/**
 * Gives back the buffer behind `body` (the envelope its batch was sent as) once the batch is
 * answered or given up: kept if nothing can still be sending it and it is a size worth keeping.
 */
export function returnEnvelopeBuffer(pool: EnvelopePool, buffer: Buffer, body: Uint8Array): void {
  pool.lent--;
  if (buffer.byteLength > MAX_POOLED_BYTES || buffer.byteLength < pool.bufferBytes) return;
  if (!isBodyAtRest(body)) {
    pool.letGo++;
    return;
  }
  if (pool.free.length + pool.lent < pool.maxBuffers) pool.free.push(buffer);
}
