/**
 * What the worker does with each kind of answer: 503s are retried until a 202, 429 waits for
 * Retry-After, other 4xx are final and said once. A real client, a real worker thread and a
 * loopback receiver; the answers are scripted per request.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TeracronClient } from '../../src/client';
import { loadPrivateKey } from '../../src/wire/envelope';
import { startReceiver } from '../helpers/receiver';
import type { Reply } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';
import { EXIT_BUDGET_MS, runFixture } from '../helpers/child';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const vectors = envelopeVectors();
const privateKey = loadPrivateKey(vectors.private_key_pem);

// Metrics off: these tests count requests, retries and batches of spans alone.
function client(url: string, extra: Record<string, unknown> = {}): TeracronClient {
  return new TeracronClient({ apiKey: vectors.api_key, domain: url, exitTimeoutMs: EXIT_BUDGET_MS, metricsEnabled: false, ...extra }).start();
}

function recordSpans(c: TeracronClient, count: number): void {
  for (let i = 0; i < count; i++) c.recordSpan({ workflow: 'retry', operation: 'op', metadata: { i } });
}

test('a receiver answering 503, 503, then 202 gets every span exactly once', async () => {
  const receiver = await startReceiver(privateKey, (index): Reply => (index < 2 ? { status: 503, body: '{"error":"busy"}' } : { status: 202 }));
  const c = client(receiver.url);
  recordSpans(c, 25);
  await c.flush();
  await c.stop();
  await receiver.close();

  assert.deepEqual(receiver.requests.map((r) => r.status), [503, 503, 202]);
  assert.deepEqual(receiver.spans.map((s) => s.metadata.i).sort((a, b) => Number(a) - Number(b)), Array.from({ length: 25 }, (_, i) => i));
  const ids = receiver.requests.map((r) => r.batch!.batch_id);
  assert.equal(new Set(ids).size, 1, 'a retry resends the same batch_id, so a receiver can store it once');
  const stats = c.stats();
  assert.equal(stats.sent, 25);
  assert.equal(stats.retries, 2);
  assert.equal(stats.batches, 1);
  assert.equal(stats.droppedSendFailed, 0);
  assert.equal(stats.pending, 0);
});

test('a 429 with Retry-After: 1 delays the next attempt by about a second', async () => {
  const receiver = await startReceiver(privateKey, (index): Reply => (index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 202 }));
  const c = client(receiver.url);
  recordSpans(c, 3);
  await c.flush();
  await c.stop();
  await receiver.close();

  assert.deepEqual(receiver.requests.map((r) => r.status), [429, 202]);
  const waited = receiver.requests[1]!.at - receiver.requests[0]!.at;
  // The backoff alone would retry within 250 ms; a Retry-After misread as minutes would wait the
  // 60 s cap. The upper bound leaves a loaded machine room between the two.
  assert.ok(waited >= 950 && waited < 10_000, `waited ${waited} ms`);
  assert.equal(c.stats().sent, 3);
});

test('a 401 is not retried, is reported once with its status and error text, and counts as dropped', async () => {
  const receiver = await startReceiver(privateKey, (): Reply => ({ status: 401, body: '{"error":"unknown project slug","hint":"run teracron keygen"}' }));
  const result = await runFixture('flush-and-stop', { ...fixtureEnv(receiver.url), SPANS: '30', TERACRON_TRACE_BATCH_SIZE: '10' });
  await receiver.close();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(receiver.requests.length, 3, 'three batches, one attempt each');
  const stats = statsOf(result.lines);
  assert.equal(stats.retries, 0);
  assert.equal(stats.sent, 0);
  assert.equal(stats.droppedSendFailed, 30);
  assert.equal(stats.rejected, 30);
  assert.match(String(stats.lastError), /401: unknown project slug \(run teracron keygen\)/);
  const reports = result.stderr.split('\n').filter((line) => line.includes('refused'));
  assert.equal(reports.length, 1, result.stderr);
  assert.match(reports[0]!, /^\[teracron\] the endpoint refused a trace batch: \/api\/v1\/traces answered 401: unknown project slug/);
  assert.match(reports[0]!, /TERACRON_API_KEY/);
});

test('a batch still failing after maxSendAttempts is dropped, counted and said, not retried forever', async () => {
  const receiver = await startReceiver(privateKey, (): Reply => ({ status: 500 }));
  const result = await runFixture('flush-and-stop', { ...fixtureEnv(receiver.url), SPANS: '7', TERACRON_MAX_SEND_ATTEMPTS: '3' });
  await receiver.close();
  assert.equal(receiver.requests.length, 3);
  const stats = statsOf(result.lines);
  assert.equal(stats.retries, 2);
  assert.equal(stats.droppedSendFailed, 7);
  assert.equal(stats.rejected, 0);
  assert.equal(stats.pending, 0);
  assert.match(result.stderr, /^\[teracron\] dropped 7 trace items after 3 attempts: \/api\/v1\/traces answered 500/m);
});

function fixtureEnv(url: string): Record<string, string> {
  return { TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: url };
}

function statsOf(lines: Array<Record<string, unknown>>): Record<string, unknown> {
  const line = lines.find((l) => 'stats' in l);
  assert.ok(line, 'the fixture printed its stats');
  return line.stats as Record<string, unknown>;
}

test('events travel to /api/v1/events with their fields', async () => {
  const receiver = await startReceiver(privateKey);
  const c = client(receiver.url);
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  c.recordEvent({ name: 'order.placed', type: 'info', message: 'order 7', workflow: 'checkout', traceId, timestamp: 1_721_500_000_123, metadata: { total: 42.5 } });
  const recordedFrom = Date.now();
  c.recordEvent({ name: 'payment.failed', type: 'error' });
  const recordedTo = Date.now();
  await c.stop();
  await receiver.close();
  assert.deepEqual(receiver.requests.map((r) => r.path), ['/api/v1/events']);
  assert.deepEqual(receiver.events[0], {
    trace_id: traceId,
    span_id: null,
    workflow: 'checkout',
    event_type: 'info',
    name: 'order.placed',
    message: 'order 7',
    severity: 'info',
    timestamp: 1_721_500_000_123,
    metadata: { total: 42.5 },
  });
  assert.equal(receiver.events[1]!.severity, 'error');
  // Stamped when recorded, through the monotonic clock: a few ms of conversion either side.
  const stamped = receiver.events[1]!.timestamp;
  assert.ok(stamped >= recordedFrom - 50 && stamped <= recordedTo + 50, `timestamp ${stamped}, recorded between ${recordedFrom} and ${recordedTo}`);
});
