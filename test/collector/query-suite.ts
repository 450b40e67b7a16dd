/**
 * The query API (QUERY_API.md) checked endpoint by endpoint against a collector process, with
 * the store it is given: query-api-sqlite.test.ts and query-api-clickhouse.test.ts run this same
 * suite, so both stores must answer the same JSON to the same batches.
 *
 * The batches exercise what makes runs hard: a root sent as `started` and finished later,
 * children arriving before their root, a trace whose root lives in another service, a root and
 * its child failing in the same millisecond, a batch sent twice, and times an hour apart for
 * `since`. Times are fixed (Nov 2025), so the collector keeps 3650 days.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { encodeBatch, INGEST_PATHS } from '../../src/wire/batch-codec';
import type { WireEvent, WireSpan } from '../../src/wire/batch-codec';
import { loadPublicKey, sealEnvelope } from '../../src/wire/envelope';
import { encodeMetricsBatch } from '../../src/wire/metrics-batch';
import type { MetricsBatch } from '../../src/wire/metrics-batch';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import type { CollectorProcess } from '../helpers/collector';
import { envelopeVectors } from '../helpers/vectors';

export const T0 = 1_763_700_000_000;
const HOUR = 3_600_000;
const vectors = envelopeVectors();
const publicKey = loadPublicKey(vectors.public_key_pem);

/** Trace ids share their first 8 characters (so that prefix is ambiguous); `c0dec0de0003` names trace 3. */
export const traceId = (n: number): string => `c0dec0de${n.toString(16).padStart(4, '0')}`.padEnd(32, '0');
export const spanId = (trace: number, n: number): string => (trace * 1000 + n).toString(16).padStart(32, '0');

export function span(trace: number, spanNo: number, parent: number | null, overrides: Partial<WireSpan> = {}): WireSpan {
  return {
    trace_id: traceId(trace),
    span_id: spanId(trace, spanNo),
    parent_span_id: parent === null ? null : spanId(trace, parent),
    workflow: 'checkout',
    operation: `op-${spanNo}`,
    status: 'succeeded',
    started_at: T0,
    duration_ms: 10,
    error_type: null,
    error_message: null,
    metadata: { step: spanNo },
    captured_params: {},
    ...overrides,
  };
}

function event(n: number, overrides: Partial<WireEvent> = {}): WireEvent {
  return {
    trace_id: null, span_id: null, workflow: null, event_type: 'custom', name: `event-${n}`, message: null,
    severity: 'info', timestamp: T0 + n * 1000, metadata: { n }, ...overrides,
  };
}

/** Posts a sealed batch to `url`; resolves with the status, body and headers. */
export async function post(url: string, path: string, plaintext: Uint8Array): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  const res = await request(`${url}${path}`, {
    method: 'POST',
    body: sealEnvelope(plaintext, publicKey),
    headers: { 'content-type': 'application/octet-stream', 'x-project-slug': vectors.slug },
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text === '' ? null : JSON.parse(text), headers: res.headers };
}

export function traceBatch(spans: WireSpan[], batchId: string): Uint8Array {
  return encodeBatch({ type: 'trace', project_slug: vectors.slug, batch_id: batchId, spans, resource: resource('shop', 4242) }, 'msgpack');
}

function resource(service: string, pid: number): NonNullable<Parameters<typeof encodeBatch>[0]['resource']> {
  return { service, environment: 'test', host: 'h1', pid, sdk: { name: 'teracron-node', version: '0.1.0' }, runtime: { name: 'node', version: '20' } };
}

async function postTrace(url: string, spans: WireSpan[], batchId: string): Promise<any> {
  const res = await post(url, INGEST_PATHS.trace, traceBatch(spans, batchId));
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body;
}

