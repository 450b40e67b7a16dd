/**
 * The shared logs-and-issues suite (logs-suite.ts) against a collector on ClickHouse: a real
 * server started for this file (support/clickhouse-server.ts), a fresh database in it. Then the
 * same batches into a SQLite collector and a second ClickHouse database, and the suite's reads
 * asked of both: the answers must be the same JSON, but for what the API calls opaque (a log's
 * id and the cursor made of it, which each store makes its own way).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startClickHouse } from '../../support/clickhouse-server';
import type { ClickHouseServer } from '../../support/clickhouse-server';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import { fileTimeout } from '../helpers/file-timeout';
import { defineLogsSuite, ISSUES, sendLogsSuiteData } from './logs-suite';

fileTimeout(180_000);

// Started by whichever needs it first: node runs a file's top-level hooks without waiting on each other.
let starting: Promise<ClickHouseServer> | null = null;
const clickhouse = (): Promise<ClickHouseServer> => (starting ??= startClickHouse());
after(async () => {
  await (await starting)?.stop();
});

defineLogsSuite(async () => (await clickhouse()).storeUrl);

const COMPARED = [
  '/api/v1/logs',
  '/api/v1/logs?level=warn',
  '/api/v1/logs?q=request&service=shop',
  '/api/v1/logs?limit=3',
  '/api/v1/issues',
  '/api/v1/issues?sort=count',
  '/api/v1/issues?service=payments&status=open',
  ...Object.values(ISSUES).map((fingerprint) => `/api/v1/issues/${fingerprint}?hours=48`),
];

/** An answer with the opaque parts (log ids, cursors) marked as present or not, since they differ by store. */
function comparable(body: any): any {
  if (!Array.isArray(body?.logs)) return body;
  return {
    logs: body.logs.map(({ id, ...rest }: { id: unknown }) => ({ ...rest, id: typeof id })),
    next_cursor: typeof body.next_cursor,
  };
}

test('SQLite and ClickHouse answer the suite\'s reads of logs and issues with the same JSON', async () => {
  const server = await clickhouse();
  const storeUrl = server.storeUrl.replace(/\/[^/]+$/, '/teracron_logs_compare');
  const [onSqlite, onClickHouse] = await Promise.all([
    startCollectorProcess(vectorDataDir(), ['--store', 'sqlite', '--retention-days', '3650']),
    startCollectorProcess(vectorDataDir(), ['--store', storeUrl, '--retention-days', '3650']),
  ]);
  try {
    await Promise.all([sendLogsSuiteData(onSqlite.url), sendLogsSuiteData(onClickHouse.url)]);
    for (const path of COMPARED) {
      const [a, b] = await Promise.all([query(onSqlite.url, path), query(onClickHouse.url, path)]);
      assert.equal(a.status, 200, `${path} on SQLite: ${JSON.stringify(a.body)}`);
      assert.equal(b.status, a.status, `${path} on ClickHouse: ${JSON.stringify(b.body)}`);
      assert.deepEqual(comparable(b.body), comparable(a.body), path);
    }
  } finally {
    await Promise.all([onSqlite.stop(), onClickHouse.stop()]);
  }
});
