import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { makeIdSampler, md5HexIdPrefix } from '../../src/tracing/id-sampler';
import { isSampled, samplingThreshold } from '../../src/tracing/sampling';
import { idWordsFrom, idWordsToHex, newIdWords } from '../../src/recorder/ids';
import type { IdWords } from '../../src/recorder/ids';
import { samplingVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const { cases } = samplingVectors();

function md5Of(id: IdWords): Buffer {
  return createHash('md5').update(idWordsToHex(id), 'latin1').digest();
}

test('makeIdSampler gives the vector decision for every case in sampling.json', () => {
  assert.ok(cases.length > 0);
  for (const c of cases) {
    const id = idWordsFrom(c.trace_id);
    assert.ok(id, c.trace_id);
    assert.equal(makeIdSampler(c.rate)(id), c.sampled, `${c.trace_id} at rate ${c.rate}`);
  }
});

test('md5HexIdPrefix equals the first 8 bytes of node:crypto MD5 of the id hex', () => {
  for (let i = 0; i < 5000; i++) {
    const id = newIdWords();
    const digest = md5Of(id);
    assert.deepEqual(md5HexIdPrefix(id), [digest.readUInt32BE(0), digest.readUInt32BE(4)], idWordsToHex(id));
  }
});

test('md5HexIdPrefix matches node:crypto on ids of 0x00 and 0xff bytes and of every hex digit', () => {
  for (const hex of ['00000000000000000000000000000001', 'ffffffffffffffffffffffffffffffff', '0123456789abcdeffedcba9876543210']) {
    const id = idWordsFrom(hex)!;
    const digest = md5Of(id);
    assert.deepEqual(md5HexIdPrefix(id), [digest.readUInt32BE(0), digest.readUInt32BE(4)], hex);
  }
});

test('makeIdSampler agrees with isSampled on 20000 random ids at rates 0.01 to 0.999', () => {
  for (const rate of [0.01, 0.25, 0.5, 0.9, 0.999]) {
    const sample = makeIdSampler(rate);
    for (let i = 0; i < 20000; i++) {
      const id = newIdWords();
      const hex = idWordsToHex(id);
      assert.equal(sample(id), isSampled(hex, rate), `${hex} at rate ${rate}`);
    }
  }
});

test('makeIdSampler agrees with isSampled when hash and threshold share their high 32 bits', () => {
  // A rate just around each id's own hash puts the decision on the low 32 bits. A float rate
  // is only 53 bits, so when the hash's low word is within a few thousand of 2^32 the nudged
  // rate's threshold crosses into the next high word (seen once in CI: 3684205000 against
  // 3684204999); those cases still must agree, and nearly all cases share the high word.
  let shared = 0;
  let cases = 0;
  for (let i = 0; i < 2000; i++) {
    const id = newIdWords();
    const hex = idWordsToHex(id);
    const hash = md5Of(id).readBigUInt64BE(0);
    const rate = Number(hash) / 2 ** 64;
    for (const r of [rate, rate * (1 - 2 ** -52), rate * (1 + 2 ** -52)]) {
      cases++;
      if (samplingThreshold(r) >> 32n === hash >> 32n) shared++;
      assert.equal(makeIdSampler(r)(id), isSampled(hex, r), `${hex} at rate ${r}`);
    }
  }
  assert.ok(shared >= cases - 10, `${shared} of ${cases} thresholds share their id's high word`);
});

test('makeIdSampler agrees with isSampled on ids whose digest high word equals a fixed threshold\'s', () => {
  // Search random ids for a matching first digest byte, then set the rate so that the threshold's
  // high word is that id's while its low word stays that of a round rate.
  const base = samplingThreshold(0.3);
  const decisions = new Set<boolean>();
  let checked = 0;
  while (checked < 500) {
    const id = newIdWords();
    const digest = md5Of(id);
    if (digest[0] !== Number(base >> 56n)) continue;
    const threshold = (BigInt(digest.readUInt32BE(0)) << 32n) | (base & 0xffff_ff00n);
    const rate = Number(threshold) / 2 ** 64;
    assert.equal(samplingThreshold(rate) >> 32n, BigInt(digest.readUInt32BE(0)));
    const hex = idWordsToHex(id);
    const sampled = makeIdSampler(rate)(id);
    assert.equal(sampled, isSampled(hex, rate), `${hex} at rate ${rate}`);
    decisions.add(sampled);
    checked++;
  }
  assert.equal(decisions.size, 2, 'both decisions reached on the low word');
});

test('makeIdSampler samples everything at rate 1 or more and nothing at 0, negatives or NaN', () => {
  const ids = [newIdWords(), idWordsFrom(cases[0]!.trace_id)!];
  for (const id of ids) {
    for (const rate of [1, 1.5, Infinity]) assert.equal(makeIdSampler(rate)(id), true, `rate ${rate}`);
    for (const rate of [0, -0, -1, -Infinity, Number.NaN]) assert.equal(makeIdSampler(rate)(id), false, `rate ${rate}`);
  }
});
