import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CollectorStore, SCHEMA_VERSION, TeracronStoreError } from '../../src/collector/store';
import type { IngestInput, WorkflowSummary } from '../../src/collector/store';
import { RELATIVE_ACCURACY } from '../../src/collector/store/duration-sketch';
import { RETENTION_CHUNK } from '../../src/collector/store/retention';
import type { WireEvent, WireResource, WireSpan } from '../../src/wire/batch-codec';
import type { MetricsEntry } from '../../src/wire/metrics-batch';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const SLUG = 'vivid-kudu-655';
const OTHER = 'brave-lynx-101';

const RESOURCE: WireResource = {
  service: 'checkout-api',
  environment: 'staging',
  host: 'web-1',
  pid: 4242,
  sdk: { name: 'teracron-node', version: '0.1.0' },
  runtime: { name: 'node', version: '20.20.2' },
};

/** A 32-hex id from a small number, so expected values are readable. */
function hex(n: number): string {
  return n.toString(16).padStart(32, '0');
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'teracron-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function openStore(t: { after: (fn: () => void) => void }, options?: Parameters<typeof CollectorStore.open>[1]): CollectorStore {
  const store = CollectorStore.open(join(tempDir(t), 'data', 'teracron.db'), options);
  t.after(() => store.close());
  return store;
}

function span(fields: Partial<WireSpan> & { span_id: string; trace_id: string }): WireSpan {
  return {
    parent_span_id: null,
    workflow: 'checkout',
    operation: 'checkout',
    status: 'succeeded',
    started_at: 1_700_000_000_000,
    duration_ms: 1,
    error_type: null,
    error_message: null,
    metadata: {},
    captured_params: {},
    ...fields,
  };
}

let batchCounter = 0;
function traceBatch(spans: WireSpan[], batchId: string | null = hex(++batchCounter)): IngestInput {
  return { kind: 'trace', batchId, resource: RESOURCE, spans, occurrences: [] };
}

function event(fields: Partial<WireEvent> & { name: string; timestamp: number }): WireEvent {
  return {
    trace_id: null,
    span_id: null,
    workflow: null,
    event_type: 'info',
    message: null,
    severity: 'info',
    metadata: {},
    ...fields,
  };
}

function sample(fields: Partial<MetricsEntry> & { timestamp: number }): MetricsEntry {
  return {
    heap_total: 0, heap_used: 0, rss: 0, external: 0, array_buffers: 0, cpu_usage_pct: 0, event_loop_lag: 0,
    ...fields,
  };
}

/** What migration 8 added (logs and issues), taken away: a file as schema 7 left it. */
const UNDO_SCHEMA_8 = 'DROP TABLE logs; DROP TABLE issues; DROP TABLE issue_services; DROP TABLE issue_occurrences;';
/** What migrations 7 and 8 added (the agent's spool counts, logs), taken away: a file as schema 6 left it. */
const UNDO_SCHEMA_7 = `${UNDO_SCHEMA_8} ${['spooled', 'replayed', 'dropped_spool_full', 'spool_bytes'].map((column) => `ALTER TABLE metric_samples DROP COLUMN ${column};`).join(' ')}`;
/** What migrations 5 to 7 did, undone: a file as schema 4 left it (its spans found by trace id). */
const UNDO_SCHEMA_5 = `${UNDO_SCHEMA_7} DROP TABLE workflow_hours; DROP INDEX spans_run; ALTER TABLE spans DROP COLUMN run;
  CREATE INDEX spans_trace ON spans (project, trace_id, started_at);
  CREATE INDEX runs_finished_duration ON runs (project, workflow, duration_ms) WHERE status <> 'in_progress';
  DROP INDEX runs_unfinished; CREATE INDEX runs_status ON runs (project, status, started_at);`;
/** What migrations 4 and 5 added, taken away again: a file as schema 3 left it. */
const UNDO_SCHEMA_4 = UNDO_SCHEMA_5 + ' ' + ['error_parent_span_id', 'stand_in_span_id', 'stand_in_parent_span_id']
  .map((column) => `ALTER TABLE runs DROP COLUMN ${column};`).join(' ');
/** What migrations 3 to 5 added, taken away again: a file as schema 2 left it. */
const UNDO_SCHEMA_3 = UNDO_SCHEMA_4 + ' ' + ['dropped_ring_full', 'dropped_send_failed', 'send_retries', 'metrics_dropped']
  .map((column) => `ALTER TABLE metric_samples DROP COLUMN ${column};`).join(' ');

/** Takes a closed store file back to what schema `version` wrote, by running `undo`. */
function rewindSchema(file: string, undo: string, version: number): void {
  const db = new Database(file);
  db.exec(undo);
  db.pragma(`user_version = ${version}`);
  db.close();
}

function metricsBatch(entries: MetricsEntry[], service: string | null = null, host: string | null = null): IngestInput {
  return { kind: 'metrics', batchId: null, entries, sdkVersion: '0.1.0', runtimeVersion: '20.20.2', service, host };
}

// A three-level tree: root R ─┬─ A (failed) ── A1 (failed, later)
//                             └─ B (started first among the children)
const T = hex(0x7100);
const T0 = 1_700_000_000_000;
const R = span({ trace_id: T, span_id: hex(1), workflow: 'checkout', operation: 'POST /checkout', started_at: T0, duration_ms: 120.5 });
const A = span({
  trace_id: T, span_id: hex(2), parent_span_id: hex(1), operation: 'charge card', status: 'failed', started_at: T0 + 10,
  duration_ms: 30, error_type: 'TimeoutError', error_message: 'payment gateway took 30s',
});
const A1 = span({
  trace_id: T, span_id: hex(3), parent_span_id: hex(2), operation: 'http POST', status: 'failed', started_at: T0 + 20,
  duration_ms: 5, error_type: 'SocketError', error_message: 'connection reset',
});
const B = span({ trace_id: T, span_id: hex(4), parent_span_id: hex(1), workflow: 'inventory', operation: 'reserve stock', started_at: T0 + 5, duration_ms: 4 });

