/**
 * Batches shaped exactly as the published Teracron Python SDK 0.6.1 sends them (compact JSON in
 * its field order, `metadata: null` when nothing was captured, children before their parent,
 * event batches typed "events" whose records carry `type`, `operation` and error fields, ids
 * from a propagation header in uppercase, float NaN written by json.dumps), sealed and posted to
 * a real collector process on the paths its builds use. Times are recent, not the fixed dates
 * of a fixture, because the collector refuses what its retention would delete.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { loadPublicKey, sealEnvelope } from '../../src/wire/envelope';
import { fileTimeout } from '../helpers/file-timeout';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import type { CollectorProcess } from '../helpers/collector';
import { envelopeVectors } from '../helpers/vectors';

fileTimeout(90_000);

const vectors = envelopeVectors();
const publicKey = loadPublicKey(vectors.public_key_pem);
let collector: CollectorProcess;

before(async () => {
  collector = await startCollectorProcess(vectorDataDir());
});
after(async () => {
  await collector.stop();
});

const hex = (): string => randomBytes(16).toString('hex');

/** Posts the JSON text as the SDK does: sealed, octet-stream, X-Project-Slug, its User-Agent. */
async function postAsPython(path: string, json: string): Promise<{ status: number; body: any }> {
  const res = await request(`${collector.url}${path}`, {
    method: 'POST',
    body: sealEnvelope(Buffer.from(json, 'utf8'), publicKey),
    headers: { 'content-type': 'application/octet-stream', 'x-project-slug': vectors.slug, 'user-agent': 'teracron-sdk-python/0.6.1 python/3.12.3' },
  });
  return { status: res.statusCode, body: await res.body.json() };
}

interface PySpan {
  trace_id: string; span_id: string; parent_span_id: string | null; workflow: string; operation: string;
  status: 'succeeded' | 'failed'; started_at: number; duration_ms: number; error_type: string | null;
  error_message: string | null; metadata: string | null; captured_params: string | null;
}

/** One span in Span.to_dict order; metadata and captured_params are given as JSON text (null: none). */
function pySpan(s: PySpan): string {
  return `{"trace_id":"${s.trace_id}","span_id":"${s.span_id}","parent_span_id":${s.parent_span_id === null ? 'null' : `"${s.parent_span_id}"`},` +
    `"workflow":${JSON.stringify(s.workflow)},"operation":${JSON.stringify(s.operation)},"status":"${s.status}","started_at":${s.started_at},` +
    `"duration_ms":${s.duration_ms},"error_type":${JSON.stringify(s.error_type)},"error_message":${JSON.stringify(s.error_message)},` +
    `"metadata":${s.metadata ?? 'null'},"captured_params":${s.captured_params ?? 'null'}}`;
}

function pyTraceBatch(spans: PySpan[]): string {
  return `{"type":"trace","project_slug":"${vectors.slug}","spans":[${spans.map(pySpan).join(',')}]}`;
}

test('a trace batch as the Python SDK sends it (metadata null, the failed child first) is stored on both its paths', async () => {
  for (const path of ['/api/v1/traces', '/v1/traces']) {
    const traceId = hex();
    const rootId = hex();
    const childId = hex();
    const t0 = Date.now() - 5000;
    const child: PySpan = {
      trace_id: traceId, span_id: childId, parent_span_id: rootId, workflow: 'checkout', operation: 'charge_card', status: 'failed',
      started_at: t0 + 8, duration_ms: 41.27618799999755, error_type: 'CardDeclinedError', error_message: 'card declined: insufficient funds',
      metadata: null, captured_params: '{"order_id":"ORD-1042","amount":49.99}',
    };
    const root: PySpan = {
      trace_id: traceId, span_id: rootId, parent_span_id: null, workflow: 'checkout', operation: 'process_order', status: 'succeeded',
      started_at: t0, duration_ms: 52.93844600000011, error_type: null, error_message: null, metadata: null, captured_params: null,
    };
    const answer = await postAsPython(path, pyTraceBatch([child, root]));
    assert.equal(answer.status, 202, `${path}: ${JSON.stringify(answer.body)}`);
    assert.deepEqual(answer.body, { accepted: 2, dropped: 0 });

    const trace = await query(collector.url, `/api/v1/traces/${traceId}`);
    assert.equal(trace.status, 200);
    assert.deepEqual(trace.body.spans.map((s: { operation: string }) => s.operation), ['process_order', 'charge_card']);
    assert.deepEqual(trace.body.spans[0].metadata, {});
    assert.deepEqual(trace.body.spans[0].captured_params, {});
    assert.deepEqual(trace.body.spans[1].captured_params, { order_id: 'ORD-1042', amount: 49.99 });
    const runs = await query(collector.url, '/api/v1/events?workflow=checkout&limit=100');
    const run = runs.body.events.find((r: { trace_id: string }) => r.trace_id === traceId);
    assert.deepEqual(
      { status: run.status, duration_ms: run.duration_ms, span_count: run.span_count, error_summary: run.error_summary },
      { status: 'succeeded', duration_ms: 52.93844600000011, span_count: 2, error_summary: 'CardDeclinedError: card declined: insufficient funds' },
    );
  }
});

