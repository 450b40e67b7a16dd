import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../src/collector/rate-limit';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const T0 = 1_000_000;

function takeMany(limiter: RateLimiter, key: string, n: number, now: number): Array<ReturnType<RateLimiter['take']>> {
  return Array.from({ length: n }, () => limiter.take(key, now));
}

test('a fresh key may take its whole burst at once', () => {
  const limiter = new RateLimiter({ ratePerSecond: 1, burst: 5 });
  assert.deepEqual(takeMany(limiter, 'a', 5, T0), Array(5).fill({ ok: true }));
});

test('the request after the burst is refused with a one-second Retry-After at 1/s', () => {
  const limiter = new RateLimiter({ ratePerSecond: 1, burst: 5 });
  takeMany(limiter, 'a', 5, T0);
  assert.deepEqual(limiter.take('a', T0), { ok: false, retryAfterS: 1 });
});

test('Retry-After is the whole seconds until the next token at a slow rate', () => {
  const limiter = new RateLimiter({ ratePerSecond: 0.1, burst: 1 });
  limiter.take('a', T0);
  assert.deepEqual(limiter.take('a', T0), { ok: false, retryAfterS: 10 });
  assert.deepEqual(limiter.take('a', T0 + 2500), { ok: false, retryAfterS: 8 });
});

test('Retry-After is at least one second at a fast rate', () => {
  const limiter = new RateLimiter({ ratePerSecond: 1000, burst: 2 });
  takeMany(limiter, 'a', 2, T0);
  assert.deepEqual(limiter.take('a', T0), { ok: false, retryAfterS: 1 });
});

test('tokens refill at the configured rate', () => {
  const limiter = new RateLimiter({ ratePerSecond: 2, burst: 4 });
  takeMany(limiter, 'a', 4, T0);
  assert.deepEqual(limiter.take('a', T0 + 499), { ok: false, retryAfterS: 1 });
  assert.deepEqual(limiter.take('a', T0 + 500), { ok: true });
  assert.deepEqual(limiter.take('a', T0 + 500), { ok: false, retryAfterS: 1 });
  assert.deepEqual(takeMany(limiter, 'a', 2, T0 + 1500), [{ ok: true }, { ok: true }]);
  assert.deepEqual(limiter.take('a', T0 + 1500), { ok: false, retryAfterS: 1 });
});

test('refilling never goes above the burst', () => {
  const limiter = new RateLimiter({ ratePerSecond: 10, burst: 3 });
  limiter.take('a', T0);
  const later = T0 + 60_000;
  assert.deepEqual(takeMany(limiter, 'a', 4, later), [{ ok: true }, { ok: true }, { ok: true }, { ok: false, retryAfterS: 1 }]);
});

test('keys have separate buckets', () => {
  const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1 });
  assert.deepEqual(limiter.take('a', T0), { ok: true });
  assert.deepEqual(limiter.take('a', T0), { ok: false, retryAfterS: 1 });
  assert.deepEqual(limiter.take('b', T0), { ok: true });
});

test('a clock stepping back refills nothing', () => {
  const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1 });
  limiter.take('a', T0);
  assert.deepEqual(limiter.take('a', T0 - 10_000), { ok: false, retryAfterS: 1 });
});

test('buckets idle long enough to be full again are dropped', () => {
  const limiter = new RateLimiter({ ratePerSecond: 1, burst: 2 });
  for (let i = 0; i < 100; i++) limiter.take(`k${i}`, T0);
  assert.equal(limiter.size, 100);
  limiter.take('fresh', T0 + 2000);
  assert.equal(limiter.size, 1);
});

test('past maxKeys the least recently used bucket is dropped', () => {
  const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1, maxKeys: 3 });
  for (const key of ['a', 'b', 'c']) limiter.take(key, T0);
  limiter.take('a', T0 + 1);
  limiter.take('d', T0 + 2);
  assert.equal(limiter.size, 3);
  // 'b' was the least recently used, so it starts over with a full bucket; 'a' is still spent.
  assert.deepEqual(limiter.take('b', T0 + 3), { ok: true });
  assert.deepEqual(limiter.take('a', T0 + 3), { ok: false, retryAfterS: 1 });
});

test('a non-positive rate or a burst below one is refused', () => {
  assert.throws(() => new RateLimiter({ ratePerSecond: 0, burst: 1 }), /ratePerSecond is 0: expected a finite number > 0/);
  assert.throws(() => new RateLimiter({ ratePerSecond: 1, burst: 0.5 }), /burst is 0.5: expected a finite number ≥ 1/);
});
