import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CollectorStore, SCHEMA_VERSION } from '../../src/collector/store';
import type { IngestInput, WorkflowSummary } from '../../src/collector/store';
import { bucketOf, bucketValue, decodeSketch, encodeSketch, quantiles, RELATIVE_ACCURACY } from '../../src/collector/store/duration-sketch';
import { runsSql, TRACE_SPANS } from '../../src/collector/store/queries';
import { HOUR_MS } from '../../src/collector/store/workflow-hours';
import type { WireSpan } from '../../src/wire/batch-codec';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const SLUG = 'vivid-kudu-655';
const HOUR0 = 1_700_002_800_000; // a whole hour
let counter = 0;

function hex(n: number): string {
  return n.toString(16).padStart(32, '0');
}

function tempFile(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'teracron-hours-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'teracron.db');
}

function span(fields: Partial<WireSpan> & { span_id: string; trace_id: string }): WireSpan {
  return {
    parent_span_id: null, workflow: 'checkout', operation: 'op', status: 'succeeded', started_at: HOUR0, duration_ms: 1,
    error_type: null, error_message: null, metadata: {}, captured_params: {}, ...fields,
  };
}

function batch(spans: WireSpan[]): Extract<IngestInput, { kind: 'trace' }> {
  return { kind: 'trace', batchId: hex(++counter), resource: null, spans, occurrences: [] };
}

/** A seeded generator, so a failure replays. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface RunRow {
  workflow: string;
  status: string;
  started_at: number;
  duration_ms: number;
}

/** The workflows list computed the slow, obvious way from the runs table: what the aggregates must equal. */
function fromRuns(file: string, since?: number): Map<string, { total: number; failed: number; finished: number[]; sum: number }> {
  const db = new Database(file, { readonly: true });
  const rows = db.prepare<[], RunRow>('SELECT workflow, status, started_at, duration_ms FROM runs').all();
  db.close();
  const out = new Map<string, { total: number; failed: number; finished: number[]; sum: number }>();
  const fromHour = since === undefined ? -Infinity : Math.floor(since / HOUR_MS) * HOUR_MS;
  for (const row of rows) {
    if (row.started_at < fromHour) continue;
    const w = out.get(row.workflow) ?? { total: 0, failed: 0, finished: [], sum: 0 };
    out.set(row.workflow, w);
    w.total++;
    if (row.status === 'failed') w.failed++;
    if (row.status !== 'in_progress') {
      w.finished.push(row.duration_ms);
      w.sum += row.duration_ms;
    }
  }
  return out;
}

function nearestRank(sorted: number[], p: number): number {
  return sorted[Math.max(1, Math.ceil((p * sorted.length) / 100)) - 1]!;
}

function assertMatchesRuns(listed: WorkflowSummary[], expected: ReturnType<typeof fromRuns>, where: string): void {
  assert.deepEqual(listed.map((w) => w.workflow).sort(), [...expected.keys()].sort(), `${where}: workflows`);
  for (const w of listed) {
    const e = expected.get(w.workflow)!;
    assert.equal(w.total_runs, e.total, `${where}: ${w.workflow} total_runs`);
    assert.equal(w.failed_runs, e.failed, `${where}: ${w.workflow} failed_runs`);
    if (e.finished.length === 0) {
      assert.deepEqual([w.avg_duration_ms, w.p50_duration_ms, w.p99_duration_ms], [null, null, null], `${where}: ${w.workflow} nothing finished`);
      continue;
    }
    assert.ok(Math.abs(w.avg_duration_ms! - e.sum / e.finished.length) < 1e-9 * Math.max(1, e.sum), `${where}: ${w.workflow} avg ${w.avg_duration_ms} vs ${e.sum / e.finished.length}`);
    const sorted = [...e.finished].sort((a, b) => a - b);
    for (const [p, got] of [[50, w.p50_duration_ms], [95, w.p95_duration_ms], [99, w.p99_duration_ms]] as const) {
      const exact = nearestRank(sorted, p);
      assert.ok(Math.abs(got! - exact) <= exact * RELATIVE_ACCURACY + 1e-9, `${where}: ${w.workflow} p${p} ${got} vs exact ${exact}`);
    }
  }
}

