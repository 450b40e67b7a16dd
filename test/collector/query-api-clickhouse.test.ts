/**
 * The shared query-API suite (query-suite.ts) against a collector on ClickHouse: a real server
 * started for this file (support/clickhouse-server.ts), a fresh database in it. Then the
 * same batches into a SQLite collector and a second ClickHouse database, and every query of the
 * suite asked of both: the answers must be the same JSON.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startClickHouse } from '../../support/clickhouse-server';
import type { ClickHouseServer } from '../../support/clickhouse-server';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import { fileTimeout } from '../helpers/file-timeout';
import { defineQuerySuite, sendSuiteData, SUITE_QUERIES } from './query-suite';

fileTimeout(180_000);

// Started by whichever needs it first: node runs a file's top-level hooks without waiting on each other.
let starting: Promise<ClickHouseServer> | null = null;
const clickhouse = (): Promise<ClickHouseServer> => (starting ??= startClickHouse());
after(async () => {
  await (await starting)?.stop();
});

defineQuerySuite(async () => (await clickhouse()).storeUrl);

test('SQLite and ClickHouse answer every query of the suite with the same JSON', async () => {
  const server = await clickhouse();
  const storeUrl = server.storeUrl.replace(/\/[^/]+$/, '/teracron_compare');
  const [onSqlite, onClickHouse] = await Promise.all([
    startCollectorProcess(vectorDataDir(), ['--store', 'sqlite', '--retention-days', '3650']),
    startCollectorProcess(vectorDataDir(), ['--store', storeUrl, '--retention-days', '3650']),
  ]);
  try {
    await Promise.all([sendSuiteData(onSqlite.url), sendSuiteData(onClickHouse.url)]);
    for (const path of SUITE_QUERIES) {
      const [a, b] = await Promise.all([query(onSqlite.url, path), query(onClickHouse.url, path)]);
      assert.equal(a.status, 200, `${path} on SQLite: ${JSON.stringify(a.body)}`);
      assert.equal(b.status, a.status, `${path} on ClickHouse: ${JSON.stringify(b.body)}`);
      assert.deepEqual(b.body, a.body, path);
    }
  } finally {
    await Promise.all([onSqlite.stop(), onClickHouse.stop()]);
  }
});