const TREE_RUN = {
  trace_id: T,
  workflow: 'checkout',
  operation: 'POST /checkout',
  status: 'succeeded',
  started_at: T0,
  duration_ms: 120.5,
  span_count: 4,
  error_summary: 'TimeoutError: payment gateway took 30s',
};

test('spans read back with every wire field, metadata and captured_params as objects', (t) => {
  const store = openStore(t);
  const root = span({
    trace_id: hex(10), span_id: hex(11), workflow: 'checkout', operation: 'POST /checkout', status: 'failed',
    started_at: 1_700_000_123_456, duration_ms: 12.345, error_type: 'ValidationError', error_message: 'card "4111" expired',
    metadata: { 'http.route': '/checkout', attempt: 2, cached: false, ratio: 0.25 },
    captured_params: { userId: 'u-1', amount: 19.99, express: true },
  });
  const child = span({ trace_id: hex(10), span_id: hex(12), parent_span_id: hex(11), operation: 'db.query', started_at: 1_700_000_123_460 });

  assert.deepEqual(store.insertBatch(SLUG, traceBatch([root, child])), { accepted: 2, duplicate: false });

  assert.deepEqual(store.traceSpans(SLUG, hex(10)), [root, child]);
  assert.deepEqual(store.span(SLUG, hex(12)), child);
});

test('span() answers null for a span id that was never stored', (t) => {
  const store = openStore(t);
  assert.equal(store.span(SLUG, hex(99)), null);
  assert.deepEqual(store.traceSpans(SLUG, hex(99)), []);
});

test('ids that are not lowercase hex read back exactly as sent', (t) => {
  const store = openStore(t);
  const upper = span({ trace_id: 'ABCDEF0123456789ABCDEF0123456789', span_id: 'ABC', parent_span_id: null });
  const child = span({ trace_id: upper.trace_id, span_id: 'abc', parent_span_id: 'ABC', started_at: upper.started_at + 1 });
  store.insertBatch(SLUG, traceBatch([upper, child]));
  assert.deepEqual(store.traceSpans(SLUG, upper.trace_id), [upper, child]);
  assert.deepEqual(store.span(SLUG, 'ABC'), upper);
  assert.deepEqual(store.span(SLUG, 'abc'), child);
  assert.equal(store.runs(SLUG, { limit: 10 })[0]!.trace_id, upper.trace_id);
});

test('the batch resource (service, environment, host, pid) is stored with each span and event', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'teracron.db');
  const store = CollectorStore.open(file);
  store.insertBatch(SLUG, traceBatch([R]));
  store.insertBatch(SLUG, { kind: 'event', batchId: hex(500), resource: RESOURCE, events: [event({ name: 'e', timestamp: T0 })] });
  store.insertBatch(SLUG, { kind: 'trace', batchId: null, resource: null, spans: [B], occurrences: [] });
  store.close();

  const db = new Database(file, { readonly: true });
  t.after(() => db.close());
  assert.deepEqual(db.prepare('SELECT service, environment, host, pid FROM spans ORDER BY rowid').all(), [
    { service: 'checkout-api', environment: 'staging', host: 'web-1', pid: 4242 },
    { service: null, environment: null, host: null, pid: null },
  ]);
  assert.deepEqual(db.prepare('SELECT service, environment, host, pid FROM events').get(), {
    service: 'checkout-api', environment: 'staging', host: 'web-1', pid: 4242,
  });
});

test('a 3-level tree inserted root first gives one run with the root status, span count and first failure', (t) => {
  const store = openStore(t);
  store.insertBatch(SLUG, traceBatch([R, B, A, A1]));
  assert.deepEqual(store.runs(SLUG, { limit: 10 }), [TREE_RUN]);
});

test('a 3-level tree whose children arrive in an earlier batch is its earliest span\'s until the root arrives', (t) => {
  const store = openStore(t);
  // Until then the children look like a trace whose root is kept by another service: the
  // earliest span stands in, so the run has a status and a duration.
  store.insertBatch(SLUG, traceBatch([A1, A, B]));
  assert.deepEqual(store.runs(SLUG, { limit: 10 }), [
    {
      trace_id: T,
      workflow: 'inventory',
      operation: 'reserve stock',
      status: 'succeeded',
      started_at: T0 + 5,
      duration_ms: 4,
      span_count: 3,
      error_summary: 'TimeoutError: payment gateway took 30s',
    },
  ]);

  store.insertBatch(SLUG, traceBatch([R]));
  assert.deepEqual(store.runs(SLUG, { limit: 10 }), [TREE_RUN]);
});

test('a 3-level tree with children before the root in one batch gives the same run', (t) => {
  const store = openStore(t);
  store.insertBatch(SLUG, traceBatch([A1, B, A, R]));
  assert.deepEqual(store.runs(SLUG, { limit: 10 }), [TREE_RUN]);
});

test('a failed root makes the run failed', (t) => {
  const store = openStore(t);
  const root = { ...R, status: 'failed' as const, error_type: 'Error', error_message: 'checkout failed' };
  store.insertBatch(SLUG, traceBatch([root, B]));
  const [run] = store.runs(SLUG, { limit: 1 });
  assert.equal(run!.status, 'failed');
  assert.equal(run!.error_summary, 'Error: checkout failed');
  assert.equal(run!.span_count, 2);
});

test('with two parentless spans the earliest started one is the root', (t) => {
  const store = openStore(t);
  const late = span({ trace_id: T, span_id: hex(50), operation: 'late root', started_at: T0 + 100, duration_ms: 1, status: 'failed' });
  const early = span({ trace_id: T, span_id: hex(51), operation: 'early root', started_at: T0, duration_ms: 7 });
  store.insertBatch(SLUG, traceBatch([late]));
  store.insertBatch(SLUG, traceBatch([early]));
  const [run] = store.runs(SLUG, { limit: 1 });
  assert.equal(run!.operation, 'early root');
  assert.equal(run!.status, 'succeeded');
  assert.equal(run!.duration_ms, 7);
  assert.equal(run!.span_count, 2);
});

