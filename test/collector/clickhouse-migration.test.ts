/**
 * A ClickHouse database written by the schema-1 collector is migrated in place when a newer
 * collector starts on it: the spool columns of the agent's samples are added (18.16 has no ADD
 * COLUMN IF NOT EXISTS, so a column another collector added meanwhile counts as done), samples
 * stored before keep their values, and new ones carry the spool counts; the tables of logs and
 * issues (schema 3) are created, and logs are stored and read.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { encodeBatch, INGEST_PATHS, newBatchId } from '../../src/wire/batch-codec';
import { encodeMetricsBatch } from '../../src/wire/metrics-batch';
import type { MetricsEntry } from '../../src/wire/metrics-batch';
import { clickHouseQuery, startClickHouse } from '../../support/clickhouse-server';
import type { ClickHouseServer } from '../../support/clickhouse-server';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import { fileTimeout } from '../helpers/file-timeout';
import { envelopeVectors } from '../helpers/vectors';
import { post } from './query-suite';

fileTimeout(180_000);

/** Recent whole seconds: the collector keeps times within its retention of now. */
const T0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;

let server: ClickHouseServer | null = null;
after(async () => {
  await server?.stop();
});

function sample(timestamp: number, extra: Partial<MetricsEntry> = {}): MetricsEntry {
  return { timestamp, heap_total: 1, heap_used: 1, rss: 10, external: 0, array_buffers: 0, cpu_usage_pct: 0, event_loop_lag: 0, pid: 7, ...extra };
}

async function postSamples(url: string, entries: MetricsEntry[]): Promise<void> {
  const answer = await post(url, INGEST_PATHS.metrics, encodeMetricsBatch({ entries, sdk_version: '0.1.0', runtime_version: '20.20.2' }));
  assert.equal(answer.status, 202, JSON.stringify(answer.body));
}

test('a schema-1 database gains the spool columns when a newer collector starts on it, with its samples kept', async () => {
  server = await startClickHouse();
  const dataDir = vectorDataDir();
  const first = await startCollectorProcess(dataDir, ['--store', server.storeUrl]);
  try {
    await postSamples(first.url, [sample(T0, { dropped_ring_full: 3 })]);
  } finally {
    await first.stop();
  }
  // Back to what schema 1 wrote, except for one column, as if another collector were midway.
  for (const column of ['replayed', 'dropped_spool_full', 'spool_bytes']) await clickHouseQuery(server, `ALTER TABLE metric_samples DROP COLUMN ${column}`);
  for (const table of ['logs', 'issue_occurrences', 'issue_status']) await clickHouseQuery(server, `DROP TABLE ${table}`);
  await clickHouseQuery(server, 'DROP TABLE teracron_schema');
  await clickHouseQuery(server, 'CREATE TABLE teracron_schema (version UInt32, applied_at Float64) ENGINE = MergeTree() ORDER BY version');
  await clickHouseQuery(server, `INSERT INTO teracron_schema VALUES (1, ${Date.now()})`);

  const second = await startCollectorProcess(dataDir, ['--store', server.storeUrl]);
  try {
    assert.match(second.stderr(), /applied 2 schema migrations/);
    await postSamples(second.url, [sample(T0 + 1000, { dropped_ring_full: 4, spooled: 900, replayed: 100, dropped_spool_full: 0, spool_bytes: 65_536 })]);
    const { status, body } = await query(second.url, '/api/v1/metrics');
    assert.equal(status, 200, JSON.stringify(body));
    const rows = (body.samples as Array<Record<string, unknown>>).map((s) => [s.timestamp, s.dropped_ring_full, s.spooled, s.replayed, s.dropped_spool_full, s.spool_bytes]);
    assert.deepEqual(rows, [[T0, 3, null, null, null, null], [T0 + 1000, 4, 900, 100, 0, 65_536]]);
    const versions = (await clickHouseQuery(server, 'SELECT max(version) FROM teracron_schema')).trim();
    assert.equal(versions, '3');
    const logs = [{ timestamp: T0, level: 'error', message: 'after the migration', module: null, trace_id: null, span_id: null, extra: {}, error_type: 'E', error_message: null, stack: null }];
    const stored = await post(second.url, INGEST_PATHS.log, encodeBatch({ type: 'log', project_slug: envelopeVectors().slug, batch_id: newBatchId(), logs }, 'msgpack'));
    assert.equal(stored.status, 202, JSON.stringify(stored.body));
    const read = await query(second.url, '/api/v1/logs');
    assert.deepEqual([read.status, read.body.logs?.map((l: { message: string }) => l.message)], [200, ['after the migration']]);
    assert.equal((await query(second.url, '/api/v1/issues')).body.issues?.length, 1);
  } finally {
    await second.stop();
  }
});
