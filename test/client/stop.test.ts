/**
 * stop()/down() bounded by exitTimeoutMs, against a collector that stores a batch at once but
 * answers slowly: what is on the wire when stop() returns stays pending until answered, then
 * counts as sent. stats() balances at every moment, and the requests left in flight never keep
 * the process alive.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TeracronClient } from '../../src/client';
import type { TeracronStats } from '../../src/client';
import { loadPrivateKey } from '../../src/wire/envelope';
import { startReceiver } from '../helpers/receiver';
import type { Reply } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';
import { runFixture } from '../helpers/child';
import { waitFor } from '../helpers/wait';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const vectors = envelopeVectors();
const privateKey = loadPrivateKey(vectors.private_key_pem);

function assertBalanced(stats: TeracronStats, when: string): void {
  assert.ok(stats.pending >= 0, `${when}: pending is ${stats.pending}`);
  assert.equal(stats.produced, stats.sent + stats.droppedRingFull + stats.droppedSendFailed + stats.pending, `${when}: ${JSON.stringify(stats)}`);
}

test('after a down() that ran out of budget, the batches still on the wire count as sent once the collector answers', async () => {
  const answerMs = 4_000;
  const receiver = await startReceiver(privateKey, (): Reply => ({ status: 202, delayMs: answerMs }));
  const client = new TeracronClient({ apiKey: vectors.api_key, domain: receiver.url, metricsEnabled: false, exitTimeoutMs: 1_000 }).start();
  for (let i = 0; i < 1_000; i++) client.recordSpan({ workflow: 'slow-collector', operation: 'op', metadata: { i } });
  const started = Date.now();
  await client.stop();
  const stoppedAfter = Date.now() - started;
  try {
    assert.ok(stoppedAfter < answerMs, `stop() took ${stoppedAfter} ms: it waited for the slow answer instead of its 1 s budget`);
    await waitFor('the collector to store the spans', () => receiver.spans.length === 1_000);
    const samples: TeracronStats[] = [];
    const settled = await waitFor('every span to be accounted for', () => {
      const stats = client.stats();
      samples.push(stats);
      return stats.pending === 0 && stats;
    });
    for (const [i, stats] of samples.entries()) assertBalanced(stats, `sample ${i}`);
    assert.equal(settled.sent, receiver.spans.length, 'sent counts what the collector acknowledged');
    assert.equal(settled.droppedSendFailed, 0);
    assert.ok(samples.some((stats) => stats.pending > 0), 'the answers came after stop() returned, so some samples saw them pending');
  } finally {
    await receiver.close();
  }
});

test('a script whose down() leaves requests on the wire still ends as soon as its main module is done', async () => {
  const receiver = await startReceiver(privateKey, (): Reply => ({ status: 202, delayMs: 10_000 }));
  try {
    const result = await runFixture('stop-and-end', { TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: receiver.url, TERACRON_METRICS_ENABLED: '0', SPANS: '100' }, 30_000);
    assert.equal(result.code, 0, result.stderr);
    const stopped = result.lines.find((line) => 'stoppedAt' in line) as { stoppedAt: number; stats: TeracronStats };
    const lingered = result.exitedAt - stopped.stoppedAt;
    assert.ok(lingered < 5_000, `the process lived ${lingered} ms after down() returned: something kept it alive for the collector's 10 s answer`);
    assert.equal(receiver.spans.length, 100, 'the batch was on the wire');
    assertBalanced(stopped.stats, 'after down()');
    assert.equal(stopped.stats.pending, 100, 'unanswered, so neither sent nor dropped');
  } finally {
    await receiver.close();
  }
});