test('a started root keeps the run in_progress until its finished record replaces it', (t) => {
  const store = openStore(t);
  const started = { ...R, status: 'started' as const, duration_ms: 0 };
  store.insertBatch(SLUG, traceBatch([started]));
  assert.equal(store.runs(SLUG, { limit: 1 })[0]!.status, 'in_progress');

  assert.deepEqual(store.insertBatch(SLUG, traceBatch([R])), { accepted: 1, duplicate: false });
  assert.deepEqual(store.runs(SLUG, { limit: 1 }), [{ ...TREE_RUN, span_count: 1, error_summary: null }]);
  assert.deepEqual(store.span(SLUG, R.span_id), R);
  assert.equal(store.counts(SLUG).spans, 1);
});

test('a span id sent again in another batch is stored once and counted once', (t) => {
  const store = openStore(t);
  store.insertBatch(SLUG, traceBatch([R, A]));
  const again = { ...A, operation: 'changed', duration_ms: 999 };
  assert.deepEqual(store.insertBatch(SLUG, traceBatch([again, A1])), { accepted: 1, duplicate: false });
  assert.deepEqual(store.counts(SLUG), { spans: 3, events: 0, logs: 0, metric_samples: 0, runs: 1 });
  assert.equal(store.span(SLUG, A.span_id)!.operation, 'charge card');
  assert.equal(store.runs(SLUG, { limit: 1 })[0]!.span_count, 3);
});

test('a finished span never goes back to started', (t) => {
  const store = openStore(t);
  store.insertBatch(SLUG, traceBatch([R]));
  store.insertBatch(SLUG, traceBatch([{ ...R, status: 'started', duration_ms: 0 }]));
  assert.deepEqual(store.span(SLUG, R.span_id), R);
  assert.equal(store.runs(SLUG, { limit: 1 })[0]!.status, 'succeeded');
});

/** One single-span run per row: [trace number, workflow, status, started_at, duration]. */
function seedRuns(store: CollectorStore, rows: Array<[number, string, 'succeeded' | 'failed' | 'started', number, number]>): void {
  store.insertBatch(
    SLUG,
    traceBatch(
      rows.map(([n, workflow, status, startedAt, duration]) =>
        span({
          trace_id: hex(n), span_id: hex(n + 0x10000), workflow, operation: `${workflow} op`, status, started_at: startedAt,
          duration_ms: duration, error_type: status === 'failed' ? 'Error' : null, error_message: status === 'failed' ? `failure ${n}` : null,
        })),
    ),
  );
}

test('runs come newest first and filter by workflow, status, since and limit', (t) => {
  const store = openStore(t);
  seedRuns(store, [
    [1, 'checkout', 'succeeded', 1000, 10],
    [2, 'signup', 'failed', 2000, 20],
    [3, 'checkout', 'failed', 3000, 30],
    [4, 'checkout', 'started', 4000, 0],
    [5, 'signup', 'succeeded', 5000, 50],
  ]);
  const ids = (runs: Array<{ trace_id: string }>): string[] => runs.map((run) => run.trace_id);

  assert.deepEqual(ids(store.runs(SLUG, { limit: 50 })), [hex(5), hex(4), hex(3), hex(2), hex(1)]);
  assert.deepEqual(ids(store.runs(SLUG, { limit: 2 })), [hex(5), hex(4)]);
  assert.deepEqual(ids(store.runs(SLUG, { workflow: 'checkout', limit: 50 })), [hex(4), hex(3), hex(1)]);
  assert.deepEqual(ids(store.runs(SLUG, { status: 'failed', limit: 50 })), [hex(3), hex(2)]);
  assert.deepEqual(ids(store.runs(SLUG, { status: 'in_progress', limit: 50 })), [hex(4)]);
  assert.deepEqual(ids(store.runs(SLUG, { since: 3000, limit: 50 })), [hex(5), hex(4), hex(3)]);
  assert.deepEqual(ids(store.runs(SLUG, { workflow: 'checkout', status: 'succeeded', limit: 50 })), [hex(1)]);
  assert.deepEqual(ids(store.runs(SLUG, { workflow: 'signup', status: 'failed', since: 2001, limit: 50 })), []);
  assert.deepEqual(store.runs(SLUG, { workflow: 'signup', status: 'failed', limit: 1 }), [
    {
      trace_id: hex(2), workflow: 'signup', operation: 'signup op', status: 'failed', started_at: 2000, duration_ms: 20,
      span_count: 1, error_summary: 'Error: failure 2',
    },
  ]);
});

test('workflows aggregate runs per name, most recent first, with nearest-rank percentiles over finished runs', (t) => {
  const store = openStore(t);
  // checkout: durations 1..100 ms inserted out of order, 3 of them failed, plus 2 runs in progress.
  const rows: Array<[number, string, 'succeeded' | 'failed' | 'started', number, number]> = [];
  for (let i = 1; i <= 100; i++) {
    const duration = ((i * 37) % 100) + 1;
    rows.push([i, 'checkout', i % 40 === 0 || i === 1 ? 'failed' : 'succeeded', 10_000 + i, duration]);
  }
  rows.push([101, 'checkout', 'started', 20_000, 0], [102, 'checkout', 'started', 20_001, 0]);
  rows.push([200, 'signup', 'succeeded', 30_000, 8], [201, 'signup', 'failed', 29_000, 3]);
  rows.push([300, 'export', 'started', 5_000, 0]);
  seedRuns(store, rows);

  const workflows = store.workflows(SLUG, 20);
  assert.deepEqual(workflows.map(withoutPercentiles), [
    { workflow: 'signup', total_runs: 2, failed_runs: 1, avg_duration_ms: 5.5, last_run_at: 30_000 },
    { workflow: 'checkout', total_runs: 102, failed_runs: 3, avg_duration_ms: 50.5, last_run_at: 20_001 },
    { workflow: 'export', total_runs: 1, failed_runs: 0, avg_duration_ms: null, last_run_at: 5_000 },
  ]);
  // Nearest rank: signup's p50 is the smaller of its two, checkout's p95 the 95th of 1..100.
  assertPercentiles(workflows[0]!, [3, 8, 8]);
  assertPercentiles(workflows[1]!, [50, 95, 99]);
  assertPercentiles(workflows[2]!, [null, null, null]);
  assert.deepEqual(store.workflows(SLUG, 1).map((w) => w.workflow), ['signup']);
});

