/**
 * Head sampling, decided once per trace at its root and inherited by every span under it.
 * A trace is kept when the first 8 bytes of MD5(trace_id as ASCII), read as a big-endian uint64,
 * are <= floor(rate × (2^64 − 1)). Hashing the id rather than rolling a die makes every service,
 * in every language, reach the same decision for the same trace (`test/fixtures/vectors/sampling.json`).
 *
 * The threshold is computed as the reference implementation does (Python's
 * `int(rate * (2**64 - 1))`): the product is taken in doubles, where 2^64 − 1 rounds to 2^64, so
 * the threshold is exactly floor(rate × 2^64). Matching the reference, rather than the exact
 * rational floor (one lower for most rates), is what keeps the decision identical across
 * languages even for a hash that lands on the threshold.
 */
import { hash } from 'node:crypto';

const MAX_UINT64 = (1n << 64n) - 1n;
const TWO_TO_64 = 2 ** 64;

/**
 * The inclusive threshold for a rate as a bigint, or -1n when nothing is sampled (rate <= 0 or
 * NaN), so that `hash <= threshold` holds for every decision. For 0 < rate < 1, `rate * 2^64`
 * is exact in doubles (a power-of-two scaling) and below 2^64, so BigInt() takes it as is.
 */
export function samplingThreshold(rate: number): bigint {
  if (!(rate > 0)) return -1n;
  if (rate >= 1) return MAX_UINT64;
  return BigInt(Math.floor(rate * TWO_TO_64));
}

export function isSampled(traceIdHex: string, rate: number): boolean {
  if (!(rate > 0)) return false;
  if (rate >= 1) return true;
  return md5(traceIdHex).readBigUInt64BE(0) <= samplingThreshold(rate);
}

/**
 * The per-span form: the threshold is computed once and split into two uint32 halves, so each
 * decision is one MD5 and two number comparisons, with no bigint allocated.
 */
export function makeSampler(rate: number): (traceIdHex: string) => boolean {
  if (!(rate > 0)) return () => false;
  if (rate >= 1) return () => true;
  const threshold = samplingThreshold(rate);
  const high = Number(threshold >> 32n);
  const low = Number(threshold & 0xffff_ffffn);
  return (traceIdHex) => {
    const digest = md5(traceIdHex);
    const digestHigh = digest.readUInt32BE(0);
    return digestHigh < high || (digestHigh === high && digest.readUInt32BE(4) <= low);
  };
}

function md5(text: string): Buffer {
  return hash('md5', text, 'buffer');
}