test('a sketch reads every quantile to within 1 % of the exact nearest-rank value, and survives its bytes', () => {
  const next = random(7);
  const durations = Array.from({ length: 5000 }, () => Math.exp(next() * 16 - 6)); // 0.0025 ms … 22 s
  durations.push(0, 0);
  const sketch = new Map<number, number>();
  for (const d of durations) sketch.set(bucketOf(d), (sketch.get(bucketOf(d)) ?? 0) + 1);
  const sorted = [...durations].sort((a, b) => a - b);
  const percents = [0.1, 1, 25, 50, 75, 90, 95, 99, 99.9, 100];
  const read = quantiles(decodeSketch(encodeSketch(sketch)), durations.length, percents);
  percents.forEach((p, i) => {
    const exact = nearestRank(sorted, p);
    assert.ok(Math.abs(read[i]! - exact) <= exact * RELATIVE_ACCURACY, `p${p}: ${read[i]} vs ${exact}`);
  });
  assert.deepEqual(quantiles(new Map(), 0, [50]), [null]);
  // Every bucket's value lies inside the bucket.
  for (const d of [1e-3, 0.5, 1, 1.01, 999, 1e7]) assert.equal(bucketOf(bucketValue(bucketOf(d))), bucketOf(d), `bucket of ${d}`);
});