function withoutPercentiles({ p50_duration_ms, p95_duration_ms, p99_duration_ms, ...rest }: WorkflowSummary): Omit<WorkflowSummary, 'p50_duration_ms' | 'p95_duration_ms' | 'p99_duration_ms'> {
  return rest;
}

/** p50, p95 and p99 equal `exact` to within the sketch's relative accuracy (1 %), and never off by more. */
function assertPercentiles(workflow: WorkflowSummary, exact: Array<number | null>): void {
  const got = [workflow.p50_duration_ms, workflow.p95_duration_ms, workflow.p99_duration_ms];
  got.forEach((value, i) => {
    const want = exact[i]!;
    if (want === null) return assert.equal(value, null, `${workflow.workflow} p${[50, 95, 99][i]}`);
    assert.ok(value !== null && Math.abs(value - want) <= want * RELATIVE_ACCURACY, `${workflow.workflow} p${[50, 95, 99][i]}: ${value}, expected ${want} ± 1 %`);
  });
}

test('traceSpans puts a parent before its children when timestamps are equal', (t) => {
  const store = openStore(t);
  const root = span({ trace_id: T, span_id: hex(1), started_at: T0 });
  const child = span({ trace_id: T, span_id: hex(2), parent_span_id: hex(1), started_at: T0 });
  const grandchild = span({ trace_id: T, span_id: hex(3), parent_span_id: hex(2), started_at: T0 });
  const sibling = span({ trace_id: T, span_id: hex(4), parent_span_id: hex(1), started_at: T0 });
  // Children finish first, so they are stored first.
  store.insertBatch(SLUG, traceBatch([grandchild, child, sibling, root]));
  assert.deepEqual(store.traceSpans(SLUG, T).map((s) => s.span_id), [hex(1), hex(2), hex(3), hex(4)]);
});

test('traceSpans puts a parent before children whose clocks run behind, otherwise keeping started_at order', (t) => {
  const store = openStore(t);
  const root = span({ trace_id: T, span_id: hex(1), started_at: T0 });
  const early = span({ trace_id: T, span_id: hex(2), parent_span_id: hex(1), started_at: T0 + 1 });
  // Another host's clock is 50 ms behind: its span and its child look older than the root.
  const skewed = span({ trace_id: T, span_id: hex(3), parent_span_id: hex(1), started_at: T0 - 50 });
  const skewedChild = span({ trace_id: T, span_id: hex(4), parent_span_id: hex(3), started_at: T0 - 60 });
  const late = span({ trace_id: T, span_id: hex(5), parent_span_id: hex(2), started_at: T0 + 5 });
  // Its parent was never received: it keeps its place by time.
  const orphan = span({ trace_id: T, span_id: hex(6), parent_span_id: hex(99), started_at: T0 - 100 });
  store.insertBatch(SLUG, traceBatch([late, skewedChild, skewed, early, root, orphan]));
  assert.deepEqual(store.traceSpans(SLUG, T).map((s) => s.span_id), [hex(6), hex(1), hex(3), hex(4), hex(2), hex(5)]);
});

test('a batch_id seen before for the project stores nothing', (t) => {
  const store = openStore(t);
  assert.deepEqual(store.insertBatch(SLUG, traceBatch([R, A], 'b'.repeat(32))), { accepted: 2, duplicate: false });
  const before = store.counts(SLUG);

  assert.deepEqual(store.insertBatch(SLUG, traceBatch([B, A1], 'b'.repeat(32))), { accepted: 0, duplicate: true });
  const events = [event({ name: 'x', timestamp: T0 })];
  assert.deepEqual(store.insertBatch(SLUG, { kind: 'event', batchId: 'b'.repeat(32), resource: null, events }), { accepted: 0, duplicate: true });

  assert.deepEqual(store.counts(SLUG), before);
  assert.equal(store.span(SLUG, B.span_id), null);
  assert.equal(store.runs(SLUG, { limit: 1 })[0]!.span_count, 2);
});

test('the same batch_id under another project is a different batch', (t) => {
  const store = openStore(t);
  store.insertBatch(SLUG, traceBatch([R], 'c'.repeat(32)));
  assert.deepEqual(store.insertBatch(OTHER, traceBatch([R], 'c'.repeat(32))), { accepted: 1, duplicate: false });
});

test('a batch with one bad row stores nothing, keeps earlier data and can be retried', (t) => {
  const store = openStore(t);
  store.insertBatch(SLUG, traceBatch([R]));
  store.insertBatch(SLUG, { kind: 'event', batchId: null, resource: null, events: [event({ name: 'kept', timestamp: T0 })] });
  const before = store.counts(SLUG);
  assert.deepEqual(before, { spans: 1, events: 1, logs: 0, metric_samples: 0, runs: 1 });

  const bad = { ...A1, workflow: null } as unknown as WireSpan;
  assert.throws(() => store.insertBatch(SLUG, traceBatch([A, B, bad], 'd'.repeat(32))), /NOT NULL constraint failed: spans\.workflow/);
  assert.deepEqual(store.counts(SLUG), before);
  assert.equal(store.span(SLUG, A.span_id), null);
  assert.deepEqual(store.runs(SLUG, { limit: 5 }), [{ ...TREE_RUN, span_count: 1, error_summary: null }]);

  const badEvent = { ...event({ name: 'x', timestamp: T0 }), event_type: null } as unknown as WireEvent;
  const goodEvent = event({ name: 'y', timestamp: T0 });
  assert.throws(() => store.insertBatch(SLUG, { kind: 'event', batchId: 'e'.repeat(32), resource: null, events: [goodEvent, badEvent] }));
  assert.deepEqual(store.counts(SLUG), before);

  // The failed batch's id was not remembered: its corrected retry is stored.
  assert.deepEqual(store.insertBatch(SLUG, traceBatch([A, B, A1], 'd'.repeat(32))), { accepted: 3, duplicate: false });
  assert.deepEqual(store.runs(SLUG, { limit: 5 }), [TREE_RUN]);
});