/** Batch 1 of the suite: everything but the late roots. */
const FIRST_SPANS: WireSpan[] = [
  // Trace 1: a failed checkout whose root and a child fail in the same millisecond, the child
  // sent first; the run's error is the root's (the parent comes first in a tie).
  span(1, 2, 1, { status: 'failed', started_at: T0, duration_ms: 5, error_type: 'CardError', error_message: 'declined' }),
  span(1, 1, null, { operation: 'POST /checkout', status: 'failed', started_at: T0, duration_ms: 40, error_type: 'CheckoutError', error_message: 'payment failed' }),
  span(1, 3, 1, { started_at: T0 + 10, duration_ms: 4 }),
  // Trace 2: a succeeded checkout.
  span(2, 1, null, { operation: 'POST /checkout', started_at: T0 + 1000, duration_ms: 80 }),
  span(2, 2, 1, { started_at: T0 + 1010, duration_ms: 20 }),
  // Trace 3: the root is still running (its `started` record), a child finished.
  span(3, 1, null, { operation: 'POST /checkout', status: 'started', started_at: T0 + 2000, duration_ms: 0 }),
  span(3, 2, 1, { started_at: T0 + 2005, duration_ms: 7 }),
  // Trace 4: continued from a service that never reports here: no root, the earliest stands in.
  span(4, 2, 1, { workflow: 'search', operation: 'GET /search', started_at: T0 + 3000, duration_ms: 33.5 }),
  span(4, 3, 2, { workflow: 'search', operation: 'query', started_at: T0 + 3001, duration_ms: 30 }),
  // Trace 5: children first; the root comes in the second batch.
  span(5, 2, 1, { workflow: 'search', operation: 'fetch', started_at: T0 + 4002, duration_ms: 9 }),
  // Trace 6: an hour later, another workflow.
  span(6, 1, null, { workflow: 'report', operation: 'nightly', started_at: T0 + HOUR + 5000, duration_ms: 1500 }),
];
const SECOND_SPANS: WireSpan[] = [
  span(3, 1, null, { operation: 'POST /checkout', status: 'succeeded', started_at: T0 + 2000, duration_ms: 300 }),
  span(5, 1, null, { workflow: 'search', operation: 'GET /search', status: 'failed', started_at: T0 + 4000, duration_ms: 25, error_type: null, error_message: 'no index' }),
];
const FIRST_BATCH = 'a1'.repeat(16);
const SECOND_BATCH = 'a2'.repeat(16);

const EVENTS: WireEvent[] = [
  event(1, { event_type: 'info', name: 'release 1.2', message: 'rolled out', workflow: 'checkout' }),
  event(2, { event_type: 'error', name: 'card declined', severity: 'error', trace_id: traceId(1), span_id: spanId(1, 1), workflow: 'checkout' }),
  // Twelve in one millisecond: newest first means the batch's last first.
  ...Array.from({ length: 12 }, (_, i) => event(100 + i, { timestamp: T0 + 5000 })),
];

const METRICS: MetricsBatch = {
  sdk_version: '0.1.0',
  runtime_version: '20.20.2',
  service: 'shop',
  host: 'h1',
  entries: [0, 1, 2].map((i) => ({
    timestamp: T0 + i * 1000, heap_total: 100 + i, heap_used: 50 + i, rss: 200 + i, external: 1, array_buffers: 2,
    cpu_usage_pct: 3 + i, event_loop_lag: 1, uss: 150 + i, pid: 101, ppid: i === 2 ? undefined : 1, command: 'node shop.js',
    threads: 7, dropped_ring_full: 0, spooled: 1000 * i, replayed: 0, spool_bytes: 4096 * i,
  })),
};
const OTHER_METRICS: MetricsBatch = {
  sdk_version: '0.1.0',
  runtime_version: '20.20.2',
  service: 'payments',
  entries: [{ timestamp: T0 + 500, heap_total: 1, heap_used: 1, rss: 1, external: 0, array_buffers: 0, cpu_usage_pct: 0, event_loop_lag: 0, pid: 202 }],
};

/** Sends the suite's batches to a collector; shared with the cross-store comparison. */
export async function sendSuiteData(url: string): Promise<void> {
  const first = await postTrace(url, FIRST_SPANS, FIRST_BATCH);
  assert.equal(first.accepted, FIRST_SPANS.length);
  await postTrace(url, SECOND_SPANS, SECOND_BATCH);
  const events = await post(url, INGEST_PATHS.event, encodeBatch({ type: 'event', project_slug: vectors.slug, batch_id: 'e1'.repeat(16), events: EVENTS, resource: resource('shop', 4242) }, 'msgpack'));
  assert.equal(events.status, 202, JSON.stringify(events.body));
  for (const batch of [METRICS, OTHER_METRICS]) {
    const metrics = await post(url, INGEST_PATHS.metrics, encodeMetricsBatch(batch));
    assert.equal(metrics.status, 202, JSON.stringify(metrics.body));
  }
}

