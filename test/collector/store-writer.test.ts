import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { packInput, unpackInput } from '../../src/collector/batch-transfer';
import { CollectorStore } from '../../src/collector/store';
import type { IngestInput } from '../../src/collector/store';
import { StoreWriteError, StoreWriter } from '../../src/collector/store-writer';
import { encodeBatch, newBatchId } from '../../src/wire/batch-codec';
import type { WireSpan } from '../../src/wire/batch-codec';
import { loadPublicKey, sealEnvelope } from '../../src/wire/envelope';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import { fileTimeout } from '../helpers/file-timeout';
import { envelopeVectors } from '../helpers/vectors';

fileTimeout(60_000);

const SLUG = 'vivid-kudu-655';
const vectors = envelopeVectors();

function tempFile(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'teracron-writer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'teracron.db');
}

function spans(count: number, workflow: string, fields: Partial<WireSpan> = {}): WireSpan[] {
  return Array.from({ length: count }, () => ({
    trace_id: newBatchId(), span_id: newBatchId(), parent_span_id: null, workflow, operation: 'op', status: 'succeeded',
    started_at: Date.now(), duration_ms: 2.5, error_type: null, error_message: null, metadata: { n: 1 }, captured_params: {}, ...fields,
  }));
}

function traceInput(list: WireSpan[]): IngestInput {
  return { kind: 'trace', batchId: newBatchId(), resource: { service: 'shop', environment: 'test', host: 'h', pid: 7, sdk: { name: 'teracron-node', version: '0.1.0' }, runtime: { name: 'node', version: '20.20.2' } }, spans: list, occurrences: [] };
}

test('a packed batch reads back exactly, lone surrogates and all', () => {
  const plain = traceInput(spans(3, 'checkout', { metadata: { route: '/orders/:id', n: 12.5, ok: true }, error_message: 'naïve — ✓ 𝄞' }));
  assert.deepEqual(unpackInput(packInput(plain)), plain);
  // UTF-8 cannot carry a lone surrogate: such a batch goes as a structured clone, unchanged.
  const odd = traceInput(spans(2, 'checkout', { metadata: { ['k\ud800']: 'v\udc00' }, operation: 'op\ud83d' }));
  const back = unpackInput(packInput(odd));
  assert.deepEqual(back, odd);
  assert.equal((back as Extract<IngestInput, { kind: 'trace' }>).spans[0]!.operation, 'op\ud83d');
});

test('batches sent at once are all stored and each answered with its own result, readable as soon as it is answered', async (t) => {
  const file = tempFile(t);
  const reader = CollectorStore.open(file);
  t.after(() => reader.close());
  const writer = await StoreWriter.start(file);
  t.after(() => writer.close());

  const inputs = Array.from({ length: 40 }, (_, i) => traceInput(spans(1 + (i % 5), `w${i % 3}`)));
  const answers = inputs.map(async (input) => {
    const result = await writer.insert(SLUG, packInput(input));
    // Answered means committed: the main thread's own connection sees it at once.
    const { spans: written } = input as Extract<IngestInput, { kind: 'trace' }>;
    assert.equal(reader.span(SLUG, written[0]!.span_id)?.workflow, written[0]!.workflow);
    return result;
  });
  assert.deepEqual(await Promise.all(answers), inputs.map((input) => ({ accepted: (input as Extract<IngestInput, { kind: 'trace' }>).spans.length, duplicate: false })));
  assert.equal(reader.counts(SLUG).spans, inputs.reduce((sum, input) => sum + (input as Extract<IngestInput, { kind: 'trace' }>).spans.length, 0));
  // The same batch again (a sender retrying after a lost answer) is a duplicate, stored once.
  assert.deepEqual(await writer.insert(SLUG, packInput(inputs[0]!)), { accepted: 0, duplicate: true });
});