test('metric samples round trip with every base and extension field, extensions absent as null', (t) => {
  const store = openStore(t);
  const full = sample({
    timestamp: T0, heap_total: 64_000_000, heap_used: 48_000_000, rss: 8_589_934_592, external: 1_000_000,
    array_buffers: 250_000, cpu_usage_pct: 1234, event_loop_lag: 1500, uss: 90_000_000, pss: 95_000_000,
    vms: 1_200_000_000, swap: 4096, pid: 4242, threads: 11, event_loop_p50: 800, event_loop_p99: 12_000, ppid: 1,
    command: 'node server.js', dropped_ring_full: 0, dropped_send_failed: 30, send_retries: 7, metrics_dropped: 2,
    spooled: 5000, replayed: 4000, dropped_spool_full: 0, spool_bytes: 123_456,
  });
  const base = sample({ timestamp: T0 + 10_000, heap_total: 1, heap_used: 2, rss: 3, external: 4, array_buffers: 5, cpu_usage_pct: 6, event_loop_lag: 7 });
  assert.deepEqual(store.insertBatch(SLUG, metricsBatch([full, base])), { accepted: 2, duplicate: false });

  const versions = { sdk_version: '0.1.0', runtime_version: '20.20.2', service: null, host: null };
  assert.deepEqual(store.metrics(SLUG), [
    { ...full, ...versions },
    {
      ...base, uss: null, pss: null, vms: null, swap: null, pid: null, threads: null, event_loop_p50: null,
      event_loop_p99: null, ppid: null, command: null, dropped_ring_full: null, dropped_send_failed: null,
      send_retries: null, metrics_dropped: null, spooled: null, replayed: null, dropped_spool_full: null, spool_bytes: null, ...versions,
    },
  ]);
});

test('metrics filter by pid and time range, and limit keeps the latest samples oldest first', (t) => {
  const store = openStore(t);
  const entries: MetricsEntry[] = [];
  for (let i = 0; i < 5; i++) {
    entries.push(sample({ timestamp: T0 + i * 1000, pid: 100, ppid: 1, rss: 1000 + i, command: i === 4 ? undefined : 'node a.js' }));
    entries.push(sample({ timestamp: T0 + i * 1000 + 500, pid: 200, ppid: 100, rss: 2000 + i, command: 'worker' }));
  }
  store.insertBatch(SLUG, metricsBatch(entries));

  const rss = (samples: Array<{ rss: number }>): number[] => samples.map((s) => s.rss);
  assert.deepEqual(rss(store.metrics(SLUG, { pid: 100 })), [1000, 1001, 1002, 1003, 1004]);
  assert.deepEqual(rss(store.metrics(SLUG, { pid: 200, from: T0 + 1500, to: T0 + 3500 })), [2001, 2002, 2003]);
  assert.deepEqual(rss(store.metrics(SLUG, { limit: 3 })), [2003, 1004, 2004]);
  assert.deepEqual(rss(store.metrics(SLUG, { pid: 100, limit: 2 })), [1003, 1004]);
  assert.deepEqual(store.pids(SLUG), [
    { pid: 200, ppid: 100, command: 'worker', service: null, host: null, first_seen: T0 + 500, last_seen: T0 + 4500, samples: 5 },
    { pid: 100, ppid: 1, command: 'node a.js', service: null, host: null, first_seen: T0, last_seen: T0 + 4000, samples: 5 },
  ]);
});

test('metrics carry the service and host of their batch, filter by service, and list the services', (t) => {
  const store = openStore(t);
  store.insertBatch(SLUG, metricsBatch([sample({ timestamp: T0, pid: 10, rss: 1 }), sample({ timestamp: T0 + 1, pid: 10, rss: 2 })], 'shop', 'web-1'));
  store.insertBatch(SLUG, metricsBatch([sample({ timestamp: T0 + 2, pid: 20, rss: 3 })], 'payments', 'web-2'));
  store.insertBatch(SLUG, metricsBatch([sample({ timestamp: T0 + 3, pid: 30, rss: 4 })]));
  assert.deepEqual(store.metrics(SLUG, { service: 'shop' }).map((m) => [m.rss, m.service, m.host]), [[1, 'shop', 'web-1'], [2, 'shop', 'web-1']]);
  assert.deepEqual(store.metrics(SLUG, { service: 'payments', pid: 20 }).map((m) => m.rss), [3]);
  assert.deepEqual(store.metrics(SLUG, { service: 'payments', pid: 10 }), []);
  assert.deepEqual(store.services(SLUG), ['payments', 'shop']);
  assert.deepEqual(store.pids(SLUG).map((p) => [p.pid, p.service, p.host]), [[30, null, null], [20, 'payments', 'web-2'], [10, 'shop', 'web-1']]);
});

test('a retried metrics batch stores each (pid, timestamp) sample once', (t) => {
  const store = openStore(t);
  const entries = [sample({ timestamp: T0, pid: 7, rss: 1 }), sample({ timestamp: T0 + 1, pid: 7, rss: 2 })];
  assert.deepEqual(store.insertBatch(SLUG, metricsBatch(entries)), { accepted: 2, duplicate: false });
  assert.deepEqual(store.insertBatch(SLUG, metricsBatch(entries)), { accepted: 0, duplicate: false });
  assert.equal(store.counts(SLUG).metric_samples, 2);
});

