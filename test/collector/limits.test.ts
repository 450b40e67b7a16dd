/** Per-project ingest and per-key query rate limits over HTTP, and what importing the agent loads. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { request } from 'undici';
import { encodeBatch, newBatchId } from '../../src/wire/batch-codec';
import { loadPublicKey, sealEnvelope } from '../../src/wire/envelope';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import { envelopeVectors } from '../helpers/vectors';
import { repoRoot } from '../../support/repo-root';

const vectors = envelopeVectors();

test('a project sending faster than --ingest-rate gets 429 with Retry-After, and nothing of that batch is stored', async () => {
  const collector = await startCollectorProcess(vectorDataDir(), ['--ingest-rate', '2', '--query-rate', '2']);
  try {
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 8; i++) {
      const spans = [{ trace_id: (i + 1).toString(16).padStart(32, '0'), span_id: (i + 100).toString(16).padStart(32, '0'), parent_span_id: null, workflow: 'limited', operation: 'op', status: 'succeeded' as const, started_at: Date.now(), duration_ms: 1, error_type: null, error_message: null, metadata: {}, captured_params: {} }];
      const body = sealEnvelope(encodeBatch({ type: 'trace', project_slug: vectors.slug, batch_id: newBatchId(), spans }, 'json'), loadPublicKey(vectors.public_key_pem));
      const res = await request(`${collector.url}/api/v1/traces`, { method: 'POST', body, headers: { 'x-project-slug': vectors.slug } });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) retryAfter = String(res.headers['retry-after']);
      await res.body.dump();
    }
    assert.deepEqual(statuses.slice(0, 4), [202, 202, 202, 202], 'the burst is accepted');
    assert.ok(statuses.includes(429), `statuses ${statuses.join(',')}`);
    assert.match(String(retryAfter), /^[1-9]\d*$/);
    const accepted = statuses.filter((s) => s === 202).length;

    const queried: number[] = [];
    for (let i = 0; i < 8; i++) queried.push((await query(collector.url, '/api/v1/events?workflow=limited&limit=100')).status);
    assert.ok(queried.includes(429), 'queries are limited per key too');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const { body } = await query(collector.url, '/api/v1/events?workflow=limited&limit=100');
    assert.equal(body.events.length, accepted, 'exactly the accepted batches are stored');
  } finally {
    await collector.stop();
  }
});

test('importing teracron loads no collector code and no database driver', () => {
  // Paths are matched below the checkout, whose own folder may well be called `cli` or `collector`.
  const script = `require('teracron'); const root = ${JSON.stringify(repoRoot())}; const loaded = Object.keys(require.cache).map((f) => f.startsWith(root) ? f.slice(root.length) : f); process.stdout.write(JSON.stringify(loaded.filter((f) => /collector|better-sqlite3|[\\\\/]cli[\\\\/]/.test(f))));`;
  const out = execFileSync(process.execPath, ['-e', script], { cwd: repoRoot(), encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), []);
});
