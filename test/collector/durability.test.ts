/**
 * kill -9 in the middle of a stream of batches: after a restart the database opens and every
 * batch that was answered 202 is there.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { encodeBatch, newBatchId } from '../../src/wire/batch-codec';
import { loadPublicKey, sealEnvelope } from '../../src/wire/envelope';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import { envelopeVectors } from '../helpers/vectors';
import { waitFor } from '../helpers/wait';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const vectors = envelopeVectors();
const publicKey = loadPublicKey(vectors.public_key_pem);
// Recent timestamps: the restarted collector's retention sweep (7 days) must not remove them.
const NOW = Date.now() - 60_000;

function batch(n: number): Buffer {
  const spans = Array.from({ length: 50 }, (_, i) => ({
    trace_id: n.toString(16).padStart(32, '0'),
    span_id: (n * 1000 + i + 1).toString(16).padStart(32, '0'),
    parent_span_id: i === 0 ? null : (n * 1000 + 1).toString(16).padStart(32, '0'),
    workflow: 'durable',
    operation: `op${i}`,
    status: 'succeeded' as const,
    started_at: NOW + n * 100 + i,
    duration_ms: 1,
    error_type: null,
    error_message: null,
    metadata: { n, i },
    captured_params: {},
  }));
  return sealEnvelope(encodeBatch({ type: 'trace', project_slug: vectors.slug, batch_id: newBatchId(), spans }, 'msgpack'), publicKey);
}

test('after kill -9 in the middle of a stream, every batch that got a 202 is there', async () => {
  const dataDir = vectorDataDir();
  const first = await startCollectorProcess(dataDir);
  const acknowledged: number[] = [];
  let n = 1;
  let killed = false;
  const senders = Array.from({ length: 4 }, async () => {
    while (!killed) {
      const mine = n++;
      try {
        const res = await request(`${first.url}/api/v1/traces`, { method: 'POST', body: batch(mine), headers: { 'x-project-slug': vectors.slug } });
        await res.body.dump();
        if (res.statusCode === 202) acknowledged.push(mine);
      } catch {
        // The connection died with the collector: this batch was not acknowledged.
      }
    }
  });
  try {
    await waitFor('60 acknowledged batches', () => acknowledged.length >= 60, { seen: () => `${acknowledged.length} acknowledged; collector stderr: ${first.stderr()}` });
  } finally {
    killed = true;
    await Promise.all([first.stop('SIGKILL'), ...senders]);
  }

  const second = await startCollectorProcess(dataDir);
  try {
    const { body } = await query(second.url, '/api/v1/events?workflow=durable&limit=1000');
    const stored = new Set(body.events.map((run: { trace_id: string }) => Number.parseInt(run.trace_id, 16)));
    for (const n of acknowledged) assert.ok(stored.has(n), `batch ${n} was acknowledged but is missing`);
    for (const run of body.events) assert.equal(run.span_count, 50, 'no batch is stored in part');
  } finally {
    await second.stop();
  }
});
