/**
 * The agent's own losses reach the collector as metrics, not only stats() in the process: an
 * application whose ring overflows (a real child process) ships to a real collector over
 * loopback, and GET /api/v1/metrics shows the same counts as the child's final stats().
 * Send drops and retries are checked against the loopback receiver, which can refuse batches.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadPrivateKey } from '../../src/wire/envelope';
import { exitBudgetEnv, runFixture } from '../helpers/child';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import type { CollectorProcess } from '../helpers/collector';
import { startReceiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const vectors = envelopeVectors();
let collector: CollectorProcess;

before(async () => {
  collector = await startCollectorProcess(vectorDataDir());
});
after(async () => {
  await collector.stop();
});

interface Stats {
  droppedRingFull: number;
  droppedSendFailed: number;
  retries: number;
  metricsDropped: number;
}

const OVERFLOW_ENV = {
  TERACRON_API_KEY: vectors.api_key,
  TERACRON_RING_BYTES: '4096',
  TERACRON_MAX_BUFFER: '1',
  TERACRON_TRACE_FLUSH_INTERVAL: '1',
  TERACRON_PROCESS_READER: process.env.TERACRON_PROCESS_READER,
  ...exitBudgetEnv,
};

async function overflow(end: 'down' | 'return'): Promise<void> {
  const result = await runFixture('agent-losses', { ...OVERFLOW_ENV, TERACRON_DOMAIN: collector.url, END: end }, 60_000);
  assert.equal(result.code, 0, result.stderr);
  const pid = result.lines[0]!.pid as number;
  const stats = result.lines.at(-1)!.stats as Stats;
  assert.ok(stats.droppedRingFull > 0, 'the 4 KiB ring overflowed');
  assert.equal(result.stderr.match(/the telemetry buffer \(4096 bytes\) is full/g)?.length, 1, `one warning on stderr:\n${result.stderr}`);

  const { status, body } = await query(collector.url, `/api/v1/metrics?pid=${pid}`);
  assert.equal(status, 200);
  const samples = body.samples as Array<Record<string, number | null>>;
  assert.ok(samples.length >= 2, `the first sample and a later one, got ${samples.length}`);
  assert.equal(samples[0]!.dropped_ring_full, 0, 'the first sample was taken before the burst, and says 0 rather than nothing');
  const last = samples.at(-1)!;
  assert.equal(last.dropped_ring_full, stats.droppedRingFull, 'the collector has the final ring-full count');
  assert.equal(last.dropped_send_failed, stats.droppedSendFailed);
  assert.equal(last.send_retries, stats.retries);
  assert.equal(last.metrics_dropped, stats.metricsDropped);
}

test('ring-full drops reach the collector: its last sample says what stats().droppedRingFull says after down()', { timeout: 60_000 }, async () => {
  await overflow('down');
});

test('ring-full drops after the last delivered sample still reach the collector when the program just ends', { timeout: 60_000 }, async () => {
  await overflow('return');
});

test('send drops and retries are reported with the sample that follows them', { timeout: 60_000 }, async () => {
  // Every trace batch is answered 503: with two attempts each, one retry, then dropped.
  const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem), () => ({ status: 503 }));
  try {
    const env = { ...OVERFLOW_ENV, TERACRON_RING_BYTES: undefined, TERACRON_DOMAIN: receiver.url, TERACRON_MAX_SEND_ATTEMPTS: '2', SPANS: '50', END: 'down' };
    const result = await runFixture('agent-losses', env, 60_000);
    assert.equal(result.code, 0, result.stderr);
    const pid = result.lines[0]!.pid as number;
    const stats = result.lines.at(-1)!.stats as Stats;
    assert.equal(stats.droppedSendFailed, 50);
    assert.ok(stats.retries >= 1);
    const last = receiver.metrics.filter((e) => e.pid === pid).at(-1)!;
    assert.deepEqual(
      [last.dropped_ring_full, last.dropped_send_failed, last.send_retries, last.metrics_dropped],
      [0, stats.droppedSendFailed, stats.retries, 0],
    );
  } finally {
    await receiver.close();
  }
});