/** Every query the suite makes, for comparing two stores' answers. */
export const SUITE_QUERIES = [
  '/api/v1/events?limit=1000',
  '/api/v1/events?workflow=checkout',
  '/api/v1/events?status=failed',
  '/api/v1/events?status=in_progress',
  '/api/v1/events?status=succeeded&limit=2',
  `/api/v1/events?since=${new Date(T0 + HOUR).toISOString()}`,
  '/api/v1/workflows',
  '/api/v1/workflows?limit=1',
  `/api/v1/workflows?since=${new Date(T0 + HOUR).toISOString()}`,
  `/api/v1/traces/${traceId(1)}`,
  `/api/v1/traces/${traceId(4)}`,
  `/api/v1/traces/${traceId(3).slice(0, 12)}`,
  `/api/v1/spans/${spanId(1, 2)}`,
  `/api/v1/spans/${spanId(3, 1)}`,
  '/api/v1/recorded-events?limit=5',
  '/api/v1/recorded-events?type=info',
  '/api/v1/recorded-events?workflow=checkout',
  '/api/v1/metrics',
  '/api/v1/metrics?pid=101&limit=2',
  '/api/v1/metrics?service=payments',
  `/api/v1/metrics?from=${T0 + 1000}&to=${T0 + 1000}`,
];

/**
 * Defines the suite's tests. `storeArg` gives the collector's --store value; it is called in
 * the suite's `before`, which may run alongside the caller's own, so it must start what it needs.
 */
