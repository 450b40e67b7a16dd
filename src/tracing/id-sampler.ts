/**
 * The sampling decision of `sampling.ts`, made straight from an id's words. The rule hashes the
 * 32-char lowercase hex of the trace id, and this runs on the main thread at the root of every
 * trace, so instead of formatting hex and calling into crypto (about 1.2 µs), the MD5 is done
 * here in JS for the one message shape that occurs: 32 ASCII bytes, which pad to exactly one
 * 64-byte block. No string or buffer is made per call.
 *
 *   message word  0..7   hex chars 4k..4k+3 = id bytes 2k, 2k+1 through HEX_PAIR (little-endian)
 *                 8      0x80 (the padding bit)
 *                 9..13  0
 *                 14     256 (the message length in bits, low word)
 *                 15     0
 *
 * Only the first 8 digest bytes are compared, i.e. MD5's A and B after the final addition,
 * byte-swapped to the big-endian reading the rule uses.
 */
import type { IdWords } from '../recorder/ids';
import { samplingThreshold } from './sampling';

// The id's bytes in memory order whatever the platform's endianness, as ids.ts stores them.
const scratch = new Int32Array(4);
const bytes = new Uint8Array(scratch.buffer);

/** A byte's two lowercase hex chars as a little-endian 16-bit value: first char in the low byte. */
const HEX_PAIR = new Uint16Array(256);
for (let b = 0; b < 256; b++) {
  HEX_PAIR[b] = hexChar(b >> 4) | (hexChar(b & 15) << 8);
}

function hexChar(nibble: number): number {
  return nibble < 10 ? 0x30 + nibble : 0x57 + nibble;
}

/** The first 8 digest bytes as two big-endian uint32s, written by md5Prefix without allocating. */
const prefix = { high: 0, low: 0 };

export function makeIdSampler(rate: number): (id: IdWords) => boolean {
  if (!(rate > 0)) return () => false;
  if (rate >= 1) return () => true;
  const threshold = samplingThreshold(rate);
  const high = Number(threshold >> 32n);
  const low = Number(threshold & 0xffff_ffffn);
  return (id) => {
    md5Prefix(id);
    const digestHigh = prefix.high;
    return digestHigh < high || (digestHigh === high && prefix.low <= low);
  };
}

/** The first 8 bytes of MD5(hex of id) as big-endian [bytes 0-3, bytes 4-7]; for tests. */
export function md5HexIdPrefix(id: IdWords): [high: number, low: number] {
  md5Prefix(id);
  return [prefix.high, prefix.low];
}

