/**
 * Against an endpoint that answers each request after 5 s, delivery is bounded by how much
 * the batches in flight carry: MAX_IN_FLIGHT × batch size per latency. Batches must grow to
 * BACKLOG_BATCH_ITEMS as soon as the backlog calls for it, at every dispatch, not once per pass:
 * a pass that began with a small backlog used to send traceBatchSize (100) spans per request
 * for its whole length, 4 × 100 spans per 5 s, while the backlog behind it grew.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BACKLOG_BATCH_ITEMS, MAX_IN_FLIGHT } from '../../src/worker/batcher';
import { loadPrivateKey } from '../../src/wire/envelope';
import { fixturePath, runNode } from '../helpers/child';
import type { NodeChild } from '../helpers/child';
import { fileTimeout } from '../helpers/file-timeout';
import { startReceiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';

fileTimeout(240_000);

const vectors = envelopeVectors();
const SPANS = 100_000;
/** Recorded before the first pass starts: under the ring's "behind" mark (a 16th of 32 MiB). */
const FIRST = 10_000;
const LATENCY_MS = 5_000;
/** A ring that holds all of it, so that what is measured is delivery, not ring-full drops. */
const RING_BYTES = 32 * 1024 * 1024;
/**
 * Latency rounds needed: full batches for everything, plus one round of steady-size batches sent
 * before the endpoint showed it is slow, one for the first flush waiting on those, and one for
 * the partial batches that end passes. Doubled for a loaded machine: a bound on failure.
 */
const ROUNDS = Math.ceil(SPANS / (MAX_IN_FLIGHT * BACKLOG_BATCH_ITEMS)) + 3;
const DEADLINE_MS = 2 * ROUNDS * LATENCY_MS;

test(`against a 5 s endpoint, ${SPANS} spans arrive within ${ROUNDS} latency rounds (×2) because batches grow with the backlog`, async (t) => {
  const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem), () => ({ status: 202, delayMs: LATENCY_MS }));
  let child: NodeChild | undefined;
  const startedAt = Date.now();
  const run = runNode(
    [fixturePath('burst-after-flush')],
    {
      TERACRON_API_KEY: vectors.api_key,
      TERACRON_DOMAIN: receiver.url,
      TERACRON_METRICS_ENABLED: 'false',
      TERACRON_RING_BYTES: String(RING_BYTES),
      TERACRON_EXIT_TIMEOUT_MS: String(DEADLINE_MS),
      SPANS: String(SPANS),
      FIRST: String(FIRST),
    },
    DEADLINE_MS + 60_000,
    (c) => (child = c),
  );
  try {
    await receiver.waitForSpans(SPANS, DEADLINE_MS);
  } catch (err) {
    child?.kill('SIGKILL');
    await run.catch(() => {});
    await receiver.close();
    const sizes = receiver.requests.map((r) => r.batch?.type === 'trace' ? r.batch.spans.length : 0);
    throw new Error(`${(err as Error).message}; batch sizes: ${sizes.join(' ')}`);
  }
  const result = await run;
  await receiver.close();
  assert.equal(result.code, 0, result.stderr);

  const stats = (JSON.parse(result.stdout.trim().split('\n').pop()!) as { stats: Record<string, number> }).stats;
  assert.equal(stats.produced, SPANS);
  assert.equal(stats.sent, SPANS);
  assert.equal(stats.droppedRingFull, 0);
  assert.equal(stats.droppedSendFailed, 0);
  assert.equal(receiver.spans.length, SPANS, 'each span once');

  const sizes = receiver.requests.map((r) => (r.batch?.type === 'trace' ? r.batch.spans.length : 0));
  assert.equal(Math.max(...sizes), BACKLOG_BATCH_ITEMS, `batch sizes: ${sizes.join(' ')}`);
  // Full batches, plus a round of small ones before the endpoint showed it is slow, plus a
  // partial batch at the end of each pass.
  const bound = Math.ceil(SPANS / BACKLOG_BATCH_ITEMS) + 2 * MAX_IN_FLIGHT;
  assert.ok(sizes.length <= bound, `${sizes.length} requests (bound ${bound}); batch sizes: ${sizes.join(' ')}`);
  const rounds = (receiver.requests.at(-1)!.at + LATENCY_MS - startedAt) / LATENCY_MS;
  t.diagnostic(`${SPANS} spans in ${sizes.length} requests over ${rounds.toFixed(1)} latency rounds; batch sizes: ${sizes.join(' ')}`);
});