test('events read back newest first and filter by type, workflow, since and limit', (t) => {
  const store = openStore(t);
  const e1 = event({
    name: 'order placed', timestamp: T0, event_type: 'workflow_started', workflow: 'checkout', trace_id: hex(1),
    span_id: hex(2), message: 'order 17', metadata: { order: 17, express: true, channel: 'web' },
  });
  const e2 = event({ name: 'disk low', timestamp: T0 + 10, event_type: 'warning', severity: 'warning', message: '91% used' });
  const e3 = event({ name: 'order failed', timestamp: T0 + 20, event_type: 'workflow_failed', workflow: 'checkout', severity: 'error' });
  assert.deepEqual(store.insertBatch(SLUG, { kind: 'event', batchId: hex(900), resource: RESOURCE, events: [e1, e2, e3] }), {
    accepted: 3, duplicate: false,
  });

  assert.deepEqual(store.events(SLUG, { limit: 50 }), [e3, e2, e1]);
  assert.deepEqual(store.events(SLUG, { limit: 2 }), [e3, e2]);
  assert.deepEqual(store.events(SLUG, { limit: 50, workflow: 'checkout' }), [e3, e1]);
  assert.deepEqual(store.events(SLUG, { limit: 50, type: 'warning' }), [e2]);
  assert.deepEqual(store.events(SLUG, { limit: 50, since: T0 + 10 }), [e3, e2]);
  assert.deepEqual(store.events(SLUG, { limit: 50, type: 'workflow_started', workflow: 'checkout' }), [e1]);
});

test('retention deletes only rows older than the window, each trace whole, and says how many', (t) => {
  const DAY = 86_400_000;
  const now = T0 + 30 * DAY;
  let clock = now - 10 * DAY;
  const store = openStore(t, { now: () => clock });
  const oldTrace = hex(0x100);
  const newTrace = hex(0x200);
  store.insertBatch(SLUG, traceBatch([
    span({ trace_id: oldTrace, span_id: hex(0x101), started_at: now - 8 * DAY }),
    // A child that started inside the window goes with its old run.
    span({ trace_id: oldTrace, span_id: hex(0x102), parent_span_id: hex(0x101), started_at: now - 6 * DAY }),
    span({ trace_id: newTrace, span_id: hex(0x201), started_at: now - 1 * DAY }),
  ], 'f'.repeat(32)));
  clock = now;
  store.insertBatch(SLUG, {
    kind: 'event', batchId: hex(0x300), resource: null,
    events: [event({ name: 'old', timestamp: now - 9 * DAY }), event({ name: 'new', timestamp: now - DAY })],
  });
  store.insertBatch(SLUG, metricsBatch([sample({ timestamp: now - 9 * DAY, pid: 1 }), sample({ timestamp: now - DAY, pid: 1 })]));
  store.insertBatch(OTHER, traceBatch([span({ trace_id: hex(0x400), span_id: hex(0x401), started_at: now - 20 * DAY })]));

  // old run + its 2 spans + old event + old sample + the old batch id, and the other project's run + span.
  assert.equal(store.applyRetention(7, now), 8);

  assert.deepEqual(store.counts(SLUG), { spans: 1, events: 1, logs: 0, metric_samples: 1, runs: 1 });
  assert.deepEqual(store.counts(OTHER), { spans: 0, events: 0, logs: 0, metric_samples: 0, runs: 0 });
  assert.deepEqual(store.runs(SLUG, { limit: 10 }).map((run) => run.trace_id), [newTrace]);
  assert.deepEqual(store.traceSpans(SLUG, oldTrace), []);
  assert.deepEqual(store.events(SLUG, { limit: 10 }).map((e) => e.name), ['new']);
  // The forgotten batch id no longer blocks a (very late) retry; the younger one still does.
  assert.equal(store.insertBatch(SLUG, traceBatch([], 'f'.repeat(32))).duplicate, false);
  assert.equal(store.insertBatch(SLUG, { kind: 'event', batchId: hex(0x300), resource: null, events: [] }).duplicate, true);
  assert.equal(store.applyRetention(7, now), 0);
});

test('a sweep of many old traces deletes in chunks with the event loop free between them', async (t) => {
  const DAY = 86_400_000;
  const now = T0 + 30 * DAY;
  const store = openStore(t);
  const traces = RETENTION_CHUNK * 2 + 37;
  const spans: WireSpan[] = [];
  for (let n = 0; n < traces; n++) {
    spans.push(span({ trace_id: hex(0x10000 + n), span_id: hex(0x20000 + n), started_at: now - 9 * DAY + n }));
    spans.push(span({ trace_id: hex(0x10000 + n), span_id: hex(0x30000 + n), parent_span_id: hex(0x20000 + n), started_at: now - 9 * DAY + n }));
  }
  spans.push(span({ trace_id: hex(0x5000), span_id: hex(0x5001), started_at: now - DAY }));
  store.insertBatch(SLUG, traceBatch(spans));

  let ticks = 0;
  const ticking = setInterval(() => ticks++, 0);
  const deleted = await store.sweepRetention(7, now);
  clearInterval(ticking);
  assert.equal(deleted, traces * 3, 'every old run and both spans of each');
  assert.ok(ticks >= 2, `the event loop ran between chunks (${ticks} timer ticks during the sweep)`);
  assert.deepEqual(store.counts(SLUG), { spans: 1, events: 0, logs: 0, metric_samples: 0, runs: 1 });
});

