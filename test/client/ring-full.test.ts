/**
 * A deliberately tiny ring under a producer much faster than the worker: records are dropped
 * at the producer, never blocking it, and every record is accounted for exactly.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TeracronClient } from '../../src/client';
import { loadPrivateKey } from '../../src/wire/envelope';
import { startReceiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';
import { EXIT_BUDGET_MS } from '../helpers/child';

fileTimeout(60_000);

const vectors = envelopeVectors();

test('with a 4 KiB ring and a fast producer, produced == delivered + dropped, exactly', async () => {
  const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  const client = new TeracronClient({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS, ringBytes: 4096, traceBatchSize: 20 }).start();
  let accepted = 0;
  // Produce in bursts with short pauses, so the worker drains some of it while drops happen.
  for (let burst = 0; burst < 200; burst++) {
    for (let i = 0; i < 100; i++) {
      if (client.recordSpan({ workflow: 'flood', operation: 'op', metadata: { n: burst * 100 + i } })) accepted++;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  await client.stop();
  await receiver.close();

  const stats = client.stats();
  assert.equal(stats.produced, 20_000);
  assert.ok(stats.droppedRingFull > 0, 'the tiny ring overflowed');
  assert.ok(stats.sent > 0, 'some spans got through');
  assert.equal(stats.sent, receiver.spans.length, 'sent counts what the receiver accepted');
  assert.equal(stats.produced, stats.sent + stats.droppedRingFull + stats.droppedSendFailed);
  assert.equal(stats.droppedSendFailed, 0);
  assert.equal(accepted, stats.sent, 'every record the ring took was delivered');
  assert.equal(stats.pending, 0);
  const numbers = receiver.spans.map((s) => s.metadata.n as number);
  assert.equal(new Set(numbers).size, numbers.length, 'no span arrived twice');
});
