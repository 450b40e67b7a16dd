/**
 * A token bucket per key (project slug, API key, client address): `burst` requests at once, then
 * `ratePerSecond` on average. Buckets live in a Map kept in least-recently-used order, so
 * memory stays bounded: a bucket that has refilled to `burst` is the same as no bucket and is
 * dropped, and past `maxKeys` the least recently used bucket goes first.
 */
export interface RateLimiterOptions {
  ratePerSecond: number;
  burst: number;
  /** Most buckets kept at once; default 10,000. */
  maxKeys?: number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterS: number };

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  at: number;
}

const DEFAULT_MAX_KEYS = 10_000;
const ALLOWED: TakeResult = Object.freeze({ ok: true });

export class RateLimiter {
  readonly #ratePerSecond: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  /** Time for an empty bucket to fill up again: idle that long, a bucket can be forgotten. */
  readonly #refillMs: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: RateLimiterOptions) {
    const { ratePerSecond, burst, maxKeys = DEFAULT_MAX_KEYS } = options;
    if (!(Number.isFinite(ratePerSecond) && ratePerSecond > 0)) {
      throw new RangeError(`RateLimiter ratePerSecond is ${ratePerSecond}: expected a finite number > 0`);
    }
    if (!(Number.isFinite(burst) && burst >= 1)) throw new RangeError(`RateLimiter burst is ${burst}: expected a finite number ≥ 1`);
    if (!(Number.isInteger(maxKeys) && maxKeys >= 1)) throw new RangeError(`RateLimiter maxKeys is ${maxKeys}: expected an integer ≥ 1`);
    this.#ratePerSecond = ratePerSecond;
    this.#burst = burst;
    this.#maxKeys = maxKeys;
    this.#refillMs = (burst * 1000) / ratePerSecond;
  }

  /** Spends one token of `key`'s bucket, or says in how many whole seconds one will be there. */
  take(key: string, now: number = Date.now()): TakeResult {
    const buckets = this.#buckets;
    let bucket = buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.#burst, at: now };
    } else {
      buckets.delete(key);
      bucket.tokens = this.#tokensAt(bucket, now);
      bucket.at = now > bucket.at ? now : bucket.at;
    }
    buckets.set(key, bucket);
    this.#evict(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return ALLOWED;
    }
    return this.#refused(bucket.tokens);
  }

  /**
   * Whether `key` has a token now, spending nothing: for limits charged only when a request
   * turns out to be refused (take() then), but checked before any work is done for it.
   */
  check(key: string, now: number = Date.now()): TakeResult {
    const bucket = this.#buckets.get(key);
    if (bucket === undefined) return ALLOWED;
    const tokens = this.#tokensAt(bucket, now);
    return tokens >= 1 ? ALLOWED : this.#refused(tokens);
  }

  /** The bucket's tokens at `now`; a clock that steps back refills nothing rather than draining it. */
  #tokensAt(bucket: Bucket, now: number): number {
    const elapsed = now > bucket.at ? now - bucket.at : 0;
    return Math.min(this.#burst, bucket.tokens + (elapsed * this.#ratePerSecond) / 1000);
  }

  #refused(tokens: number): TakeResult {
    return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - tokens) / this.#ratePerSecond)) };
  }

  /** Buckets currently kept (for tests and diagnostics). */
  get size(): number {
    return this.#buckets.size;
  }

  #evict(now: number): void {
    // The Map is in least-recently-used order, so idle buckets are all at its front.
    for (const [key, bucket] of this.#buckets) {
      const overLimit = this.#buckets.size > this.#maxKeys;
      if (!overLimit && now - bucket.at < this.#refillMs) break;
      this.#buckets.delete(key);
    }
  }
}