test('a sweep told to stop ends at a chunk boundary, each trace whole', async (t) => {
  const store = openStore(t);
  const DAY = 86_400_000;
  const now = T0 + 30 * DAY;
  const spans: WireSpan[] = [];
  for (let n = 0; n < RETENTION_CHUNK * 3; n++) spans.push(span({ trace_id: hex(0x10000 + n), span_id: hex(0x20000 + n), started_at: now - 9 * DAY }));
  store.insertBatch(SLUG, traceBatch(spans, null));
  let chunks = 0;
  const deleted = await store.sweepRetention(7, now, () => chunks++ >= 1);
  assert.equal(deleted, RETENTION_CHUNK * 2, 'one chunk: 500 runs and their 500 spans');
  assert.deepEqual(store.counts(SLUG), { spans: RETENTION_CHUNK * 2, events: 0, logs: 0, metric_samples: 0, runs: RETENTION_CHUNK * 2 });
});

test('retention refuses a window that is not a positive number of days', (t) => {
  const store = openStore(t);
  assert.throws(() => store.applyRetention(0), /positive number of days, got 0/);
  assert.throws(() => store.applyRetention(Number.NaN), RangeError);
});

test('reopening a file keeps its data and does not rerun migrations', (t) => {
  const file = join(tempDir(t), 'nested', 'dir', 'teracron.db');
  const first = CollectorStore.open(file);
  assert.equal(first.migrationsApplied, SCHEMA_VERSION);
  first.insertBatch(SLUG, traceBatch([R, A, B, A1]));
  first.close();

  const again = CollectorStore.open(file);
  t.after(() => again.close());
  assert.equal(again.migrationsApplied, 0);
  assert.deepEqual(again.runs(SLUG, { limit: 5 }), [TREE_RUN]);
  assert.deepEqual(again.counts(SLUG), { spans: 4, events: 0, logs: 0, metric_samples: 0, runs: 1 });

  const db = new Database(file, { readonly: true });
  t.after(() => db.close());
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
});

test('a file from schema 1 gains the service and host columns and keeps its samples', (t) => {
  const file = join(tempDir(t), 'teracron.db');
  const current = CollectorStore.open(file);
  current.insertBatch(SLUG, metricsBatch([sample({ timestamp: T0, pid: 5, rss: 42 })]));
  current.close();
  // Back to what version 1 wrote: no service/host columns, no index on them.
  rewindSchema(file, `${UNDO_SCHEMA_3} DROP INDEX metric_samples_service; ALTER TABLE metric_samples DROP COLUMN service; ALTER TABLE metric_samples DROP COLUMN host;`, 1);

  const migrated = CollectorStore.open(file);
  t.after(() => migrated.close());
  assert.equal(migrated.migrationsApplied, SCHEMA_VERSION - 1);
  assert.deepEqual(migrated.metrics(SLUG).map((m) => [m.pid, m.rss, m.service, m.host]), [[5, 42, null, null]]);
  migrated.insertBatch(SLUG, metricsBatch([sample({ timestamp: T0 + 1, pid: 5, rss: 43 })], 'shop', 'h'));
  assert.deepEqual(migrated.services(SLUG), ['shop']);
});

test('a file from schema 2 gains the agent counter columns and keeps its samples', (t) => {
  const file = join(tempDir(t), 'teracron.db');
  const current = CollectorStore.open(file);
  current.insertBatch(SLUG, metricsBatch([sample({ timestamp: T0, pid: 5, rss: 42 })], 'shop', 'h'));
  current.close();
  rewindSchema(file, UNDO_SCHEMA_3, 2);

  const migrated = CollectorStore.open(file);
  t.after(() => migrated.close());
  assert.equal(migrated.migrationsApplied, SCHEMA_VERSION - 2);
  migrated.insertBatch(SLUG, metricsBatch([sample({ timestamp: T0 + 1, pid: 5, rss: 43, dropped_ring_full: 12, dropped_send_failed: 0, send_retries: 3, metrics_dropped: 0 })], 'shop', 'h'));
  assert.deepEqual(
    migrated.metrics(SLUG).map((m) => [m.rss, m.service, m.dropped_ring_full, m.dropped_send_failed, m.send_retries, m.metrics_dropped]),
    [[42, 'shop', null, null, null, null], [43, 'shop', 12, 0, 3, 0]],
  );
});

test('a file from schema 6 gains the spool columns and keeps its samples', (t) => {
  const file = join(tempDir(t), 'teracron.db');
  const current = CollectorStore.open(file);
  current.insertBatch(SLUG, metricsBatch([sample({ timestamp: T0, pid: 5, rss: 42, dropped_send_failed: 1 })], 'shop', 'h'));
  current.close();
  rewindSchema(file, UNDO_SCHEMA_7, 6);

  const migrated = CollectorStore.open(file);
  t.after(() => migrated.close());
  assert.equal(migrated.migrationsApplied, SCHEMA_VERSION - 6);
  migrated.insertBatch(SLUG, metricsBatch([sample({ timestamp: T0 + 1, pid: 5, rss: 43, spooled: 900, replayed: 0, dropped_spool_full: 0, spool_bytes: 70_000 })], 'shop', 'h'));
  assert.deepEqual(
    migrated.metrics(SLUG).map((m) => [m.rss, m.dropped_send_failed, m.spooled, m.replayed, m.dropped_spool_full, m.spool_bytes]),
    [[42, 1, null, null, null, null], [43, null, 900, 0, 0, 70_000]],
  );
});