test('close() writes what was sent before it, and later inserts are refused saying why', async (t) => {
  const file = tempFile(t);
  const writer = await StoreWriter.start(file);
  const sent = Array.from({ length: 10 }, () => writer.insert(SLUG, packInput(traceInput(spans(100, 'late')))));
  await writer.close();
  assert.deepEqual((await Promise.all(sent)).map((r) => r.accepted), Array(10).fill(100));
  await assert.rejects(writer.insert(SLUG, packInput(traceInput(spans(1, 'after')))), (error: unknown) => {
    assert.ok(error instanceof StoreWriteError);
    assert.equal(error.code, 'WRITER_UNAVAILABLE');
    assert.match(error.message, /closing/);
    return true;
  });
  const reader = CollectorStore.open(file);
  t.after(() => reader.close());
  assert.equal(reader.counts(SLUG).spans, 1000);
});

test('the sweep deletes old runs on the writer thread while batches keep being stored', async (t) => {
  const file = tempFile(t);
  const old = Date.now() - 30 * 86_400_000;
  const seed = CollectorStore.open(file);
  for (let i = 0; i < 12; i++) seed.insertBatch(SLUG, traceInput(spans(500, 'old', { started_at: old + i })));
  seed.close();
  const writer = await StoreWriter.start(file);
  t.after(() => writer.close());
  const sweeping = writer.sweep(7, Date.now());
  const fresh = await Promise.all(Array.from({ length: 5 }, () => writer.insert(SLUG, packInput(traceInput(spans(50, 'new'))))));
  assert.equal(await sweeping, 6000 * 2);
  assert.deepEqual(fresh.map((r) => r.accepted), [50, 50, 50, 50, 50]);
  const reader = CollectorStore.open(file);
  t.after(() => reader.close());
  assert.deepEqual(reader.workflows(SLUG, 10).map((w) => [w.workflow, w.total_runs]), [['new', 250]]);
});

function post(url: string, body: Buffer): Promise<{ status: number; text: string; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/api/v1/traces`, { method: 'POST', headers: { 'x-project-slug': vectors.slug, 'content-length': body.length } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, text, retryAfter: res.headers['retry-after'] as string | undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('a store that cannot write answers 503 with Retry-After and stores nothing; the same batch is stored once it can', async () => {
  const dataDir = vectorDataDir();
  const collector = await startCollectorProcess(dataDir, ['--retention-days', '3650']);
  // Another connection holds the write lock past the writer's busy timeout (5 s).
  const blocker = new Database(join(dataDir, 'teracron.db'));
  try {
    const body = sealEnvelope(encodeBatch({ type: 'trace', project_slug: vectors.slug, batch_id: newBatchId(), spans: spans(3, 'locked-out') }, 'msgpack'), loadPublicKey(vectors.public_key_pem));
    blocker.exec('BEGIN IMMEDIATE');
    const refused = await post(collector.url, body);
    assert.equal(refused.status, 503, refused.text);
    assert.equal(refused.retryAfter, '1');
    assert.match(JSON.parse(refused.text).error, /could not store the batch: database is locked/);
    assert.match(collector.stderr(), new RegExp(`\\[collector\\] could not store a batch of project ${vectors.slug}: database is locked \\(SQLITE_BUSY\\)`));
    blocker.exec('ROLLBACK');
    const stored = await post(collector.url, body);
    assert.equal(stored.status, 202, stored.text);
    assert.deepEqual(JSON.parse(stored.text), { accepted: 3, dropped: 0 });
  } finally {
    if (blocker.inTransaction) blocker.exec('ROLLBACK');
    blocker.close();
    await collector.stop();
  }
});

test('with --ingest-threads 0 bodies are opened on the event loop and still stored by the writer thread', async () => {
  const collector = await startCollectorProcess(vectorDataDir(), ['--ingest-threads', '0']);
  try {
    const body = sealEnvelope(encodeBatch({ type: 'trace', project_slug: vectors.slug, batch_id: newBatchId(), spans: spans(4, 'on-the-loop') }, 'json'), loadPublicKey(vectors.public_key_pem));
    const stored = await post(collector.url, body);
    assert.equal(stored.status, 202, stored.text);
    assert.deepEqual(JSON.parse(stored.text), { accepted: 4, dropped: 0 });
    const { status, body: answer } = await query(collector.url, '/api/v1/workflows');
    assert.equal(status, 200);
    assert.deepEqual((answer.workflows as Array<{ workflow: string; total_runs: number }>).map((w) => [w.workflow, w.total_runs]), [['on-the-loop', 4]]);
  } finally {
    await collector.stop();
  }
});