function md5Prefix(id: IdWords): void {
  scratch[0] = id.w0;
  scratch[1] = id.w1;
  scratch[2] = id.w2;
  scratch[3] = id.w3;
  const m0 = HEX_PAIR[bytes[0]!]! | (HEX_PAIR[bytes[1]!]! << 16);
  const m1 = HEX_PAIR[bytes[2]!]! | (HEX_PAIR[bytes[3]!]! << 16);
  const m2 = HEX_PAIR[bytes[4]!]! | (HEX_PAIR[bytes[5]!]! << 16);
  const m3 = HEX_PAIR[bytes[6]!]! | (HEX_PAIR[bytes[7]!]! << 16);
  const m4 = HEX_PAIR[bytes[8]!]! | (HEX_PAIR[bytes[9]!]! << 16);
  const m5 = HEX_PAIR[bytes[10]!]! | (HEX_PAIR[bytes[11]!]! << 16);
  const m6 = HEX_PAIR[bytes[12]!]! | (HEX_PAIR[bytes[13]!]! << 16);
  const m7 = HEX_PAIR[bytes[14]!]! | (HEX_PAIR[bytes[15]!]! << 16);

  // The 64 steps of RFC 1321, a = b + ((a + f(b, c, d) + M[k] + T[i]) <<< s), with T inlined and
  // the zero message words left out. The rotations are written out: through an inlined helper
  // the whole hash took about 15% longer (V8 did not turn it into one rotate instruction).
  let a = 0x67452301;
  let b = 0xefcdab89 | 0;
  let c = 0x98badcfe | 0;
  let d = 0x10325476;

  // Round 1, F: d ^ (b & (c ^ d))
  a = a + (d ^ (b & (c ^ d))) + m0 + 0xd76aa478 | 0;
  a = ((a << 7) | (a >>> 25)) + b | 0;
  d = d + (c ^ (a & (b ^ c))) + m1 + 0xe8c7b756 | 0;
  d = ((d << 12) | (d >>> 20)) + a | 0;
  c = c + (b ^ (d & (a ^ b))) + m2 + 0x242070db | 0;
  c = ((c << 17) | (c >>> 15)) + d | 0;
  b = b + (a ^ (c & (d ^ a))) + m3 + 0xc1bdceee | 0;
  b = ((b << 22) | (b >>> 10)) + c | 0;
  a = a + (d ^ (b & (c ^ d))) + m4 + 0xf57c0faf | 0;
  a = ((a << 7) | (a >>> 25)) + b | 0;
  d = d + (c ^ (a & (b ^ c))) + m5 + 0x4787c62a | 0;
  d = ((d << 12) | (d >>> 20)) + a | 0;
  c = c + (b ^ (d & (a ^ b))) + m6 + 0xa8304613 | 0;
  c = ((c << 17) | (c >>> 15)) + d | 0;
  b = b + (a ^ (c & (d ^ a))) + m7 + 0xfd469501 | 0;
  b = ((b << 22) | (b >>> 10)) + c | 0;
  a = a + (d ^ (b & (c ^ d))) + 0x80 + 0x698098d8 | 0;
  a = ((a << 7) | (a >>> 25)) + b | 0;
  d = d + (c ^ (a & (b ^ c))) + 0x8b44f7af | 0;
  d = ((d << 12) | (d >>> 20)) + a | 0;
  c = c + (b ^ (d & (a ^ b))) + 0xffff5bb1 | 0;
  c = ((c << 17) | (c >>> 15)) + d | 0;
  b = b + (a ^ (c & (d ^ a))) + 0x895cd7be | 0;
  b = ((b << 22) | (b >>> 10)) + c | 0;
  a = a + (d ^ (b & (c ^ d))) + 0x6b901122 | 0;
  a = ((a << 7) | (a >>> 25)) + b | 0;
  d = d + (c ^ (a & (b ^ c))) + 0xfd987193 | 0;
  d = ((d << 12) | (d >>> 20)) + a | 0;
  c = c + (b ^ (d & (a ^ b))) + 0x100 + 0xa679438e | 0;
  c = ((c << 17) | (c >>> 15)) + d | 0;
  b = b + (a ^ (c & (d ^ a))) + 0x49b40821 | 0;
  b = ((b << 22) | (b >>> 10)) + c | 0;

  // Round 2, G: c ^ (d & (b ^ c))
  a = a + (c ^ (d & (b ^ c))) + m1 + 0xf61e2562 | 0;
  a = ((a << 5) | (a >>> 27)) + b | 0;
  d = d + (b ^ (c & (a ^ b))) + m6 + 0xc040b340 | 0;
  d = ((d << 9) | (d >>> 23)) + a | 0;
  c = c + (a ^ (b & (d ^ a))) + 0x265e5a51 | 0;
  c = ((c << 14) | (c >>> 18)) + d | 0;
  b = b + (d ^ (a & (c ^ d))) + m0 + 0xe9b6c7aa | 0;
  b = ((b << 20) | (b >>> 12)) + c | 0;
  a = a + (c ^ (d & (b ^ c))) + m5 + 0xd62f105d | 0;
  a = ((a << 5) | (a >>> 27)) + b | 0;
  d = d + (b ^ (c & (a ^ b))) + 0x02441453 | 0;
  d = ((d << 9) | (d >>> 23)) + a | 0;
  c = c + (a ^ (b & (d ^ a))) + 0xd8a1e681 | 0;
  c = ((c << 14) | (c >>> 18)) + d | 0;
  b = b + (d ^ (a & (c ^ d))) + m4 + 0xe7d3fbc8 | 0;
  b = ((b << 20) | (b >>> 12)) + c | 0;
  a = a + (c ^ (d & (b ^ c))) + 0x21e1cde6 | 0;
  a = ((a << 5) | (a >>> 27)) + b | 0;
  d = d + (b ^ (c & (a ^ b))) + 0x100 + 0xc33707d6 | 0;
  d = ((d << 9) | (d >>> 23)) + a | 0;
  c = c + (a ^ (b & (d ^ a))) + m3 + 0xf4d50d87 | 0;
  c = ((c << 14) | (c >>> 18)) + d | 0;
  b = b + (d ^ (a & (c ^ d))) + 0x80 + 0x455a14ed | 0;
  b = ((b << 20) | (b >>> 12)) + c | 0;
  a = a + (c ^ (d & (b ^ c))) + 0xa9e3e905 | 0;
  a = ((a << 5) | (a >>> 27)) + b | 0;
  d = d + (b ^ (c & (a ^ b))) + m2 + 0xfcefa3f8 | 0;
  d = ((d << 9) | (d >>> 23)) + a | 0;
  c = c + (a ^ (b & (d ^ a))) + m7 + 0x676f02d9 | 0;
  c = ((c << 14) | (c >>> 18)) + d | 0;
  b = b + (d ^ (a & (c ^ d))) + 0x8d2a4c8a | 0;
  b = ((b << 20) | (b >>> 12)) + c | 0;

  // Round 3, H: b ^ c ^ d
  a = a + (b ^ c ^ d) + m5 + 0xfffa3942 | 0;
  a = ((a << 4) | (a >>> 28)) + b | 0;
  d = d + (a ^ b ^ c) + 0x80 + 0x8771f681 | 0;
  d = ((d << 11) | (d >>> 21)) + a | 0;
  c = c + (d ^ a ^ b) + 0x6d9d6122 | 0;
  c = ((c << 16) | (c >>> 16)) + d | 0;
  b = b + (c ^ d ^ a) + 0x100 + 0xfde5380c | 0;
  b = ((b << 23) | (b >>> 9)) + c | 0;
  a = a + (b ^ c ^ d) + m1 + 0xa4beea44 | 0;
  a = ((a << 4) | (a >>> 28)) + b | 0;
  d = d + (a ^ b ^ c) + m4 + 0x4bdecfa9 | 0;
  d = ((d << 11) | (d >>> 21)) + a | 0;
  c = c + (d ^ a ^ b) + m7 + 0xf6bb4b60 | 0;
  c = ((c << 16) | (c >>> 16)) + d | 0;
  b = b + (c ^ d ^ a) + 0xbebfbc70 | 0;
  b = ((b << 23) | (b >>> 9)) + c | 0;
  a = a + (b ^ c ^ d) + 0x289b7ec6 | 0;
  a = ((a << 4) | (a >>> 28)) + b | 0;
  d = d + (a ^ b ^ c) + m0 + 0xeaa127fa | 0;
  d = ((d << 11) | (d >>> 21)) + a | 0;
  c = c + (d ^ a ^ b) + m3 + 0xd4ef3085 | 0;
  c = ((c << 16) | (c >>> 16)) + d | 0;
  b = b + (c ^ d ^ a) + m6 + 0x04881d05 | 0;
  b = ((b << 23) | (b >>> 9)) + c | 0;
  a = a + (b ^ c ^ d) + 0xd9d4d039 | 0;
  a = ((a << 4) | (a >>> 28)) + b | 0;
  d = d + (a ^ b ^ c) + 0xe6db99e5 | 0;
  d = ((d << 11) | (d >>> 21)) + a | 0;
  c = c + (d ^ a ^ b) + 0x1fa27cf8 | 0;
  c = ((c << 16) | (c >>> 16)) + d | 0;
  b = b + (c ^ d ^ a) + m2 + 0xc4ac5665 | 0;
  b = ((b << 23) | (b >>> 9)) + c | 0;

  // Round 4, I: c ^ (b | ~d)
  a = a + (c ^ (b | ~d)) + m0 + 0xf4292244 | 0;
  a = ((a << 6) | (a >>> 26)) + b | 0;
  d = d + (b ^ (a | ~c)) + m7 + 0x432aff97 | 0;
  d = ((d << 10) | (d >>> 22)) + a | 0;
  c = c + (a ^ (d | ~b)) + 0x100 + 0xab9423a7 | 0;
  c = ((c << 15) | (c >>> 17)) + d | 0;
  b = b + (d ^ (c | ~a)) + m5 + 0xfc93a039 | 0;
  b = ((b << 21) | (b >>> 11)) + c | 0;
  a = a + (c ^ (b | ~d)) + 0x655b59c3 | 0;
  a = ((a << 6) | (a >>> 26)) + b | 0;
  d = d + (b ^ (a | ~c)) + m3 + 0x8f0ccc92 | 0;
  d = ((d << 10) | (d >>> 22)) + a | 0;
  c = c + (a ^ (d | ~b)) + 0xffeff47d | 0;
  c = ((c << 15) | (c >>> 17)) + d | 0;
  b = b + (d ^ (c | ~a)) + m1 + 0x85845dd1 | 0;
  b = ((b << 21) | (b >>> 11)) + c | 0;
  a = a + (c ^ (b | ~d)) + 0x80 + 0x6fa87e4f | 0;
  a = ((a << 6) | (a >>> 26)) + b | 0;
  d = d + (b ^ (a | ~c)) + 0xfe2ce6e0 | 0;
  d = ((d << 10) | (d >>> 22)) + a | 0;
  c = c + (a ^ (d | ~b)) + m6 + 0xa3014314 | 0;
  c = ((c << 15) | (c >>> 17)) + d | 0;
  b = b + (d ^ (c | ~a)) + 0x4e0811a1 | 0;
  b = ((b << 21) | (b >>> 11)) + c | 0;
  a = a + (c ^ (b | ~d)) + m4 + 0xf7537e82 | 0;
  a = ((a << 6) | (a >>> 26)) + b | 0;
  d = d + (b ^ (a | ~c)) + 0xbd3af235 | 0;
  d = ((d << 10) | (d >>> 22)) + a | 0;
  c = c + (a ^ (d | ~b)) + m2 + 0x2ad7d2bb | 0;
  c = ((c << 15) | (c >>> 17)) + d | 0;
  b = b + (d ^ (c | ~a)) + 0xeb86d391 | 0;
  b = ((b << 21) | (b >>> 11)) + c | 0;

  prefix.high = byteSwap((a + 0x67452301) | 0);
  prefix.low = byteSwap((b + 0xefcdab89) | 0);
}

/** The uint32 whose big-endian bytes are the little-endian bytes of x. */
function byteSwap(x: number): number {
  return ((x << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}