test('a file from a newer schema is refused with a message saying so', (t) => {
  const file = join(tempDir(t), 'teracron.db');
  const db = new Database(file);
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  assert.throws(() => CollectorStore.open(file), (error: unknown) => {
    assert.ok(error instanceof TeracronStoreError);
    assert.equal(error.code, 'TERACRON_ERR_STORE');
    assert.equal(error.reason, 'schema');
    assert.match(error.message, new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer than this collector knows \\(${SCHEMA_VERSION}\\)`));
    return true;
  });
});

test('a driver binary that cannot load is reported with the command that fixes it', (t) => {
  const file = join(tempDir(t), 'teracron.db');
  assert.throws(() => CollectorStore.open(file, { nativeBinding: join(tempDir(t), 'missing', 'better_sqlite3.node') }), (error: unknown) => {
    assert.ok(error instanceof TeracronStoreError);
    assert.equal(error.reason, 'driver-load');
    assert.match(error.message, /better-sqlite3 is installed but its native binary did not load/);
    assert.ok(error.message.includes('npm install-scripts approve better-sqlite3 && npm rebuild better-sqlite3'), error.message);
    return true;
  });
});

test('a path that cannot be a database file is reported as an open error naming the file', (t) => {
  const dir = tempDir(t);
  assert.throws(() => CollectorStore.open(dir), (error: unknown) => {
    assert.ok(error instanceof TeracronStoreError);
    assert.equal(error.reason, 'open');
    assert.ok(error.message.includes(dir), error.message);
    return true;
  });
});

test('another project never sees the first project data', (t) => {
  const store = openStore(t);
  store.insertBatch(SLUG, traceBatch([R, A, B, A1]));
  store.insertBatch(SLUG, { kind: 'event', batchId: null, resource: null, events: [event({ name: 'e', timestamp: T0, workflow: 'checkout' })] });
  store.insertBatch(SLUG, metricsBatch([sample({ timestamp: T0, pid: 1 })]));

  assert.deepEqual(store.runs(OTHER, { limit: 50 }), []);
  assert.deepEqual(store.runs(OTHER, { limit: 50, workflow: 'checkout', status: 'succeeded' }), []);
  assert.deepEqual(store.workflows(OTHER, 20), []);
  assert.deepEqual(store.traceSpans(OTHER, T), []);
  assert.equal(store.span(OTHER, R.span_id), null);
  assert.deepEqual(store.events(OTHER, { limit: 50 }), []);
  assert.deepEqual(store.metrics(OTHER), []);
  assert.deepEqual(store.pids(OTHER), []);
  assert.deepEqual(store.counts(OTHER), { spans: 0, events: 0, logs: 0, metric_samples: 0, runs: 0 });

  // The other project's own spans with the same ids live beside the first project's.
  assert.deepEqual(store.insertBatch(OTHER, traceBatch([R])), { accepted: 1, duplicate: false });
  assert.deepEqual(store.counts(SLUG), { spans: 4, events: 1, logs: 0, metric_samples: 1, runs: 1 });
  assert.deepEqual(store.runs(OTHER, { limit: 5 }), [{ ...TREE_RUN, span_count: 1, error_summary: null }]);
});

test('a committed batch survives kill -9 of the process that wrote it', async (t) => {
  const file = join(tempDir(t), 'teracron.db');
  const storeModule = join(__dirname, '..', '..', 'src', 'collector', 'store', 'index.js');
  const spans = [R, A, B, A1];
  const child = spawn(process.execPath, ['-e', `
    const { CollectorStore } = require(${JSON.stringify(storeModule)});
    const store = CollectorStore.open(${JSON.stringify(file)});
    store.insertBatch(${JSON.stringify(SLUG)}, { kind: 'trace', batchId: null, resource: null, spans: ${JSON.stringify(spans)}, occurrences: [] });
    process.stdout.write('committed\\n');
    setInterval(() => {}, 1000);
  `], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('committed')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`the writer exited (${code}) before committing: ${stderr}`)));
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');

  const store = CollectorStore.open(file);
  t.after(() => store.close());
  assert.deepEqual(store.counts(SLUG), { spans: 4, events: 0, logs: 0, metric_samples: 0, runs: 1 });
  assert.deepEqual(store.runs(SLUG, { limit: 1 }), [TREE_RUN]);
});

test('a trace whose root is elsewhere is its entry span\'s, in whatever order its spans arrive, even when a child starts in the same millisecond', (t) => {
  const remote = hex(0x9999);
  // The child's id sorts before the entry's, so an order by id alone would pick the child.
  const entry = span({ trace_id: hex(0x7200), span_id: hex(0x50), parent_span_id: remote, workflow: 'http', operation: 'GET /orders', started_at: T0, duration_ms: 25, status: 'failed', error_type: 'HTTPError', error_message: '502' });
  const child = span({ trace_id: hex(0x7200), span_id: hex(0x40), parent_span_id: hex(0x50), workflow: 'http', operation: 'db.query', started_at: T0, duration_ms: 20, status: 'failed', error_type: 'DbError', error_message: 'timeout' });
  const late = span({ trace_id: hex(0x7200), span_id: hex(0x30), parent_span_id: hex(0x50), workflow: 'http', operation: 'render', started_at: T0 + 21, duration_ms: 1 });
  const expected = {
    trace_id: hex(0x7200), workflow: 'http', operation: 'GET /orders', status: 'failed', started_at: T0, duration_ms: 25, span_count: 3,
    error_summary: 'HTTPError: 502',
  };
  for (const order of [[[entry, child, late]], [[late], [child], [entry]], [[child, late], [entry]], [[entry], [late, child]]]) {
    const store = openStore(t);
    for (const batch of order) store.insertBatch(SLUG, traceBatch(batch));
    assert.deepEqual(store.runs(SLUG, { limit: 10 }), [expected], order.map((b) => b.map((s) => s.operation).join('+')).join(' | '));
    const [workflow] = store.workflows(SLUG, 10);
    assert.equal(workflow!.avg_duration_ms, 25);
  }
});

test('a file from schema 3 gains the run fold\'s columns; its runs keep their rows and fold on', (t) => {
  const file = join(tempDir(t), 'teracron.db');
  const current = CollectorStore.open(file);
  current.insertBatch(SLUG, traceBatch([A1, A]));
  current.close();
  rewindSchema(file, UNDO_SCHEMA_4, 3);

  const migrated = CollectorStore.open(file);
  t.after(() => migrated.close());
  assert.equal(migrated.migrationsApplied, SCHEMA_VERSION - 3);
  migrated.insertBatch(SLUG, traceBatch([B, R]));
  assert.deepEqual(migrated.runs(SLUG, { limit: 10 }), [TREE_RUN]);
});