test('the workflow aggregates equal what the runs table says, whatever order spans and batches arrive in', (t) => {
  for (const seed of [1, 2, 3]) {
    const file = tempFile(t);
    const store = CollectorStore.open(file);
    const next = random(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    // Traces of 1–4 spans: a root (sometimes elsewhere: a remote parent), children, some failing,
    // some first reported `started`; spread over three hours and three workflows.
    const spans: WireSpan[] = [];
    for (let trace = 0; trace < 300; trace++) {
      const traceId = hex(0x10000 + trace);
      const rootId = hex(0x100000 + trace * 8);
      const remote = next() < 0.2;
      const start = HOUR0 + Math.floor(next() * 3 * HOUR_MS);
      const workflow = pick(['checkout', 'signup', 'export']);
      const root = span({
        trace_id: traceId, span_id: rootId, parent_span_id: remote ? hex(0xfff) : null, workflow, started_at: start,
        duration_ms: Math.round(next() * 5000) / 10, status: next() < 0.1 ? 'failed' : 'succeeded',
      });
      if (next() < 0.15) spans.push({ ...root, status: 'started', duration_ms: 0 });
      if (next() < 0.9) spans.push(root);
      for (let child = 1; child < 1 + Math.floor(next() * 4); child++) {
        spans.push(span({
          trace_id: traceId, span_id: hex(0x100000 + trace * 8 + child), parent_span_id: rootId, workflow: next() < 0.3 ? 'http' : workflow,
          started_at: start + Math.floor(next() * 2), duration_ms: Math.round(next() * 1000) / 10, status: next() < 0.2 ? 'failed' : 'succeeded',
        }));
      }
    }
    // Shuffled, then cut into batches of 1–40, a few sent twice (a retry under a new batch id).
    for (let i = spans.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [spans[i], spans[j]] = [spans[j]!, spans[i]!];
    }
    for (let at = 0; at < spans.length;) {
      const size = 1 + Math.floor(next() * 40);
      const part = spans.slice(at, at + size);
      at += size;
      // Several batches in one transaction as the writer thread sends them, or one at a time.
      if (next() < 0.5) store.insertBatches([{ slug: SLUG, input: batch(part) }, { slug: SLUG, input: batch(part.slice(0, 2)) }]);
      else store.insertBatch(SLUG, batch(part));
    }
    assertMatchesRuns(store.workflows(SLUG, 100), fromRuns(file), `seed ${seed}`);
    const since = HOUR0 + HOUR_MS + 1234;
    assertMatchesRuns(store.workflows(SLUG, 100, since), fromRuns(file, since), `seed ${seed} since the second hour`);

    // Retention takes deleted runs out of their hours.
    const deleted = store.applyRetention(1, HOUR0 + HOUR_MS + 24 * HOUR_MS);
    assert.ok(deleted > 0);
    assertMatchesRuns(store.workflows(SLUG, 100), fromRuns(file), `seed ${seed} after retention`);
    store.close();
  }
});

test('in a group of batches, one that fails is stored not at all and the others are stored whole', (t) => {
  const file = tempFile(t);
  const store = CollectorStore.open(file);
  t.after(() => store.close());
  const good = batch([span({ trace_id: hex(1), span_id: hex(11), duration_ms: 10 })]);
  // NOT NULL breaks in SQLite, after the batch's first span and its run were written.
  const bad = batch([span({ trace_id: hex(2), span_id: hex(21), duration_ms: 20 }), span({ trace_id: hex(3), span_id: hex(31), workflow: null as unknown as string })]);
  const alsoGood = batch([span({ trace_id: hex(4), span_id: hex(41), duration_ms: 30 })]);
  const results = store.insertBatches([{ slug: SLUG, input: good }, { slug: SLUG, input: bad }, { slug: SLUG, input: alsoGood }]);
  assert.deepEqual(results[0], { accepted: 1, duplicate: false });
  assert.ok(results[1] instanceof Error && /NOT NULL/.test(results[1].message), String(results[1]));
  assert.deepEqual(results[2], { accepted: 1, duplicate: false });
  assert.deepEqual(store.counts(SLUG), { spans: 2, events: 0, logs: 0, metric_samples: 0, runs: 2 });
  assert.equal(store.traceSpans(SLUG, hex(2)).length, 0);
  const [checkout] = store.workflows(SLUG, 10);
  assert.deepEqual([checkout!.total_runs, checkout!.avg_duration_ms], [2, 20]);
  // Its batch id was rolled back with it: once fixed, the batch is stored, not taken for a duplicate.
  const fixed = { ...bad, spans: bad.spans.map((s) => ({ ...s, workflow: 'checkout' })) };
  assert.deepEqual(store.insertBatches([{ slug: SLUG, input: fixed }]), [{ accepted: 2, duplicate: false }]);
});

test('a file from schema 4 gets its spans linked to their runs and its workflow aggregates filled', (t) => {
  const file = tempFile(t);
  const store = CollectorStore.open(file);
  const spans: WireSpan[] = [];
  for (let i = 0; i < 40; i++) {
    spans.push(span({ trace_id: hex(100 + i), span_id: hex(1000 + i), workflow: i % 3 === 0 ? 'signup' : 'checkout', started_at: HOUR0 + i * 600_000, duration_ms: i + 0.5, status: i % 7 === 0 ? 'failed' : 'succeeded' }));
    spans.push(span({ trace_id: hex(100 + i), span_id: hex(2000 + i), parent_span_id: hex(1000 + i), started_at: HOUR0 + i * 600_000 + 1 }));
  }
  store.insertBatch(SLUG, batch(spans));
  const before = { workflows: store.workflows(SLUG, 10), trace: store.traceSpans(SLUG, hex(107)) };
  store.close();
  const db = new Database(file);
  // Migration 7's columns and 8's tables go too, so that migrating from 4 adds them again.
  db.exec(`DROP TABLE logs; DROP TABLE issues; DROP TABLE issue_services; DROP TABLE issue_occurrences;
    ${['spooled', 'replayed', 'dropped_spool_full', 'spool_bytes'].map((c) => `ALTER TABLE metric_samples DROP COLUMN ${c};`).join(' ')}
    DROP TABLE workflow_hours; DROP INDEX spans_run; ALTER TABLE spans DROP COLUMN run;
    CREATE INDEX spans_trace ON spans (project, trace_id, started_at);
    CREATE INDEX runs_finished_duration ON runs (project, workflow, duration_ms) WHERE status <> 'in_progress';
  DROP INDEX runs_unfinished; CREATE INDEX runs_status ON runs (project, status, started_at);
    PRAGMA user_version = 4;`);
  db.close();

  const migrated = CollectorStore.open(file);
  t.after(() => migrated.close());
  assert.equal(migrated.migrationsApplied, SCHEMA_VERSION - 4);
  assert.deepEqual(migrated.workflows(SLUG, 10), before.workflows);
  assert.deepEqual(migrated.traceSpans(SLUG, hex(107)), before.trace);
  assert.equal(before.trace.length, 2);
  assertMatchesRuns(migrated.workflows(SLUG, 10), fromRuns(file), 'migrated');
});

test('the trace lookup and the listing of failed runs are index searches, not scans', (t) => {
  const file = tempFile(t);
  CollectorStore.open(file).close();
  const db = new Database(file, { readonly: true });
  t.after(() => db.close());
  const plan = (sql: string, ...params: unknown[]): string =>
    (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((row) => row.detail).join(' | ');
  const trace = plan(TRACE_SPANS, 1, Buffer.alloc(16));
  assert.match(trace, /SEARCH spans USING INDEX spans_run \(run=\?\)/, trace);
  assert.match(trace, /SEARCH runs USING COVERING INDEX runs_trace \(project=\? AND trace_id=\?\)/, trace);
  const failed = plan(runsSql(2), 1, 'failed', 0, 50);
  assert.match(failed, /^SEARCH runs USING INDEX runs_unfinished \(project=\? AND status=\? AND started_at>\?\)$/, failed);
});

test('a finished run whose duration changes within one histogram bucket moves the average', (t) => {
  const file = tempFile(t);
  const store = CollectorStore.open(file);
  t.after(() => store.close());
  const trace = hex(0x5151);
  // The child stands in for a root kept elsewhere (100 ms); the root arrives later with 100.5 ms,
  // a duration in the same bucket, so only the sum of durations changes.
  store.insertBatch(SLUG, batch([span({ trace_id: trace, span_id: hex(2), parent_span_id: hex(1), duration_ms: 100 })]));
  store.insertBatch(SLUG, batch([span({ trace_id: trace, span_id: hex(1), duration_ms: 100.5 })]));
  const [checkout] = store.workflows(SLUG, 10);
  assert.equal(checkout!.avg_duration_ms, 100.5);
  assertMatchesRuns(store.workflows(SLUG, 10), fromRuns(file), 'root after its child');
});
