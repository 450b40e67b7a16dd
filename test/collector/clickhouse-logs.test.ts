/**
 * Logs and issues on ClickHouse, where it differs from SQLite: two collectors sharing one
 * database, copies of a batch that two collectors both wrote, partitions dropped by retention,
 * keys that order and page logs without an arrival rowid, and text through TabSeparated rows.
 * What both stores answer alike is logs-suite.ts's (logs-api-clickhouse.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { clickHouseClient } from '../../src/collector/clickhouse';
import { clickHouseQueries } from '../../src/collector/clickhouse/queries';
import { encodeBatch, INGEST_PATHS, newBatchId } from '../../src/wire/batch-codec';
import type { WireLog, WireResource, WireSpan } from '../../src/wire/batch-codec';
import { clickHouseQuery, startClickHouse } from '../../support/clickhouse-server';
import type { ClickHouseServer } from '../../support/clickhouse-server';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import type { CollectorProcess } from '../helpers/collector';
import { fileTimeout } from '../helpers/file-timeout';
import { envelopeVectors } from '../helpers/vectors';
import { waitFor } from '../helpers/wait';
import { post, span, traceBatch } from './query-suite';

fileTimeout(240_000);

const vectors = envelopeVectors();
const DAY = 86_400_000;
/** Recent whole seconds, an hour back: inside every window the collectors keep. */
const T = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
const AWKWARD = 'tab\there\nline\r\nback\\slash \\N \u0000nul "quoted" \'single\' é ✓ 😀 \\t';

let server: ClickHouseServer;
let a: CollectorProcess;
let b: CollectorProcess;

before(async () => {
  server = await startClickHouse();
  // Two collectors, each with its own data directory holding the same keys, on one database.
  [a, b] = await Promise.all([
    startCollectorProcess(vectorDataDir(), ['--store', server.storeUrl, '--retention-days', '3650']),
    startCollectorProcess(vectorDataDir(), ['--store', server.storeUrl, '--retention-days', '3650']),
  ]);
});
after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await server?.stop();
});

function resource(service: string): WireResource {
  return { service, environment: 'test', host: 'h1', pid: 4242, sdk: { name: 'teracron-node', version: '0.1.0' }, runtime: { name: 'node', version: '20' } };
}

function log(timestamp: number, overrides: Partial<WireLog> = {}): WireLog {
  return { timestamp, level: 'info', message: 'hello', module: null, trace_id: null, span_id: null, extra: {}, error_type: null, error_message: null, stack: null, ...overrides };
}

function logBatch(service: string, logs: WireLog[], batchId = newBatchId()): Uint8Array {
  return encodeBatch({ type: 'log', project_slug: vectors.slug, batch_id: batchId, logs, resource: resource(service) }, 'msgpack');
}

async function postLogs(collector: CollectorProcess, body: Uint8Array): Promise<any> {
  const res = await post(collector.url, INGEST_PATHS.log, body);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body;
}

async function get(collector: CollectorProcess, path: string): Promise<any> {
  const res = await query(collector.url, path);
  assert.equal(res.status, 200, `${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function setStatus(collector: CollectorProcess, fingerprint: string, status: string): Promise<any> {
  const res = await fetch(`${collector.url}/api/v1/issues/${fingerprint}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${vectors.api_key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ status }),
  });
  const body = (await res.json()) as { issue: any };
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.issue;
}

/** Every page of `path` (which has a `?`), following next_cursor from whichever collector is next. */
async function allPages(collectors: CollectorProcess[], path: string): Promise<Array<Record<string, any>>> {
  const logs: Array<Record<string, any>> = [];
  let cursor: string | null = null;
  for (let page = 0; ; page++) {
    const body: any = await get(collectors[page % collectors.length]!, `${path}${cursor === null ? '' : `&cursor=${cursor}`}`);
    logs.push(...body.logs);
    cursor = body.next_cursor;
    if (cursor === null) return logs;
  }
}

const stack = (where: string): string => `TypeError: no such order\n    at ${where} (/srv/app/src/orders.js:12:5)\n    at process (node:internal/process/task_queues:95:5)`;

