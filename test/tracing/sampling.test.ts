import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { isSampled, makeSampler, samplingThreshold } from '../../src/tracing/sampling';
import { samplingVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const { cases } = samplingVectors();
const MAX_UINT64 = (1n << 64n) - 1n;

function hashOf(traceId: string): bigint {
  return createHash('md5').update(traceId, 'latin1').digest().readBigUInt64BE(0);
}

test('sampling.json holds cases to check', () => {
  assert.ok(cases.length > 0);
});

test('isSampled gives the vector decision for every case in sampling.json', () => {
  for (const c of cases) {
    assert.equal(isSampled(c.trace_id, c.rate), c.sampled, `${c.trace_id} at rate ${c.rate}`);
  }
});

test('makeSampler gives the vector decision for every case in sampling.json', () => {
  for (const c of cases) {
    assert.equal(makeSampler(c.rate)(c.trace_id), c.sampled, `${c.trace_id} at rate ${c.rate}`);
  }
});

test('the threshold equals the reference implementation\'s int(rate * (2**64 - 1))', () => {
  // Expected values printed by Python 3: int(rate * (2**64 - 1)).
  const expected: [number, bigint][] = [
    [0.5, 9223372036854775808n],
    [0.1, 1844674407370955264n],
    [1 / 3, 6148914691236516864n],
    [0.999, 18428297329635842048n],
    [1 - 2 ** -53, 18446744073709549568n],
    [2 ** -64, 1n],
    [5e-324, 0n],
  ];
  for (const [rate, threshold] of expected) {
    assert.equal(samplingThreshold(rate), threshold, `rate ${rate}`);
  }
});

test('rate 1 or more samples everything; 0, negatives and NaN sample nothing', () => {
  assert.equal(samplingThreshold(1), MAX_UINT64);
  assert.equal(samplingThreshold(7), MAX_UINT64);
  for (const rate of [0, -0, -1, Number.NaN]) {
    assert.equal(samplingThreshold(rate), -1n, `rate ${rate}`);
  }
  const id = cases[0]!.trace_id;
  assert.equal(isSampled(id, 1.5), true);
  assert.equal(makeSampler(1.5)(id), true);
  assert.equal(isSampled(id, Number.NaN), false);
  assert.equal(makeSampler(-0.1)(id), false);
});

test('makeSampler matches the bigint comparison when hash and threshold share their high 32 bits', () => {
  // A rate just around each id's own hash puts the decision on the low 32 bits.
  for (let i = 0; i < 2000; i++) {
    const id = randomBytes(16).toString('hex');
    const hash = hashOf(id);
    const rate = Number(hash) / 2 ** 64;
    for (const r of [rate, rate * (1 - 2 ** -52), rate * (1 + 2 ** -52)]) {
      const threshold = samplingThreshold(r);
      assert.equal(makeSampler(r)(id), hash <= threshold, `${id} at rate ${r}`);
      assert.equal(isSampled(id, r), hash <= threshold, `${id} at rate ${r}`);
    }
  }
});

test('rate 0.25 samples 25% ± 1.5% of 20000 random trace ids', () => {
  const sample = makeSampler(0.25);
  let kept = 0;
  for (let i = 0; i < 20000; i++) {
    if (sample(randomBytes(16).toString('hex'))) kept++;
  }
  const share = kept / 20000;
  assert.ok(Math.abs(share - 0.25) <= 0.015, `sampled ${(share * 100).toFixed(2)}%`);
});
