/** Per-project ingest and per-key query rate limits over HTTP, and what importing the agent loads. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { request } from 'undici';
import { encodeBatch, newBatchId } from '../../src/wire/batch-codec';
import { loadPublicKey, sealEnvelope } from '../../src/wire/envelope';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import { envelopeVectors } from '../helpers/vectors';
import { waitFor } from '../helpers/wait';
import { repoRoot } from '../../support/repo-root';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const vectors = envelopeVectors();

// `--ingest-rate 1 --query-rate 1`: one a second, and bursts of 4 (the CLI's floor).
const RATE = 1;
const BURST = 4;
const SENT = 16;

function sealedTrace(i: number): Buffer {
  const spans = [{ trace_id: (i + 1).toString(16).padStart(32, '0'), span_id: (i + 100).toString(16).padStart(32, '0'), parent_span_id: null, workflow: 'limited', operation: 'op', status: 'succeeded' as const, started_at: Date.now(), duration_ms: 1, error_type: null, error_message: null, metadata: {}, captured_params: {} }];
  return sealEnvelope(encodeBatch({ type: 'trace', project_slug: vectors.slug, batch_id: newBatchId(), spans }, 'json'), loadPublicKey(vectors.public_key_pem));
}

test('a project sending faster than --ingest-rate gets 429 with Retry-After, and nothing of that batch is stored', async () => {
  const collector = await startCollectorProcess(vectorDataDir(), ['--ingest-rate', String(RATE), '--query-rate', String(RATE)]);
  try {
    // All sent at once. The project's token is taken once a batch's envelope opens (the slug is
    // public, so garbage must not spend it); the bound below allows for the refill while they
    // are decrypted one after another.
    const bodies = Array.from({ length: SENT }, (_, i) => sealedTrace(i));
    const started = performance.now();
    const answers = await Promise.all(bodies.map(async (body) => {
      const res = await request(`${collector.url}/api/v1/traces`, { method: 'POST', body, headers: { 'x-project-slug': vectors.slug } });
      await res.body.dump();
      return { status: res.statusCode, retryAfter: res.headers['retry-after'] };
    }));
    const elapsedS = (performance.now() - started) / 1000;
    const statuses = answers.map((answer) => answer.status);
    const accepted = statuses.filter((s) => s === 202).length;
    assert.deepEqual(new Set(statuses), new Set([202, 429]), `statuses ${statuses.join(',')} in ${elapsedS.toFixed(1)} s`);
    assert.ok(accepted >= BURST, `the burst is accepted: ${accepted} of ${SENT}`);
    assert.ok(accepted <= BURST + Math.ceil(RATE * elapsedS), `${accepted} accepted in ${elapsedS.toFixed(1)} s: more than the burst and the refill allow`);
    assert.match(String(answers.find((answer) => answer.status === 429)!.retryAfter), /^[1-9]\d*$/);

    const queried = await Promise.all(Array.from({ length: SENT }, async () => (await query(collector.url, '/api/v1/events?workflow=limited&limit=100')).status));
    assert.ok(queried.includes(429), `queries are limited per key too: ${queried.join(',')}`);
    // A refused query spends no token: ask until the bucket has refilled enough for one.
    const { body } = await waitFor('a query allowed again after the refill', async () => {
      const answer = await query(collector.url, '/api/v1/events?workflow=limited&limit=100');
      return answer.status === 200 ? answer : undefined;
    }, { intervalMs: 250 });
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