test('logs page newest first through either collector, each once, across batches sharing milliseconds', async () => {
  // Three batches whose logs share their 30 milliseconds; batch ids in sending order.
  const batches = [1, 2, 3].map((n) => ({
    id: `0${n}`.repeat(16),
    logs: Array.from({ length: 150 }, (_, i) => log(T + (i % 30), { level: (['debug', 'info', 'warn', 'error'] as const)[i % 4]!, message: `m-${n}-${i}`, error_type: 'PagingError' })),
  }));
  for (const batch of batches) assert.equal((await postLogs(a, logBatch('paging', batch.logs, batch.id))).accepted, 150);
  const expected = batches
    .flatMap((batch, n) => batch.logs.map((l, i) => ({ l, n, i })))
    .sort((x, y) => y.l.timestamp - x.l.timestamp || y.n - x.n || y.i - x.i)
    .map(({ l }) => l);

  const all = await allPages([a, b], '/api/v1/logs?service=paging&limit=100');
  assert.deepEqual(all.map((l) => l.message), expected.map((l) => l.message));
  assert.equal(new Set(all.map((l) => l.id)).size, all.length);
  const warnings = await allPages([b, a], '/api/v1/logs?service=paging&level=warn&limit=7');
  assert.deepEqual(warnings.map((l) => l.message), expected.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => l.message));
  const errors = await get(a, '/api/v1/logs?service=paging&level=error&limit=1000');
  assert.equal(errors.logs.length, expected.filter((l) => l.level === 'error').length);
  assert.ok(errors.logs.every((l: { fingerprint: string | null }) => typeof l.fingerprint === 'string' && /^[0-9a-f]{64}$/.test(l.fingerprint)));
});

test('a cursor that is not one this API gave is a 400', async () => {
  const sqliteShaped = Buffer.from(`${T}.42`, 'utf8').toString('base64url');
  for (const cursor of ['nonsense!', 'AAAA', sqliteShaped]) {
    const res = await query(a.url, `/api/v1/logs?cursor=${encodeURIComponent(cursor)}`);
    assert.equal(res.status, 400, `${cursor}: ${JSON.stringify(res.body)}`);
  }
});

test('a log batch written by two collectors (neither had seen its id) reads once: its logs, its issue and the counts', async () => {
  const logs = [
    log(T + 100, { message: 'started', module: 'orders' }),
    log(T + 200, { level: 'error', message: 'lookup failed', error_type: 'TypeError', error_message: 'no such order 1234', stack: stack('findOrder') }),
    log(T + 300, { level: 'fatal', message: 'giving up', error_type: 'TypeError', error_message: 'no such order 5678', stack: stack('findOrder') }),
  ];
  const body = logBatch('raced', logs);
  assert.deepEqual(await postLogs(a, body), { accepted: 3, dropped: 0 });
  // Forget the batch id, as when two collectors both check it before either stored it.
  const day = Math.floor(Date.now() / DAY);
  await clickHouseQuery(server, `ALTER TABLE batches DROP PARTITION ${day}`);
  // Stored again, not answered as a duplicate: the table now holds two copies until they merge.
  assert.deepEqual(await postLogs(b, body), { accepted: 3, dropped: 0 });

  for (const collector of [a, b]) {
    const listed = await get(collector, '/api/v1/logs?service=raced');
    assert.deepEqual(listed.logs.map((l: { message: string }) => l.message), ['giving up', 'lookup failed', 'started']);
    const { issues } = await get(collector, '/api/v1/issues?service=raced');
    assert.equal(issues.length, 1, JSON.stringify(issues));
    assert.deepEqual([issues[0].count, issues[0].first_seen, issues[0].last_seen, issues[0].type, issues[0].message], [2, T + 200, T + 300, 'TypeError', 'no such order <num>']);
    const detail = await get(collector, `/api/v1/issues/${issues[0].fingerprint}?hours=48`);
    assert.deepEqual(detail.occurrences.map((o: { message: string }) => o.message), ['no such order 5678', 'no such order 1234']);
    assert.equal(detail.hourly.reduce((sum: number, h: { count: number }) => sum + h.count, 0), 2);
  }
  const listed = (await get(a, '/api/v1/logs?limit=1000')).logs;
  assert.equal(listed.filter((l: { service: string }) => l.service === 'raced').length, 3);
  const client = clickHouseClient({ url: server.url, username: 'default', password: '', database: server.database }, server.database);
  try {
    assert.equal((await clickHouseQueries(client).counts(vectors.slug)).logs, listed.length);
  } finally {
    await client.close();
  }
});

