/**
 * ClickHouse goes away under a running collector: ingest answers 503 with Retry-After (never a
 * 202 for what was not stored) and queries answer 503; an agent that was shipping meanwhile
 * retries, and once ClickHouse is back everything it recorded is stored and shown, once.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { INGEST_PATHS, newBatchId } from '../../src/wire/batch-codec';
import { startClickHouse } from '../../support/clickhouse-server';
import type { ClickHouseServer } from '../../support/clickhouse-server';
import { exitBudgetEnv, runFixture } from '../helpers/child';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import type { CollectorProcess } from '../helpers/collector';
import { fileTimeout } from '../helpers/file-timeout';
import { envelopeVectors } from '../helpers/vectors';
import { waitFor } from '../helpers/wait';
import { post, span, traceBatch, traceId } from './query-suite';

fileTimeout(240_000);

const vectors = envelopeVectors();
let server: ClickHouseServer;
let collector: CollectorProcess;

before(async () => {
  server = await startClickHouse();
  collector = await startCollectorProcess(vectorDataDir(), ['--store', server.storeUrl, '--retention-days', '3650']);
});
after(async () => {
  await collector?.stop();
  await server?.stop();
});

/** How many batches the collector has refused for want of its store (it logs each). */
const refusedBatches = (): number => collector.stderr().match(/could not store a batch of project/g)?.length ?? 0;

test('with ClickHouse down, a batch is answered 503 with Retry-After and a query 503; after it returns the same batch is stored', { skip: process.env.CLICKHOUSE_URL ? 'needs a ClickHouse this test may kill (CLICKHOUSE_URL is set)' : false }, async () => {
  const spans = [span(700, 1, null, { workflow: 'outage' }), span(700, 2, 1, { workflow: 'outage', started_at: span(0, 0, null).started_at + 1 })];
  const body = traceBatch(spans, newBatchId());
  await server.kill();
  try {
    const refused = await post(collector.url, INGEST_PATHS.trace, body);
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.match(String(refused.headers['retry-after']), /^\d+$/);
    assert.match(refused.body.error, /could not store the batch/);
    const read = await query(collector.url, '/api/v1/workflows');
    assert.equal(read.status, 503, JSON.stringify(read.body));
    assert.match(read.headers.get('retry-after') ?? '', /^\d+$/);
    assert.match(read.body.error, /store did not answer/);
  } finally {
    await server.restart();
  }
  // The sender's retry of the same batch: stored now, and not a duplicate of anything.
  const retried = await post(collector.url, INGEST_PATHS.trace, body);
  assert.deepEqual([retried.status, retried.body], [202, { accepted: 2, dropped: 0 }]);
  const trace = await query(collector.url, `/api/v1/traces/${traceId(700)}`);
  assert.equal(trace.status, 200, JSON.stringify(trace.body));
  assert.deepEqual(trace.body.spans.map((s: { span_id: string }) => s.span_id), spans.map((s) => s.span_id));
});

test('an agent shipping through an outage loses nothing: it retries until ClickHouse is back, and all it recorded is stored once', { skip: process.env.CLICKHOUSE_URL ? 'needs a ClickHouse this test may kill (CLICKHOUSE_URL is set)' : false }, async () => {
  const TRACES = 300;
  const EVENTS = 20;
  await server.kill();
  const before = refusedBatches();
  let restarted: Promise<void> | undefined;
  const app = runFixture(
    'flush-through-outage',
    {
      TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: collector.url, TERACRON_METRICS_ENABLED: '0', ...exitBudgetEnv,
      // Enough attempts (Retry-After 1 s each) to outlast a restart of ClickHouse on a loaded machine.
      TERACRON_MAX_SEND_ATTEMPTS: '20', TRACES: String(TRACES), EVENTS: String(EVENTS),
    },
    120_000,
  );
  try {
    // ClickHouse comes back only once the agent's batches have been refused.
    await waitFor('the collector to refuse the agent a batch', () => refusedBatches() > before, { timeoutMs: 60_000, seen: () => collector.stderr().slice(-2000) });
  } finally {
    restarted = server.restart();
  }
  await restarted;
  const result = await app;
  assert.equal(result.code, 0, result.stderr);
  const stats = (result.lines.find((line) => 'stats' in line) as { stats: Record<string, number> }).stats;
  assert.ok(stats.retries! > 0, `the agent should have retried refused batches: ${JSON.stringify(stats)}`);
  assert.equal(stats.sent, TRACES * 3 + EVENTS, JSON.stringify(stats));
  assert.equal(stats.droppedSendFailed, 0, JSON.stringify(stats));

  const { body: workflows } = await query(collector.url, '/api/v1/workflows');
  const billing = workflows.workflows.find((w: { workflow: string }) => w.workflow === 'billing');
  assert.equal(billing?.total_runs, TRACES, JSON.stringify(workflows));
  const runs = await query(collector.url, `/api/v1/events?workflow=billing&limit=${TRACES}`);
  assert.equal(runs.body.events.length, TRACES);
  assert.ok(runs.body.events.every((run: { span_count: number }) => run.span_count === 3), JSON.stringify(runs.body.events.slice(0, 3)));
  const events = await query(collector.url, '/api/v1/recorded-events?limit=1000');
  assert.equal(events.body.events.filter((e: { name: string }) => e.name === 'invoice.settled').length, EVENTS);
});
