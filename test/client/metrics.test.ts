/**
 * Process metrics end to end: a child application under the agent, the loopback receiver
 * opening each MetricsBatch. Figures are checked against what the child is known to do (heap
 * it holds, loop it blocks), and against /proc where the test can read the same thing.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { hostname } from 'node:os';
import { after, before, test } from 'node:test';
import { encodeApiKey } from '../../src/wire/api-key';
import { exitBudgetEnv, runFixture } from '../helpers/child';
import { startReceiver } from '../helpers/receiver';
import type { Receiver } from '../helpers/receiver';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const MiB = 1024 * 1024;
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 4096 });
const apiKey = encodeApiKey('metric-moth-101', publicKey.export({ type: 'spki', format: 'pem' }).toString());
let receiver: Receiver;

before(async () => {
  receiver = await startReceiver(privateKey);
});
after(() => receiver.close());

function env(extra: Record<string, string>): Record<string, string | undefined> {
  return { TERACRON_API_KEY: apiKey, TERACRON_DOMAIN: receiver.url, TERACRON_PROCESS_READER: process.env.TERACRON_PROCESS_READER, ...exitBudgetEnv, ...extra };
}

test('a running application reports its memory, heap, CPU and event-loop delay every interval', { timeout: 60_000 }, async () => {
  // Runs until the agent's second sample, the one a 5 s interval after the first.
  const result = await runFixture('metrics-app', env({ HOLD_MB: '64', BLOCK_MS: '300', SAMPLES: '2', TERACRON_INTERVAL: '5', TERACRON_MAX_BUFFER: '1' }), 50_000);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
  const pid = result.lines[0]!.pid as number;
  const entries = receiver.metrics.filter((e) => e.pid === pid);
  // At start and after 5 s; each sent at once (TERACRON_MAX_BUFFER=1), so nothing is left for exit.
  assert.ok(entries.length >= 2, `expected >= 2 entries, got ${entries.length}`);
  for (const e of entries) {
    assert.ok(e.heap_used >= 64 * MiB * 0.9 && e.heap_used <= e.heap_total, `heap_used ${e.heap_used} of ${e.heap_total}`);
    assert.ok(e.rss >= e.uss! && e.uss! >= e.heap_used * 0.8, `rss ${e.rss} uss ${e.uss} heap ${e.heap_used}`);
    assert.ok(e.pss! >= e.uss! && e.pss! <= e.rss, `pss ${e.pss} between uss ${e.uss} and rss ${e.rss}`);
    assert.ok(e.vms! > e.rss);
    // The main thread, the agent's worker, libuv's four pool threads, V8's platform threads.
    assert.ok(e.threads! >= 6, `threads ${e.threads}`);
    assert.equal(e.ppid, process.pid);
    assert.equal(e.command, undefined, 'the agent\'s own process is not named');
  }
  // The interval sample covers seconds with 300 ms blocks: delay and CPU must show them.
  const interval = entries[1]!;
  assert.ok(interval.timestamp - entries[0]!.timestamp >= 4_500, 'second sample one interval after the first');
  assert.ok(interval.event_loop_lag >= 250_000, `event-loop lag ${interval.event_loop_lag} µs after 300 ms blocks`);
  assert.ok(interval.event_loop_p99! >= interval.event_loop_p50! && interval.event_loop_p50! > 0);
  assert.ok(interval.cpu_usage_pct > 0, `cpu ${interval.cpu_usage_pct} bp`);
  const stats = result.lines.at(-1)!.stats as Record<string, number>;
  assert.ok(stats.metricsSampled! >= 2);
});

test('a short script that ends on its own still ships a first and a last sample', { timeout: 30_000 }, async () => {
  const result = await runFixture('metrics-app', env({ RUN_MS: '1500' }), 25_000);
  assert.equal(result.code, 0, result.stderr);
  const pid = result.lines[0]!.pid as number;
  const entries = receiver.metrics.filter((e) => e.pid === pid);
  assert.equal(entries.length, 2, 'the start sample and the exit sample, in one batch');
  assert.equal(receiver.metricsRequests.filter((r) => r.batch?.entries.some((e) => e.pid === pid)).length, 1);
  assert.ok(entries[1]!.timestamp - entries[0]!.timestamp >= 1_000, 'the last sample is taken at exit');
});

test('down() ships the buffered samples and counts them as sent', { timeout: 30_000 }, async () => {
  const result = await runFixture('metrics-app', env({ RUN_MS: '1500', STOP: '1', TERACRON_SERVICE: 'metrics-fixture' }), 25_000);
  assert.equal(result.code, 0, result.stderr);
  const pid = result.lines[0]!.pid as number;
  const batch = receiver.metricsRequests.find((r) => r.batch?.entries.some((e) => e.pid === pid))!.batch!;
  assert.equal(batch.service, 'metrics-fixture', 'the batch names its service (extension field 4)');
  assert.equal(batch.host, hostname());
  const stats = result.lines.at(-1)!.stats as Record<string, number>;
  const entries = receiver.metrics.filter((e) => e.pid === pid);
  assert.equal(entries.length, 2);
  assert.equal(stats.metricsSampled, 2);
  assert.equal(stats.metricsSent, 2);
  assert.equal(stats.metricsDropped, 0);
});

test('array_buffers reports the ArrayBuffer memory the application holds on its main thread', { timeout: 30_000 }, async () => {
  const result = await runFixture('metrics-app', env({ BUFFER_MB: '48', RUN_MS: '100', STOP: '1' }), 25_000);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.lines[0]!.buffers, 48);
  const pid = result.lines[0]!.pid as number;
  const entries = receiver.metrics.filter((e) => e.pid === pid);
  assert.ok(entries.length >= 1);
  for (const e of entries) {
    // 48 MiB of Buffers, the agent's own ring (a SharedArrayBuffer, 8 MiB by default) and what
    // Node keeps in ArrayBuffers itself (a few hundred KiB). Not compared with external: V8
    // updates that one lazily, so it can lag behind.
    assert.ok(e.array_buffers >= 56 * MiB && e.array_buffers <= 58 * MiB, `array_buffers ${e.array_buffers}`);
  }
});

test('TERACRON_METRICS_ENABLED=0 sends no metrics', { timeout: 30_000 }, async () => {
  const result = await runFixture('metrics-app', env({ RUN_MS: '100', STOP: '1', TERACRON_METRICS_ENABLED: '0' }));
  assert.equal(result.code, 0, result.stderr);
  const pid = result.lines[0]!.pid as number;
  assert.equal(receiver.metrics.filter((e) => e.pid === pid).length, 0);
  assert.equal((result.lines.at(-1)!.stats as Record<string, number>).metricsSampled, 0);
});