test('a failed span sent again in another batch counts once in its issue, like its started record finished later', async () => {
  const failed = (n: number, overrides: Partial<WireSpan> = {}): WireSpan =>
    span(700 + n, 1, null, { workflow: 'pay', operation: 'charge', status: 'failed', started_at: T + n, duration_ms: 3, error_type: 'CardError', error_message: `card ${n}42 declined`, ...overrides });
  const send = async (spans: WireSpan[]): Promise<void> => {
    const res = await post(a.url, INGEST_PATHS.trace, encodeBatch({ type: 'trace', project_slug: vectors.slug, batch_id: newBatchId(), spans, resource: resource('spans') }, 'msgpack'));
    assert.equal(res.status, 202, JSON.stringify(res.body));
  };
  await send([failed(1), failed(2, { status: 'started', error_type: null, error_message: null })]);
  await send([failed(1), failed(2)]);
  const { issues } = await get(b, '/api/v1/issues?service=spans');
  assert.equal(issues.length, 1, JSON.stringify(issues));
  assert.deepEqual([issues[0].count, issues[0].frames, issues[0].last_trace_id], [2, ['pay › charge'], failed(2).trace_id]);
  const detail = await get(b, `/api/v1/issues/${issues[0].fingerprint}`);
  assert.deepEqual(detail.occurrences.map((o: { source: string; level: null; span_id: string }) => [o.source, o.level, o.span_id]), [['span', null, failed(2).span_id], ['span', null, failed(1).span_id]]);
  assert.equal(detail.latest_stack, null);
  // The same trace batch once more, as a retry: a duplicate, nothing counted.
  const res = await post(a.url, INGEST_PATHS.trace, traceBatch([failed(3)], 'f3'.repeat(16)));
  const again = await post(b.url, INGEST_PATHS.trace, traceBatch([failed(3)], 'f3'.repeat(16)));
  assert.deepEqual([res.status, again.status, again.body.duplicate], [202, 202, true]);
});

