/**
 * What only the SQLite store can show about logs and issues: the status write on the query
 * connection waits for the writer's transaction instead of failing, retention deletes old logs,
 * occurrences and issues, a failed span stored before counts once, and a file from before logs
 * gains their tables. The API behaviour both stores share is in logs-suite.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { logOccurrences, spanOccurrences } from '../../src/collector/issues/occurrences';
import { CollectorStore, SCHEMA_VERSION } from '../../src/collector/store';
import { logsSql } from '../../src/collector/store/log-queries';
import type { IngestInput } from '../../src/collector/store';
import type { WireLog, WireResource, WireSpan } from '../../src/wire/batch-codec';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const SLUG = 'vivid-kudu-655';
const DAY = 86_400_000;
const NOW = Date.parse('2025-11-21T12:00:00Z');
const RESOURCE: WireResource = { service: 'shop', environment: 'test', host: 'h', pid: 1, sdk: { name: 'teracron-node', version: '0.1.0' }, runtime: { name: 'node', version: '20' } };
let batches = 0;
const batchId = (): string => (++batches).toString(16).padStart(32, '0');

function tempFile(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'teracron-issues-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'teracron.db');
}

function logBatch(logs: WireLog[], id: string | null = batchId()): IngestInput {
  return { kind: 'log', batchId: id, resource: RESOURCE, logs, ...logOccurrences(logs) };
}

function errorLog(timestamp: number, message: string): WireLog {
  return { timestamp, level: 'error', message, module: null, trace_id: null, span_id: null, extra: {}, error_type: null, error_message: null, stack: null };
}

function failedSpan(n: number, startedAt: number): WireSpan {
  return {
    trace_id: 'ab'.repeat(16), span_id: n.toString(16).padStart(32, '0'), parent_span_id: null, workflow: 'checkout', operation: 'charge', status: 'failed',
    started_at: startedAt, duration_ms: 1, error_type: 'CardError', error_message: `card ${n} declined`, metadata: {}, captured_params: {},
  };
}

test('setting a status waits for the writer\'s transaction instead of failing with SQLITE_BUSY', async (t) => {
  const file = tempFile(t);
  const store = CollectorStore.open(file);
  t.after(() => store.close());
  store.insertBatch(SLUG, logBatch([errorLog(NOW, 'order 1 failed')]));
  const [issue] = store.issues(SLUG, { limit: 10, sort: 'last_seen' });
  // Another thread holds the write lock, as the writer thread does during a group commit, and
  // lets go of it 300 ms later; the status write (synchronous) must wait for it, not throw.
  const locker = new Worker(
    `const Database = require('better-sqlite3');
     const { parentPort, workerData } = require('node:worker_threads');
     const db = new Database(workerData);
     db.exec('BEGIN IMMEDIATE');
     parentPort.postMessage('locked');
     Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
     db.exec('COMMIT');
     db.close();`,
    { eval: true, workerData: file },
  );
  await new Promise((resolve) => locker.once('message', resolve));
  const started = Date.now();
  const resolved = store.setIssueStatus(SLUG, issue!.fingerprint, 'resolved', NOW + 1000);
  t.diagnostic(`the status write waited ${Date.now() - started} ms for the lock`);
  assert.deepEqual([resolved?.status, resolved?.status_changed_at], ['resolved', NOW + 1000]);
  await new Promise((resolve) => locker.once('exit', resolve));
});

test('retention deletes old logs and occurrences, and issues last seen before the cutoff with their services', (t) => {
  const store = CollectorStore.open(tempFile(t));
  t.after(() => store.close());
  const old = NOW - 10 * DAY;
  store.insertBatch(SLUG, logBatch([errorLog(old, 'disk 1 full'), errorLog(old, 'queue 2 stuck'), errorLog(NOW, 'queue 3 stuck')]));
  assert.equal(store.counts(SLUG).logs, 3);
  store.applyRetention(7, NOW);
  assert.equal(store.counts(SLUG).logs, 1);
  const issues = store.issues(SLUG, { limit: 10, sort: 'last_seen' });
  assert.deepEqual(issues.map((i) => [i.message, i.count, i.services]), [['queue <num> stuck', 2, ['shop']]], 'the issue seen since stays, with its count');
  const detail = store.issue(SLUG, issues[0]!.fingerprint, 24, NOW);
  assert.deepEqual(detail?.occurrences.map((o) => o.timestamp), [NOW], 'its old occurrence went');
  assert.deepEqual(store.issues(SLUG, { limit: 10, sort: 'last_seen', service: 'shop' }).length, 1);
});

test('a failed span sent again in another batch is stored once and counted once; a duplicate batch counts nothing', (t) => {
  const store = CollectorStore.open(tempFile(t));
  t.after(() => store.close());
  const spans = [failedSpan(1, NOW), failedSpan(2, NOW + 1)];
  const trace = (id: string | null): IngestInput => ({ kind: 'trace', batchId: id, resource: RESOURCE, spans, occurrences: spanOccurrences(spans) });
  const first = batchId();
  store.insertBatch(SLUG, trace(first));
  assert.deepEqual(store.insertBatch(SLUG, trace(first)), { accepted: 0, duplicate: true });
  store.insertBatch(SLUG, trace(batchId()));
  const issues = store.issues(SLUG, { limit: 10, sort: 'count' });
  assert.deepEqual(issues.map((i) => [i.message, i.count, i.frames]), [['card <num> declined', 2, ['checkout › charge']]]);
});

test('a status on an unknown issue or project is null, and nothing is written', (t) => {
  const store = CollectorStore.open(tempFile(t));
  t.after(() => store.close());
  store.insertBatch(SLUG, logBatch([errorLog(NOW, 'x 1')]));
  assert.equal(store.setIssueStatus(SLUG, '0'.repeat(64), 'ignored', NOW), null);
  const [issue] = store.issues(SLUG, { limit: 1, sort: 'count' });
  assert.equal(store.setIssueStatus('brave-lynx-101', issue!.fingerprint, 'ignored', NOW), null);
  assert.equal(store.issues(SLUG, { limit: 1, sort: 'count' })[0]!.status, 'open');
});

test('a file from schema 7 gains the log and issue tables and keeps its spans', (t) => {
  const file = tempFile(t);
  const current = CollectorStore.open(file);
  const spans = [failedSpan(1, NOW)];
  current.insertBatch(SLUG, { kind: 'trace', batchId: null, resource: RESOURCE, spans, occurrences: [] });
  current.close();
  const db = new Database(file);
  db.exec('DROP TABLE logs; DROP TABLE issues; DROP TABLE issue_services; DROP TABLE issue_occurrences; PRAGMA user_version = 7');
  db.close();

  const migrated = CollectorStore.open(file);
  t.after(() => migrated.close());
  assert.equal(migrated.migrationsApplied, SCHEMA_VERSION - 7);
  assert.equal(migrated.counts(SLUG).spans, 1);
  migrated.insertBatch(SLUG, logBatch([errorLog(NOW, 'order 1 failed')]));
  assert.deepEqual(migrated.logs(SLUG, { limit: 10 }).logs.map((l) => [l.message, l.service]), [['order 1 failed', 'shop']]);
  assert.equal(migrated.issues(SLUG, { limit: 10, sort: 'count' }).length, 1);
});

test('every filter of the logs listing reads an index in time order: no scan, no sort', (t) => {
  const file = tempFile(t);
  CollectorStore.open(file).close();
  const db = new Database(file, { readonly: true });
  t.after(() => db.close());
  db.function('teracron_contains_ci', (_text: unknown, _needle: unknown) => 0);
  // Bits of logsSql: 1 one level, 2 minimum level, 4 service, 8 module, 16 text, 32 trace, 64 from, 128 to, 256 cursor.
  const expected: Array<[number, string]> = [
    [0, 'logs_time'], [4 | 8 | 16, 'logs_time'], [64 | 128 | 256, 'logs_time'], [1, 'logs_level'], [1 | 4 | 16, 'logs_level'],
    // A level within a time range may walk either: both are in time order.
    [1 | 4 | 64 | 256, '(logs_level|logs_time)'],
    [32, 'logs_trace'], [32 | 2 | 256, 'logs_trace'],
  ];
  for (const [bits, index] of expected) {
    const sql = logsSql(bits);
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array.from(sql.matchAll(/\?/g), () => 1)) as Array<{ detail: string }>;
    const details = plan.map((step) => step.detail).join(' | ');
    assert.match(details, new RegExp(`^SEARCH logs USING INDEX ${index} \\(project=\\?`), `bits ${bits}: ${details}`);
    assert.doesNotMatch(details, /TEMP B-TREE/, `bits ${bits}: ${details}`);
  }
});
