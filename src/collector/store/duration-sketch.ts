/**
 * Run durations of one workflow in one hour, as counts in logarithmic buckets (the DDSketch
 * layout): bucket i holds durations in (γ^(i-1), γ^i] with γ = (1 + α) / (1 − α), and a quantile
 * read from it is within α = 1 % of the exact nearest-rank value. Sketches of different hours
 * add up bucket by bucket, so p50/p95/p99 over any window of hours is a sum of a few small rows,
 * never a scan of the runs. Counts can go down as well: a run that changes (its root arrived,
 * it finished) leaves its old bucket for its new one.
 *
 * Stored as a BLOB of (int16 bucket, uint32 count) pairs in bucket order; a workflow's durations
 * rarely span more than a few dozen buckets.
 */

/** Relative accuracy of every quantile read from a sketch. */
export const RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
/** Exported, with SMALLEST_MS and ZERO_BUCKET, for stores that compute buckets in SQL (clickhouse/queries.ts). */
export const LOG_GAMMA = Math.log(GAMMA);
/** Durations at or below this (ms) share one bucket, read back as 0. */
export const SMALLEST_MS = 1e-6;
export const ZERO_BUCKET = -32_768;
export const LARGEST_BUCKET = 32_767;
const PAIR_BYTES = 6;

/** Bucket → count; counts are never stored at 0. */
export type DurationSketch = Map<number, number>;

export function bucketOf(durationMs: number): number {
  if (!(durationMs > SMALLEST_MS)) return ZERO_BUCKET;
  // Clamped to int16 so that any finite duration has a bucket (1e300 ms included).
  // `+ 0` turns the -0 that ceil gives just below 1 ms into 0.
  return Math.min(LARGEST_BUCKET, Math.ceil(Math.log(durationMs) / LOG_GAMMA)) + 0;
}

/** The value a bucket stands for: within RELATIVE_ACCURACY of every duration it holds. */
export function bucketValue(bucket: number): number {
  if (bucket === ZERO_BUCKET) return 0;
  return (2 * Math.pow(GAMMA, bucket)) / (GAMMA + 1);
}

export function addTo(sketch: DurationSketch, bucket: number, count: number): void {
  const next = (sketch.get(bucket) ?? 0) + count;
  if (next === 0) sketch.delete(bucket);
  else sketch.set(bucket, next);
}

export function mergeInto(target: DurationSketch, source: DurationSketch): void {
  for (const [bucket, count] of source) addTo(target, bucket, count);
}

export function encodeSketch(sketch: DurationSketch): Buffer {
  const buckets = [...sketch.keys()].sort((a, b) => a - b);
  const out = Buffer.allocUnsafe(buckets.length * PAIR_BYTES);
  buckets.forEach((bucket, i) => {
    out.writeInt16LE(bucket, i * PAIR_BYTES);
    // A negative count would mean a run left a bucket it never entered: keep the store readable.
    out.writeUInt32LE(Math.max(0, sketch.get(bucket)!), i * PAIR_BYTES + 2);
  });
  return out;
}

export function decodeSketch(bytes: Uint8Array, into: DurationSketch = new Map()): DurationSketch {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + PAIR_BYTES <= view.length; at += PAIR_BYTES) {
    addTo(into, view.readInt16LE(at), view.readUInt32LE(at + 2));
  }
  return into;
}

/**
 * Nearest-rank quantiles (p in 0–100) of what the sketch holds, each within RELATIVE_ACCURACY;
 * null for an empty sketch. `total` is the sketch's count, which the caller already has.
 */
export function quantiles(sketch: DurationSketch, total: number, percents: readonly number[]): Array<number | null> {
  if (total <= 0) return percents.map(() => null);
  const buckets = [...sketch.keys()].sort((a, b) => a - b);
  return percents.map((p) => {
    const rank = Math.max(1, Math.ceil((p * total) / 100));
    let seen = 0;
    for (const bucket of buckets) {
      seen += sketch.get(bucket)!;
      if (seen >= rank) return bucketValue(bucket);
    }
    return bucketValue(buckets[buckets.length - 1]!);
  });
}