test('a status set through one collector reads the same through the other: resolved, regressed by a later error, open, ignored', async () => {
  const error = (timestamp: number): WireLog => log(timestamp, { level: 'error', message: 'sync failed', error_type: 'SyncError', error_message: 'peer 10.0.0.7 refused', stack: stack('sync') });
  await postLogs(a, logBatch('status', [error(T)]));
  const [{ fingerprint }] = (await get(b, '/api/v1/issues?service=status')).issues;
  const status = async (collector: CollectorProcess): Promise<unknown[]> => {
    const issue = (await get(collector, `/api/v1/issues/${fingerprint}`)).issue;
    const inList = async (s: string): Promise<boolean> =>
      (await get(collector, `/api/v1/issues?service=status&status=${s}`)).issues.some((i: { fingerprint: string }) => i.fingerprint === fingerprint);
    return [issue.status, issue.regression, await inList('open'), await inList('resolved'), await inList('ignored')];
  };
  assert.deepEqual(await status(a), ['open', false, true, false, false]);

  const before = Date.now();
  const resolved = await setStatus(a, fingerprint, 'resolved');
  assert.deepEqual([resolved.status, resolved.regression, resolved.count], ['resolved', false, 1]);
  assert.ok(resolved.status_changed_at >= before && resolved.status_changed_at <= Date.now(), JSON.stringify(resolved));
  assert.deepEqual(await status(b), ['resolved', false, false, true, false]);

  // It occurs again after the resolution: open, a regression, on both.
  const again = resolved.status_changed_at + 1;
  await postLogs(b, logBatch('status', [error(again)]));
  for (const collector of [a, b]) assert.deepEqual(await status(collector), ['open', true, true, false, false]);
  assert.equal((await get(a, `/api/v1/issues/${fingerprint}`)).issue.status_changed_at, resolved.status_changed_at);

  // Resolving again, after that error, clears it; so does setting it open.
  await waitFor('the clock past the last error', () => Date.now() > again);
  assert.deepEqual([(await setStatus(b, fingerprint, 'resolved')).regression], [false]);
  assert.deepEqual(await status(a), ['resolved', false, false, true, false]);
  const opened = await setStatus(a, fingerprint, 'open');
  assert.deepEqual([opened.status, opened.regression], ['open', false]);
  // Settings in quick succession: the last one wins.
  await setStatus(a, fingerprint, 'resolved');
  await setStatus(b, fingerprint, 'ignored');
  await postLogs(a, logBatch('status', [error(Date.now() + 2000)]));
  for (const collector of [a, b]) assert.deepEqual(await status(collector), ['ignored', false, false, false, true]);
  assert.equal((await get(b, `/api/v1/issues/${fingerprint}`)).issue.count, 3);

  const unknown = await fetch(`${a.url}/api/v1/issues/${'ab'.repeat(32)}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${vectors.api_key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ status: 'resolved' }),
  });
  assert.equal(unknown.status, 404);
  await unknown.body?.cancel();
});

test('text with tabs, line breaks, backslashes, NULs, quotes and emoji is stored and read back exactly in logs and issues', async () => {
  const sent = log(T + 400, {
    level: 'error', message: AWKWARD, module: `mod\t${AWKWARD}`, trace_id: 'ab'.repeat(16), span_id: 'cd'.repeat(16),
    extra: { [AWKWARD]: AWKWARD, n: 1.5, flag: true }, error_type: `Awkward\tError`, error_message: `${AWKWARD} 99`, stack: `${stack('awkward')}\n${AWKWARD}`,
  });
  await postLogs(b, logBatch(`svc ${AWKWARD}`, [sent]));
  const { logs } = await get(a, `/api/v1/logs?service=${encodeURIComponent(`svc ${AWKWARD}`)}`);
  assert.equal(logs.length, 1);
  const { id, fingerprint, service, environment, host, pid, ...rest } = logs[0];
  assert.deepEqual(rest, sent);
  assert.deepEqual([typeof id, service, environment, host, pid], ['string', `svc ${AWKWARD}`, 'test', 'h1', 4242]);
  const byText = await get(a, `/api/v1/logs?q=${encodeURIComponent('😀 \\T')}&limit=1000`);
  assert.ok(byText.logs.some((l: { id: string }) => l.id === id));
  const detail = await get(b, `/api/v1/issues/${fingerprint}`);
  assert.deepEqual([detail.issue.type, detail.latest_message, detail.latest_stack, detail.issue.services], ['Awkward\tError', `${AWKWARD} 99`, sent.stack, [`svc ${AWKWARD}`]]);
  assert.deepEqual(detail.occurrences[0].message, `${AWKWARD} 99`);
});

test('retention drops whole days of logs and occurrences; an issue counts what is kept, and one not seen since is forgotten with its status', async () => {
  const error = (timestamp: number, type: string): WireLog => log(timestamp, { level: 'error', message: 'old', error_type: type, error_message: 'aged', stack: stack('age') });
  await postLogs(a, logBatch('retention', [error(T - 10 * DAY, 'AgedError'), log(T - 10 * DAY, { message: 'old info' }), error(T - 10 * DAY, 'GoneError')]));
  await postLogs(a, logBatch('retention', [error(T, 'AgedError')]));
  assert.equal((await get(b, '/api/v1/logs?service=retention')).logs.length, 4);
  const before = (await get(b, '/api/v1/issues?service=retention')).issues;
  const [aged, gone] = ['AgedError', 'GoneError'].map((type) => before.find((i: { type: string }) => i.type === type));
  assert.deepEqual([aged.count, gone.count], [2, 1]);
  const ignoredAt = (await setStatus(a, aged.fingerprint, 'ignored')).status_changed_at;
  await setStatus(a, gone.fingerprint, 'resolved');

  // A collector keeping 3 days sweeps the shared database as it starts.
  const sweeper = await startCollectorProcess(vectorDataDir(), ['--store', server.storeUrl, '--retention-days', '3']);
  try {
    await waitFor('the sweep at start', () => /retention: deleted \d+ rows/.test(sweeper.stderr()), { seen: () => sweeper.stderr() });
  } finally {
    await sweeper.stop();
  }
  const kept = await get(a, '/api/v1/logs?service=retention');
  assert.deepEqual(kept.logs.map((l: { timestamp: number }) => l.timestamp), [T]);
  const after = (await get(b, '/api/v1/issues?service=retention')).issues;
  assert.deepEqual(after.map((i: any) => [i.fingerprint, i.count, i.first_seen, i.last_seen, i.status, i.status_changed_at]), [[aged.fingerprint, 1, T, T, 'ignored', ignoredAt]]);

  // The forgotten one, back: a new issue, open, with no status set.
  await postLogs(b, logBatch('retention', [error(T + 1, 'GoneError')]));
  const back = (await get(a, `/api/v1/issues/${gone.fingerprint}`)).issue;
  assert.deepEqual([back.status, back.regression, back.status_changed_at, back.count, back.first_seen], ['open', false, null, 1, T + 1]);
});
