/**
 * Head sampling, decided once per trace at its root and inherited by every span under it.
 * A trace is kept when the first 8 bytes of MD5(trace_id as ASCII), read as a big-endian uint64,
 * are <= floor(rate × (2^64 − 1)). Hashing the id rather than rolling a die makes every service,
 * in every language, reach the same decision for the same trace (`shared/vectors/sampling.json`).
 *
 * The threshold is computed exactly. `rate * (2 ** 64 - 1)` in doubles would be `rate * 2^64`
 * (2^64 − 1 is not representable), one above the true floor for most rates; the two only
 * disagree when a hash lands exactly on the threshold, but "exactly" is cheap to get right here.
 */
import { hash } from 'node:crypto';

const MAX_UINT64 = (1n << 64n) - 1n;
const MANTISSA_BITS = 52n;
const MANTISSA_MASK = (1n << MANTISSA_BITS) - 1n;
const EXPONENT_BIAS = 1075; // 1023 + 52: makes the mantissa an integer

const float64 = new Float64Array(1);
const float64Bits = new BigUint64Array(float64.buffer);

/**
 * floor(rate × (2^64 − 1)) as a bigint, or -1n when nothing is sampled (rate <= 0 or NaN), so
 * that `hash <= threshold` holds for every decision.
 */
export function samplingThreshold(rate: number): bigint {
  if (!(rate > 0)) return -1n;
  if (rate >= 1) return MAX_UINT64;
  // rate is exactly mantissa × 2^exponent; with exponent < 0 here, the floor is a right shift.
  float64[0] = rate;
  const bits = float64Bits[0]!;
  const biasedExponent = Number(bits >> MANTISSA_BITS);
  const fraction = bits & MANTISSA_MASK;
  const mantissa = biasedExponent === 0 ? fraction : fraction | (1n << MANTISSA_BITS);
  const exponent = (biasedExponent === 0 ? 1 : biasedExponent) - EXPONENT_BIAS;
  return (mantissa * MAX_UINT64) >> BigInt(-exponent);
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