export function defineQuerySuite(storeArg: () => string | Promise<string>): void {
  let collector: CollectorProcess;
  const get = async (path: string): Promise<any> => {
    const res = await query(collector.url, path);
    assert.equal(res.status, 200, `${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  before(async () => {
    collector = await startCollectorProcess(vectorDataDir(), ['--store', await storeArg(), '--retention-days', '3650']);
    await sendSuiteData(collector.url);
  });
  after(async () => {
    await collector?.stop();
  });

  test('runs: one per trace, newest first, with the root\'s fields, the span count and the first failed span\'s error', async () => {
    const { events } = await get('/api/v1/events?limit=1000');
    assert.deepEqual(events, [
      { trace_id: traceId(6), workflow: 'report', operation: 'nightly', status: 'succeeded', started_at: T0 + HOUR + 5000, duration_ms: 1500, span_count: 1, error_summary: null },
      { trace_id: traceId(5), workflow: 'search', operation: 'GET /search', status: 'failed', started_at: T0 + 4000, duration_ms: 25, span_count: 2, error_summary: 'no index' },
      { trace_id: traceId(4), workflow: 'search', operation: 'GET /search', status: 'succeeded', started_at: T0 + 3000, duration_ms: 33.5, span_count: 2, error_summary: null },
      { trace_id: traceId(3), workflow: 'checkout', operation: 'POST /checkout', status: 'succeeded', started_at: T0 + 2000, duration_ms: 300, span_count: 2, error_summary: null },
      { trace_id: traceId(2), workflow: 'checkout', operation: 'POST /checkout', status: 'succeeded', started_at: T0 + 1000, duration_ms: 80, span_count: 2, error_summary: null },
      { trace_id: traceId(1), workflow: 'checkout', operation: 'POST /checkout', status: 'failed', started_at: T0, duration_ms: 40, span_count: 3, error_summary: 'CheckoutError: payment failed' },
    ]);
  });

  test('runs: workflow, status, limit and since filter; a bad status is a 400', async () => {
    const ids = async (path: string): Promise<string[]> => ((await get(path)).events as Array<{ trace_id: string }>).map((r) => r.trace_id);
    assert.deepEqual(await ids('/api/v1/events?workflow=checkout'), [traceId(3), traceId(2), traceId(1)]);
    assert.deepEqual(await ids('/api/v1/events?status=failed'), [traceId(5), traceId(1)]);
    assert.deepEqual(await ids('/api/v1/events?status=in_progress'), []);
    assert.deepEqual(await ids('/api/v1/events?status=succeeded&limit=2'), [traceId(6), traceId(4)]);
    assert.deepEqual(await ids('/api/v1/events?workflow=search&status=succeeded'), [traceId(4)]);
    assert.deepEqual(await ids(`/api/v1/events?since=${new Date(T0 + 2000).toISOString()}`), [traceId(6), traceId(5), traceId(4), traceId(3)]);
    assert.equal((await query(collector.url, '/api/v1/events?status=lost')).status, 400);
  });

  test('workflows: counts, average and percentiles of finished runs, most recently run first; since counts whole hours', async () => {
    const { workflows } = await get('/api/v1/workflows');
    assert.deepEqual(workflows.map((w: { workflow: string }) => w.workflow), ['report', 'search', 'checkout']);
    const checkout = workflows[2];
    assert.equal(checkout.total_runs, 3);
    assert.equal(checkout.failed_runs, 1);
    assert.equal(checkout.avg_duration_ms, (40 + 80 + 300) / 3);
    assert.equal(checkout.last_run_at, T0 + 2000);
    // Percentiles come from 1 %-accurate buckets: within 1 % of the nearest-rank values.
    for (const [field, exact] of [['p50_duration_ms', 80], ['p95_duration_ms', 300], ['p99_duration_ms', 300]] as const) {
      assert.ok(Math.abs(checkout[field] - exact) <= exact * 0.01, `${field} ${checkout[field]} vs ${exact}`);
    }
    const search = workflows[1];
    assert.deepEqual([search.total_runs, search.failed_runs, search.avg_duration_ms, search.last_run_at], [2, 1, (33.5 + 25) / 2, T0 + 4000]);
    assert.deepEqual((await get('/api/v1/workflows?limit=1')).workflows.map((w: { workflow: string }) => w.workflow), ['report']);
    // Since a time within the report's hour: only the report's run counts.
    const later = await get(`/api/v1/workflows?since=${new Date(T0 + HOUR + 60_000).toISOString()}`);
    assert.deepEqual(later.workflows.map((w: { workflow: string; total_runs: number }) => [w.workflow, w.total_runs]), [['report', 1]]);
  });

  test('a trace: every span once, parents before children, the finished record in place of the started one', async () => {
    const trace = await get(`/api/v1/traces/${traceId(1)}`);
    assert.equal(trace.trace_id, traceId(1));
    assert.deepEqual(trace.spans.map((s: WireSpan) => s.span_id), [spanId(1, 1), spanId(1, 2), spanId(1, 3)]);
    assert.deepEqual(trace.spans[0], FIRST_SPANS[1]);
    const three = await get(`/api/v1/traces/${traceId(3)}`);
    assert.deepEqual(three.spans.map((s: WireSpan) => [s.span_id, s.status, s.duration_ms]), [[spanId(3, 1), 'succeeded', 300], [spanId(3, 2), 'succeeded', 7]]);
    // A root elsewhere: the spans are all there, the first one's parent is not.
    const four = await get(`/api/v1/traces/${traceId(4)}`);
    assert.deepEqual(four.spans.map((s: WireSpan) => s.span_id), [spanId(4, 2), spanId(4, 3)]);
    assert.equal(four.spans[0].started_at, T0 + 3000);
  });

  test('a trace by a prefix of its id; an unknown id is a 404, an ambiguous prefix a 409, a bad id a 400', async () => {
    const byPrefix = await get(`/api/v1/traces/${traceId(3).slice(0, 12)}`);
    assert.equal(byPrefix.trace_id, traceId(3));
    assert.equal((await query(collector.url, `/api/v1/traces/${traceId(99)}`)).status, 404);
    const ambiguous = await query(collector.url, `/api/v1/traces/${traceId(1).slice(0, 8)}`);
    assert.equal(ambiguous.status, 409);
    assert.deepEqual(ambiguous.body.matches, [traceId(1), traceId(2), traceId(3), traceId(4), traceId(5)]);
    assert.equal((await query(collector.url, '/api/v1/traces/XYZ')).status, 400);
  });

  test('a span by its id, with its trace id; an unknown one is a 404', async () => {
    assert.deepEqual(await get(`/api/v1/spans/${spanId(1, 2)}`), FIRST_SPANS[0]);
    assert.deepEqual(await get(`/api/v1/spans/${spanId(3, 1)}`), SECOND_SPANS[0]);
    assert.equal((await query(collector.url, `/api/v1/spans/${traceId(77)}`)).status, 404);
  });

  test('recorded events: newest first (a batch\'s last first within a millisecond), by type, by workflow, limited', async () => {
    const newest = await get('/api/v1/recorded-events?limit=5');
    assert.deepEqual(newest.events.map((e: WireEvent) => e.name), ['event-111', 'event-110', 'event-109', 'event-108', 'event-107']);
    const infos = await get('/api/v1/recorded-events?type=info');
    assert.deepEqual(infos.events, [EVENTS[0]]);
    const checkout = await get('/api/v1/recorded-events?workflow=checkout');
    assert.deepEqual(checkout.events, [EVENTS[1], EVENTS[0]]);
    assert.equal((await get('/api/v1/recorded-events?limit=1000')).events.length, EVENTS.length);
  });

  test('metrics: samples oldest first with every field, the processes with their latest ppid and command, the services', async () => {
    const all = await get('/api/v1/metrics');
    assert.deepEqual(all.samples.map((s: { timestamp: number; pid: number }) => [s.timestamp, s.pid]), [[T0, 101], [T0 + 500, 202], [T0 + 1000, 101], [T0 + 2000, 101]]);
    const last = all.samples[3];
    assert.deepEqual(
      [last.heap_total, last.uss, last.pss, last.ppid, last.command, last.threads, last.dropped_ring_full, last.send_retries, last.service, last.host, last.sdk_version, last.runtime_version],
      [102, 152, null, null, 'node shop.js', 7, 0, null, 'shop', 'h1', '0.1.0', '20.20.2'],
    );
    assert.deepEqual(
      [last.spooled, last.replayed, last.dropped_spool_full, last.spool_bytes, all.samples[0].spooled],
      [2000, 0, null, 8192, 0],
    );
    assert.deepEqual(all.pids, [
      { pid: 101, ppid: 1, command: 'node shop.js', service: 'shop', host: 'h1', first_seen: T0, last_seen: T0 + 2000, samples: 3 },
      { pid: 202, ppid: null, command: null, service: 'payments', host: null, first_seen: T0 + 500, last_seen: T0 + 500, samples: 1 },
    ]);
    assert.deepEqual(all.services, ['payments', 'shop']);
    const latestTwo = await get('/api/v1/metrics?pid=101&limit=2');
    assert.deepEqual(latestTwo.samples.map((s: { timestamp: number }) => s.timestamp), [T0 + 1000, T0 + 2000]);
    assert.deepEqual((await get('/api/v1/metrics?service=payments')).samples.map((s: { pid: number }) => s.pid), [202]);
    assert.deepEqual((await get(`/api/v1/metrics?from=${T0 + 1000}&to=${T0 + 1000}`)).samples.map((s: { timestamp: number }) => s.timestamp), [T0 + 1000]);
  });

  test('a batch sent again is answered as a duplicate and stored once', async () => {
    const again = await postTrace(collector.url, FIRST_SPANS, FIRST_BATCH);
    assert.deepEqual(again, { accepted: 0, dropped: FIRST_SPANS.length, duplicate: true });
    const { events } = await get('/api/v1/events?limit=1000');
    assert.equal(events.length, 6);
    assert.equal(events.find((r: { trace_id: string }) => r.trace_id === traceId(1)).span_count, 3);
    assert.equal((await get(`/api/v1/traces/${traceId(1)}`)).spans.length, 3);
  });

  test('text with tabs, line breaks, backslashes, NULs, quotes and non-ASCII is stored and read back exactly', async () => {
    // Last in the suite: it adds a run and an event the tests above do not expect.
    const awkward = 'tab\there\nline\r\nback\\slash \\N \u0000nul "quoted" \'single\' é ✓ 😀 \\t';
    const spans = [span(800, 1, null, { workflow: `esc\t${awkward}`, operation: awkward, status: 'failed', error_type: 'E\tE', error_message: awkward,
      metadata: { [awkward]: awkward, n: 1.5, flag: true }, captured_params: { arg: awkward } })];
    assert.equal((await postTrace(collector.url, spans, 'a8'.repeat(16))).accepted, 1);
    const trace = await get(`/api/v1/traces/${traceId(800)}`);
    assert.deepEqual(trace.spans, spans.map((s) => ({ ...s, parent_span_id: null })));
    const events = await post(collector.url, INGEST_PATHS.event, encodeBatch({ type: 'event', project_slug: vectors.slug, batch_id: 'e8'.repeat(16),
      events: [event(800, { name: awkward, message: awkward, metadata: { text: awkward } })], resource: resource('shop', 4242) }, 'msgpack'));
    assert.equal(events.status, 202, JSON.stringify(events.body));
    const stored = (await get('/api/v1/recorded-events?limit=1')).events[0];
    assert.deepEqual([stored.name, stored.message, stored.metadata], [awkward, awkward, { text: awkward }]);
  });

  test('whoami names the project; a missing or unknown key is a 401', async () => {
    assert.deepEqual(await get('/v1/auth/whoami'), { project_slug: vectors.slug, authenticated: true });
    assert.equal((await query(collector.url, '/v1/auth/whoami', null)).status, 401);
    assert.equal((await query(collector.url, '/v1/auth/whoami', `tcn_${Buffer.from('nobody:nothing').toString('base64url')}`)).status, 401);
  });
}