test('an event batch as the Python SDK sends it ("events", type, operation, error fields) is stored mapped to SPEC events', async () => {
  const traceId = hex();
  const rootId = hex();
  const childId = hex();
  const t0 = Date.now() - 4000;
  const json =
    `{"type":"events","project_slug":"${vectors.slug}","events":[` +
    `{"type":"workflow_started","workflow":"py-events","trace_id":"${traceId}","span_id":"${rootId}","operation":"process_order","severity":"info","timestamp":${t0}},` +
    `{"type":"step_failed","workflow":"py-events","trace_id":"${traceId}","span_id":"${childId}","operation":"charge_card","severity":"error","timestamp":${t0 + 49},"error_type":"CardDeclinedError","error_message":"card declined: insufficient funds","metadata":{"duration_ms":41.28}},` +
    `{"type":"workflow_completed","workflow":"py-events","trace_id":"${traceId}","span_id":"${rootId}","operation":"process_order","severity":"info","timestamp":${t0 + 53},"metadata":{"duration_ms":52.94}}]}`;
  for (const path of ['/api/v1/events', '/v1/events']) {
    const answer = await postAsPython(path, json);
    assert.equal(answer.status, 202, `${path}: ${JSON.stringify(answer.body)}`);
    assert.deepEqual(answer.body, { accepted: 3, dropped: 0 });
  }
  const recorded = await query(collector.url, '/api/v1/recorded-events?workflow=py-events&limit=100');
  const failed = recorded.body.events.filter((e: { event_type: string }) => e.event_type === 'step_failed');
  assert.equal(failed.length, 2, 'both posts stored (no batch_id, so no dedupe)');
  assert.deepEqual(
    { name: failed[0].name, message: failed[0].message, severity: failed[0].severity, metadata: failed[0].metadata, trace_id: failed[0].trace_id },
    { name: 'charge_card', message: 'card declined: insufficient funds', severity: 'error', metadata: { duration_ms: 41.28, error_type: 'CardDeclinedError' }, trace_id: traceId },
  );
  const started = recorded.body.events.find((e: { event_type: string }) => e.event_type === 'workflow_started');
  assert.equal(started.name, 'process_order');
});

test('ids propagated in uppercase are stored lowercase, a long URL path is clipped, NaN metadata is kept as text', async () => {
  const traceId = hex();
  const spanId = hex();
  const parentId = hex();
  const operation = `GET /search/${'x'.repeat(400)}`;
  const json =
    `{"type":"trace","project_slug":"${vectors.slug}","spans":[{"trace_id":"${traceId.toUpperCase()}","span_id":"${spanId}","parent_span_id":"${parentId.toUpperCase()}",` +
    `"workflow":"http","operation":${JSON.stringify(operation)},"status":"succeeded","started_at":${Date.now() - 3000},"duration_ms":3.5,` +
    `"error_type":null,"error_message":null,"metadata":{"ratio":NaN,"limit":Infinity,"floor":-Infinity,"note":"NaN stays text"},"captured_params":null}]}`;
  const answer = await postAsPython('/api/v1/traces', json);
  assert.equal(answer.status, 202, JSON.stringify(answer.body));
  const stored = await query(collector.url, `/api/v1/spans/${spanId}`);
  assert.equal(stored.status, 200);
  assert.equal(stored.body.trace_id, traceId);
  assert.equal(stored.body.parent_span_id, parentId);
  assert.equal(stored.body.operation, operation.slice(0, 256));
  assert.deepEqual(stored.body.metadata, { ratio: 'NaN', limit: 'Infinity', floor: '-Infinity', note: 'NaN stays text' });
});

