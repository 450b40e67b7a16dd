/**
 * Several collectors behind one ClickHouse database: two collector processes, an agent shipping
 * to each, and both answering queries over everything; a batch retried into the other collector
 * (its first 202 lost) stored once, whether the retry comes after the first or races it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { INGEST_PATHS, newBatchId } from '../../src/wire/batch-codec';
import { exitBudgetEnv, runFixture } from '../helpers/child';
import { startClickHouse } from '../../support/clickhouse-server';
import type { ClickHouseServer } from '../../support/clickhouse-server';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import type { CollectorProcess } from '../helpers/collector';
import { fileTimeout } from '../helpers/file-timeout';
import { envelopeVectors } from '../helpers/vectors';
import { post, span, traceBatch, traceId } from './query-suite';

fileTimeout(240_000);

const vectors = envelopeVectors();
let server: ClickHouseServer;
let a: CollectorProcess;
let b: CollectorProcess;

before(async () => {
  server = await startClickHouse();
  // Each collector has its own data directory, holding the same project keys.
  [a, b] = await Promise.all([
    startCollectorProcess(vectorDataDir(), ['--store', server.storeUrl, '--retention-days', '3650']),
    startCollectorProcess(vectorDataDir(), ['--store', server.storeUrl, '--retention-days', '3650']),
  ]);
});
after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await server?.stop();
});

async function get(collector: CollectorProcess, path: string): Promise<any> {
  const res = await query(collector.url, path);
  assert.equal(res.status, 200, `${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

test('two agents, each shipping to its own collector: both collectors answer with everything both stored', async () => {
  const env = (collector: CollectorProcess) => ({
    TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: collector.url, TERACRON_METRICS_ENABLED: '0', ...exitBudgetEnv,
    TRACES: '1000', EVENTS: '40', SAMPLES: '5',
  });
  const agents = await Promise.all([runFixture('agent-to-collector', env(a), 90_000), runFixture('agent-to-collector', env(b), 90_000)]);
  for (const agent of agents) {
    assert.equal(agent.code, 0, agent.stderr);
    const stats = (agent.lines.find((line) => 'stats' in line) as { stats: Record<string, number> }).stats;
    // 1000 traces of 10 spans, and 40 events.
    assert.equal(stats.sent, 10_040);
  }
  for (const collector of [a, b]) {
    const { workflows } = await get(collector, '/api/v1/workflows');
    const checkout = workflows.find((w: { workflow: string }) => w.workflow === 'checkout');
    assert.equal(checkout.total_runs, 2000, `${collector.url}: ${JSON.stringify(workflows)}`);
    const runs = (await get(collector, '/api/v1/events?workflow=checkout&limit=1000')).events;
    assert.equal(runs.length, 1000);
    assert.ok(runs.every((run: { span_count: number }) => run.span_count === 10));
    const { events } = await get(collector, '/api/v1/recorded-events?limit=1000');
    assert.equal(events.length, 80);
    const { pids } = await get(collector, '/api/v1/metrics');
    assert.deepEqual(pids.map((p: { samples: number }) => p.samples), [5, 5], JSON.stringify(pids));
  }
  // The same answer from both, to the byte.
  for (const path of ['/api/v1/workflows', '/api/v1/events?limit=1000', '/api/v1/recorded-events?limit=1000', '/api/v1/metrics']) {
    assert.deepEqual(await get(b, path), await get(a, path), path);
  }
  // A trace shipped through b, read through a.
  const throughB = (await get(b, '/api/v1/events?limit=1')).events[0];
  const trace = await get(a, `/api/v1/traces/${throughB.trace_id}`);
  assert.equal(trace.spans.length, 10);
});

test('a batch retried into the other collector is answered duplicate and stored once', async () => {
  const spans = [span(900, 1, null, { workflow: 'retried' }), span(900, 2, 1, { workflow: 'retried', started_at: span(0, 0, null).started_at + 1 })];
  const body = traceBatch(spans, newBatchId());
  const first = await post(a.url, INGEST_PATHS.trace, body);
  assert.deepEqual([first.status, first.body], [202, { accepted: 2, dropped: 0 }]);
  const retry = await post(b.url, INGEST_PATHS.trace, body);
  assert.deepEqual([retry.status, retry.body], [202, { accepted: 0, dropped: 2, duplicate: true }]);
  for (const collector of [a, b]) {
    const { events } = await get(collector, '/api/v1/events?workflow=retried');
    assert.deepEqual(events.map((run: { trace_id: string; span_count: number }) => [run.trace_id, run.span_count]), [[traceId(900), 2]]);
    assert.equal((await get(collector, `/api/v1/traces/${traceId(900)}`)).spans.length, 2);
  }
});

test('a batch sent to both collectors at once (neither has seen it) is still shown once', async () => {
  const spans = [0, 1, 2, 3].map((n) => span(901, n + 1, n === 0 ? null : 1, { workflow: 'raced', started_at: span(0, 0, null).started_at + n }));
  const body = traceBatch(spans, newBatchId());
  const answers = await Promise.all([post(a.url, INGEST_PATHS.trace, body), post(b.url, INGEST_PATHS.trace, body)]);
  assert.deepEqual(answers.map((answer) => answer.status), [202, 202]);
  for (const collector of [a, b]) {
    const { events } = await get(collector, '/api/v1/events?workflow=raced');
    assert.deepEqual(events.map((run: { trace_id: string; span_count: number }) => [run.trace_id, run.span_count]), [[traceId(901), 4]]);
    const { workflows } = await get(collector, '/api/v1/workflows?limit=1000');
    assert.equal(workflows.find((w: { workflow: string }) => w.workflow === 'raced').total_runs, 1);
    assert.deepEqual((await get(collector, `/api/v1/traces/${traceId(901)}`)).spans.map((s: { span_id: string }) => s.span_id), spans.map((s) => s.span_id));
  }
});
