/**
 * The collector as a real process over loopback HTTP: the agent in a child process ships to
 * it, the independent implementation's vectors are accepted, bad input is refused without
 * touching what is stored, and committed batches survive kill -9.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { encodeApiKey } from '../../src/wire/api-key';
import { encodeBatch, newBatchId } from '../../src/wire/batch-codec';
import type { WireSpan } from '../../src/wire/batch-codec';
import { loadPublicKey, sealEnvelope } from '../../src/wire/envelope';
import { exitBudgetEnv, runFixture } from '../helpers/child';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import type { CollectorProcess } from '../helpers/collector';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const vectors = envelopeVectors();
const publicKey = loadPublicKey(vectors.public_key_pem);
let collector: CollectorProcess;

before(async () => {
  // Its batches carry fixed dates (as do the Python-made vectors), which a collector keeping
  // the default 7 days would refuse as outside its retention.
  collector = await startCollectorProcess(vectorDataDir(), ['--retention-days', '3650']);
});
after(async () => {
  await collector.stop();
});

async function post(path: string, body: Uint8Array, slug = vectors.slug, url = collector.url): Promise<{ status: number; body: any }> {
  const res = await request(`${url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream', 'x-project-slug': slug } });
  return { status: res.statusCode, body: await res.body.json() };
}

function span(overrides: Partial<WireSpan> = {}): WireSpan {
  return {
    trace_id: 'aa'.repeat(16),
    span_id: 'bb'.repeat(16),
    parent_span_id: null,
    workflow: 'manual',
    operation: 'op',
    status: 'succeeded',
    started_at: 1_763_700_000_000,
    duration_ms: 1.5,
    error_type: null,
    error_message: null,
    metadata: {},
    captured_params: {},
    ...overrides,
  };
}

function sealedTrace(spans: WireSpan[], batchId = newBatchId(), format: 'json' | 'msgpack' = 'msgpack'): Buffer {
  return sealEnvelope(encodeBatch({ type: 'trace', project_slug: vectors.slug, batch_id: batchId, spans }, format), publicKey);
}

async function counts(): Promise<{ runs: number }> {
  const { body } = await query(collector.url, '/api/v1/events?limit=1000');
  return { runs: body.events.length };
}

test('the agent in a child process ships 20,000 spans in nested traces, 100 events and metric samples; the query API returns them exactly', async () => {
  // The agent's own metrics loop is off: the fixture posts samples with known values instead.
  const env = { TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: collector.url, TERACRON_METRICS_ENABLED: '0', ...exitBudgetEnv, TRACES: '2000', EVENTS: '100', SAMPLES: '10' };
  const result = await runFixture('agent-to-collector', env, 60_000);
  assert.equal(result.code, 0, result.stderr);
  const metricsLine = result.lines.find((line) => 'metricsStatus' in line)!;
  assert.equal(metricsLine.metricsStatus, 202);
  const stats = (result.lines.find((line) => 'stats' in line) as { stats: Record<string, number> }).stats;
  assert.equal(stats.produced, 20_100);
  assert.equal(stats.sent, 20_100);

  const workflows = await query(collector.url, '/api/v1/workflows');
  const checkout = workflows.body.workflows.find((w: { workflow: string }) => w.workflow === 'checkout');
  assert.equal(checkout.total_runs, 2000);
  assert.equal(checkout.failed_runs, 0, 'a failed leaf handled by its step does not fail the run');

  const runs = await query(collector.url, '/api/v1/events?workflow=checkout&limit=1000');
  assert.equal(runs.status, 200);
  assert.equal(runs.body.events.length, 1000, 'limit is clamped to 1000');
  for (const run of runs.body.events) {
    assert.equal(run.span_count, 10);
    assert.equal(run.operation, 'placeOrder');
    assert.equal(run.status, 'succeeded');
  }
  const withErrors = runs.body.events.filter((run: { error_summary: string | null }) => run.error_summary !== null);
  for (const run of withErrors) assert.match(run.error_summary, /^Error: leaf 1 of order \d+7 failed$/);

  const { trace_id: traceId } = runs.body.events[0];
  const trace = await query(collector.url, `/api/v1/traces/${traceId}`);
  const spans: WireSpan[] = trace.body.spans;
  assert.equal(spans.length, 10);
  const root = spans[0]!;
  assert.equal(root.parent_span_id, null, 'the root comes first');
  assert.equal(root.operation, 'placeOrder');
  const order = root.metadata.order as number;
  assert.deepEqual(root.captured_params, { order });
  const steps = spans.filter((s) => s.parent_span_id === root.span_id);
  assert.equal(steps.length, 3);
  const seen = new Set<string>();
  for (const s of spans) {
    if (s.parent_span_id !== null) assert.ok(seen.has(s.parent_span_id), 'every parent precedes its children');
    seen.add(s.span_id);
    assert.equal(s.trace_id, traceId);
  }
  const leaves = spans.filter((s) => s.operation === 'leaf');
  assert.deepEqual(leaves.map((l) => l.metadata.k).sort(), [0, 1, 2, 3, 4, 5]);
  for (const l of leaves) assert.equal(l.metadata.order, order);

  const single = await query(collector.url, `/api/v1/spans/${leaves[0]!.span_id}`);
  assert.equal(single.status, 200);
  assert.deepEqual(single.body, leaves[0]);

  const recorded = await query(collector.url, '/api/v1/recorded-events?limit=1000');
  const placed = recorded.body.events.filter((e: { name: string }) => e.name === 'order.placed');
  assert.equal(placed.length, 100);
  assert.equal(placed.filter((e: { severity: string }) => e.severity === 'warning').length, 10);

  const metrics = await query(collector.url, `/api/v1/metrics?pid=${metricsLine.pid}`);
  assert.equal(metrics.body.samples.length, 10);
  assert.deepEqual(
    metrics.body.samples.map((s: { rss: number; uss: number; threads: number }) => [s.rss, s.uss, s.threads]),
    Array.from({ length: 10 }, (_, i) => [100_000_000 + i, 80_000_000 + i, 7]),
  );
});

test('the Python-made vector envelopes are accepted over HTTP and readable through the query API', async () => {
  const traceResult = await post('/api/v1/traces', Buffer.from(vectors.trace_batch.envelope_base64, 'base64'));
  assert.deepEqual([traceResult.status, traceResult.body.accepted], [202, 1]);
  const expected = JSON.parse(vectors.trace_batch.plaintext_utf8).spans[0] as WireSpan;
  const trace = await query(collector.url, `/api/v1/traces/${expected.trace_id}`);
  assert.deepEqual(trace.body.spans, [expected]);

  const metricsResult = await post('/api/ingest', Buffer.from(vectors.metrics_batch.envelope_base64, 'base64'));
  assert.deepEqual([metricsResult.status, metricsResult.body.accepted], [202, 2]);
  const metrics = await query(collector.url, `/api/v1/metrics?from=${vectors.metrics_batch.entries[0]!.timestamp}&to=${vectors.metrics_batch.entries[1]!.timestamp}`);
  const stored = metrics.body.samples.filter((s: { timestamp: number }) => s.timestamp === 1721500010000)[0];
  assert.equal(stored.rss, 8589934599);
  assert.equal(stored.cpu_usage_pct, 10000);
});

test('the same batch posted twice is stored once', async () => {
  const body = sealedTrace([span({ trace_id: 'c1'.repeat(16), span_id: 'c2'.repeat(16), workflow: 'twice' })]);
  const first = await post('/api/v1/traces', body);
  const second = await post('/api/v1/traces', body);
  assert.deepEqual([first.status, first.body], [202, { accepted: 1, dropped: 0 }]);
  assert.deepEqual([second.status, second.body], [202, { accepted: 0, dropped: 1, duplicate: true }]);
  const runs = await query(collector.url, '/api/v1/events?workflow=twice');
  assert.equal(runs.body.events.length, 1);
  assert.equal(runs.body.events[0].span_count, 1);
});

const otherKey = generateKeyPairSync('rsa', { modulusLength: 4096 });

for (const [name, makeRequest, status, error] of [
  ['an oversized body', () => post('/api/v1/traces', Buffer.alloc(8 * 1024 * 1024 + 1)), 413, /at most 8388608/],
  ['a truncated envelope', () => post('/api/v1/traces', sealedTrace([span({ workflow: 'bad-truncated' })]).subarray(0, 300)), 400, /truncated/],
  ['an unknown slug', () => post('/api/v1/traces', sealedTrace([span({ workflow: 'bad-slug' })]), 'brave-otter-123'), 401, /unknown project slug "brave-otter-123"/],
  ['a tampered tag', () => {
    const body = sealedTrace([span({ workflow: 'bad-tag' })]);
    body[530] = body[530]! ^ 0xff;
    return post('/api/v1/traces', body);
  }, 401, /tampered|authentic/i],
  ['an envelope sealed with another key', () => post('/api/v1/traces', sealEnvelope(encodeBatch({ type: 'trace', project_slug: vectors.slug, batch_id: newBatchId(), spans: [span({ workflow: 'bad-key' })] }, 'json'), otherKey.publicKey)), 401, /key/],
  ['a plaintext that is neither JSON nor msgpack', () => post('/api/v1/traces', sealEnvelope(Buffer.from('\x00\x01garbage'), publicKey)), 400, /neither JSON nor msgpack/],
  ['a span with a wrong type', () => post('/api/v1/traces', sealedTrace([span({ workflow: 'bad-type' }), span({ workflow: 'bad-type', duration_ms: 'slow' as unknown as number })])), 400, /spans\[1\]\.duration_ms/],
  ['a span with a bad id', () => post('/api/v1/traces', sealedTrace([span({ workflow: 'bad-id', trace_id: 'XYZ' })])), 400, /spans\[0\]\.trace_id/],
  ['a span with too many metadata keys', () => post('/api/v1/traces', sealedTrace([span({ workflow: 'bad-meta', metadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) })])), 400, /spans\[0\]\.metadata/],
  ['a trace batch sent to the events endpoint', () => post('/api/v1/events', sealedTrace([span({ workflow: 'bad-endpoint' })])), 400, /trace batch was sent to the event endpoint/],
] as const) {
  test(`${name} is refused with ${status}, stores nothing and leaves earlier data intact`, async () => {
    const before = await counts();
    const result = await (makeRequest as () => Promise<{ status: number; body: any }>)();
    assert.equal(result.status, status, JSON.stringify(result.body));
    assert.match(result.body.error, error as RegExp);
    assert.equal(typeof result.body.hint, 'string');
    assert.deepEqual(await counts(), before);
  });
}

test('queries: a non-hex id is a 400, an unknown one a 404', async () => {
  const bad = await query(collector.url, '/api/v1/traces/not-hex!');
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /not lowercase hex/);
  const missing = await query(collector.url, `/api/v1/traces/${'ab'.repeat(16)}`);
  assert.equal(missing.status, 404);
  const badLimit = await query(collector.url, '/api/v1/events?limit=lots');
  assert.equal(badLimit.status, 400);
  const badSince = await query(collector.url, '/api/v1/events?since=yesterday');
  assert.equal(badSince.status, 400);
});

test('queries: a missing, malformed or unknown Bearer key is a 401; another project\'s key sees none of this one', async () => {
  assert.equal((await query(collector.url, '/v1/auth/whoami', null)).status, 401);
  const malformed = await fetch(`${collector.url}/v1/auth/whoami`, { headers: { authorization: 'Basic abc' } });
  assert.equal(malformed.status, 401);
  const stranger = encodeApiKey('brave-otter-123', otherKey.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const unknown = await query(collector.url, '/v1/auth/whoami', stranger);
  assert.equal(unknown.status, 401);
  assert.match(unknown.body.error, /no project/);
  const whoami = await query(collector.url, '/v1/auth/whoami');
  assert.deepEqual(whoami.body, { project_slug: vectors.slug, authenticated: true });
});