test('a trace continued from another service (its root never arrives) has this service\'s status and duration, and its workflow an average', async () => {
  const remoteParent = hex();
  const workflow = `continued-${hex().slice(0, 8)}`;
  const traceIds: string[] = [];
  for (let i = 0; i < 3; i++) {
    const traceId = hex();
    traceIds.push(traceId);
    const entry = hex();
    const t0 = Date.now() - 2000;
    const spans: PySpan[] = [
      { trace_id: traceId, span_id: hex(), parent_span_id: entry, workflow, operation: 'db.query', status: 'succeeded', started_at: t0 + 2, duration_ms: 5, error_type: null, error_message: null, metadata: null, captured_params: null },
      { trace_id: traceId, span_id: entry, parent_span_id: remoteParent, workflow, operation: 'GET /orders', status: i === 2 ? 'failed' : 'succeeded', started_at: t0, duration_ms: 10 * (i + 1), error_type: i === 2 ? 'HTTPError' : null, error_message: i === 2 ? '502' : null, metadata: null, captured_params: null },
    ];
    assert.equal((await postAsPython('/api/v1/traces', pyTraceBatch(spans))).status, 202);
  }
  const runs = (await query(collector.url, `/api/v1/events?workflow=${workflow}&limit=10`)).body.events;
  assert.deepEqual(
    runs.map((r: { trace_id: string; operation: string; status: string; duration_ms: number }) => [r.trace_id, r.operation, r.status, r.duration_ms]).reverse(),
    [[traceIds[0], 'GET /orders', 'succeeded', 10], [traceIds[1], 'GET /orders', 'succeeded', 20], [traceIds[2], 'GET /orders', 'failed', 30]],
  );
  const listed = (await query(collector.url, '/api/v1/workflows?limit=100')).body.workflows.find((w: { workflow: string }) => w.workflow === workflow);
  assert.equal(listed.total_runs, 3);
  assert.equal(listed.failed_runs, 1);
  assert.equal(listed.avg_duration_ms, 20);
  for (const key of Object.keys(listed)) assert.notEqual(listed[key], null, `workflows[].${key} is null`);
});

test('a root and its child failing in the same millisecond give the root\'s error, whichever span id is smaller', async () => {
  const workflow = `same-ms-${hex().slice(0, 8)}`;
  const summaries: string[] = [];
  // Ids chosen so that the child's id sorts before the root's in one trace and after in the other.
  for (const [rootId, childId] of [['f'.repeat(32), hex().replace(/^./, '0')], [hex().replace(/^./, '0'), 'f'.repeat(31) + 'e']] as const) {
    const traceId = hex();
    const t0 = Date.now() - 1000;
    const spans: PySpan[] = [
      { trace_id: traceId, span_id: childId, parent_span_id: rootId, workflow, operation: 'validate', status: 'failed', started_at: t0, duration_ms: 1, error_type: 'ValueError', error_message: 'bad sku', metadata: null, captured_params: null },
      { trace_id: traceId, span_id: rootId, parent_span_id: null, workflow, operation: 'POST /orders', status: 'failed', started_at: t0, duration_ms: 2, error_type: 'HTTPError', error_message: '400 Bad Request', metadata: null, captured_params: null },
    ];
    assert.equal((await postAsPython('/api/v1/traces', pyTraceBatch(spans))).status, 202);
    const run = (await query(collector.url, `/api/v1/events?workflow=${workflow}&limit=10`)).body.events.find((r: { trace_id: string }) => r.trace_id === traceId);
    summaries.push(run.error_summary);
  }
  assert.deepEqual(summaries, ['HTTPError: 400 Bad Request', 'HTTPError: 400 Bad Request']);
});
