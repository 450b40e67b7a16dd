/**
 * Sampling through the public API: the decision function, the tracer at each rate of the shared
 * vectors (a continued trace is recorded exactly when the vector says so), and the kept share
 * over many traces, whole trees only.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { continueTrace, down, getTraceHeader, isSampled, trace, up } from '../../src/index';
import { loadPrivateKey } from '../../src/wire/envelope';
import { startReceiver } from '../helpers/receiver';
import type { Receiver } from '../helpers/receiver';
import { envelopeVectors, samplingVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';
import { EXIT_BUDGET_MS } from '../helpers/child';

fileTimeout(120_000);

const vectors = envelopeVectors();
const { cases } = samplingVectors();
let receiver: Receiver | null = null;

after(async () => {
  await down();
  await receiver?.close();
});

test('isSampled gives the shared vectors\' decision for every case', () => {
  for (const c of cases) assert.equal(isSampled(c.trace_id, c.rate), c.sampled, `${c.trace_id} at ${c.rate}`);
});

test('at each vector rate, a trace continued from a header is recorded exactly when the vectors say so', async () => {
  const rates = [...new Set(cases.map((c) => c.rate))];
  for (const rate of rates) {
    receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
    up({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS, traceSampleRate: rate });
    const step = trace('vector-sampling', function step() {});
    const ofRate = cases.filter((c) => c.rate === rate);
    for (const c of ofRate) continueTrace(c.trace_id, () => step());
    await down();
    await receiver.close();
    const recorded = new Set(receiver.spans.map((s) => s.trace_id));
    for (const c of ofRate) assert.equal(recorded.has(c.trace_id), c.sampled, `${c.trace_id} at rate ${rate}`);
  }
});

test('rate 0.25 over 20,000 traces keeps 25% ± 1.5% of them, whole trees only', async () => {
  receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  up({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS, traceSampleRate: 0.25 });
  const leaf = trace('quarter', function leaf() {});
  const middle = trace('quarter', function middle() {
    leaf();
    leaf();
  });
  const root = trace('quarter', function root() {
    middle();
  });
  for (let i = 0; i < 20_000; i++) root();
  await down();
  await receiver.close();
  const byTrace = new Map<string, string[]>();
  for (const s of receiver.spans) byTrace.set(s.trace_id, [...(byTrace.get(s.trace_id) ?? []), s.operation]);
  const kept = byTrace.size / 20_000;
  assert.ok(Math.abs(kept - 0.25) <= 0.015, `kept ${(kept * 100).toFixed(2)}%`);
  for (const [traceId, operations] of byTrace) {
    assert.deepEqual(operations.sort(), ['leaf', 'leaf', 'middle', 'root'], `trace ${traceId} is whole`);
  }
  for (const traceId of byTrace.keys()) assert.equal(isSampled(traceId, 0.25), true, 'the kept traces are the ones the hash keeps');
});

test('an unsampled trace runs the function as it is, records nothing, and still propagates its trace id', async () => {
  receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  const client = up({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS, traceSampleRate: 0 });
  let header: string | null = null;
  const inner = trace('unsampled', function inner(x: number) {
    header = getTraceHeader();
    return x * 2;
  });
  const outer = trace('unsampled', function outer(x: number) {
    return inner(x) + 1;
  });
  assert.equal(outer(20), 41);
  await down();
  await receiver.close();
  assert.equal(receiver.spans.length, 0);
  assert.equal(client.stats().produced, 0);
  assert.match(String(header), /^[0-9a-f]{32}$/, 'the header names the trace, so the next service decides the same');
  assert.equal(isSampled(String(header), 0), false);
});

test('tracingEnabled: false makes every wrapper a pass-through', async () => {
  receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  const client = up({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS, tracingEnabled: false });
  const add = trace('disabled', function add(this: { k: number }, a: number) {
    return this.k + a;
  });
  assert.equal(add.call({ k: 1 }, 2), 3);
  assert.equal(getTraceHeader(), null);
  await down();
  await receiver.close();
  assert.equal(receiver.spans.length, 0);
  assert.equal(client.stats().produced, 0);
});
