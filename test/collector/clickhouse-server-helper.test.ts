/**
 * The ClickHouse that the ClickHouse store's tests stand on: the helper starts a real server of
 * the test's own, hands it a fresh database, and stop() leaves nothing behind. Without a server
 * binary this file fails (CI installs one), so a missing install is never a quiet skip.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { clickHouseAvailable, clickHouseQuery, startClickHouse } from '../../support/clickhouse-server';
import type { ClickHouseServer } from '../../support/clickhouse-server';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(180_000);

const external = Boolean(process.env.CLICKHOUSE_URL);
let server: ClickHouseServer;

before(async () => {
  server = await startClickHouse();
});
after(() => server?.stop());

test('a ClickHouse server binary is installed (or CLICKHOUSE_URL names one)', () => {
  const missing = clickHouseAvailable();
  if (missing !== null) assert.fail(missing);
});

test('the server answers SELECT version() on its loopback URL', async () => {
  if (!external) assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.match((await clickHouseQuery(server, 'SELECT version()')).trim(), /^\d+\.\d+/);
});

test('queries run in the fresh database, which storeUrl names with the same server', async () => {
  assert.match(server.database, /^teracron_test_[0-9a-f]+$/);
  assert.equal((await clickHouseQuery(server, 'SELECT currentDatabase()')).trim(), server.database);
  const store = new URL(server.storeUrl);
  assert.equal(store.protocol, 'clickhouse:');
  assert.equal(store.pathname, `/${server.database}`);
  if (!external) assert.equal(`${store.username}:${store.password}@${store.host}`, `default:@${new URL(server.url).host}`);
});

test('a table created in the database keeps the rows inserted into it', async () => {
  await clickHouseQuery(server, 'CREATE TABLE spans (id UInt32, name String) ENGINE = MergeTree ORDER BY id');
  await clickHouseQuery(server, "INSERT INTO spans VALUES (2, 'b'), (1, 'a'), (3, 'c')");
  assert.equal(await clickHouseQuery(server, 'SELECT id, name FROM spans ORDER BY id FORMAT TSV'), '1\ta\n2\tb\n3\tc\n');
});

test("a failed query throws with the server's own error text", async () => {
  await assert.rejects(clickHouseQuery(server, 'SELECT * FROM no_such_table'), /answered 404 .*no_such_table/s);
});

test('two servers started at once get ports and databases of their own', { skip: external && 'CLICKHOUSE_URL names one server' }, async () => {
  const [first, second] = await Promise.all([startClickHouse(), startClickHouse({ database: 'second_db' })]);
  try {
    assert.notEqual(first.url, second.url);
    assert.equal(second.database, 'second_db');
    assert.equal((await clickHouseQuery(second, 'SELECT currentDatabase()')).trim(), 'second_db');
  } finally {
    await Promise.all([first.stop(), second.stop()]);
  }
});

test('after stop() the port no longer answers, and a second stop() is harmless', { skip: external && 'CLICKHOUSE_URL is not stopped, only its database dropped' }, async () => {
  await server.stop();
  await assert.rejects(fetch(`${server.url}/ping`), (err: Error) => {
    assert.equal((err.cause as NodeJS.ErrnoException | undefined)?.code, 'ECONNREFUSED', String(err.cause));
    return true;
  });
  await server.stop();
});

test('on CLICKHOUSE_URL, stop() drops the database and leaves the server up', { skip: !external && 'only with CLICKHOUSE_URL' }, async () => {
  await server.stop();
  const databases = await clickHouseQuery({ url: server.url, database: 'default' }, 'SELECT name FROM system.databases FORMAT TSV');
  assert.ok(!databases.split('\n').includes(server.database), databases);
  await server.stop();
});
