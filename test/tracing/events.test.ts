/** event() tied to the current span, and the opt-in lifecycle events made on the worker. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { down, event, trace, up, withSpan } from '../../src/index';
import { loadPrivateKey } from '../../src/wire/envelope';
import { startReceiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';
import { EXIT_BUDGET_MS } from '../helpers/child';

fileTimeout(60_000);

const vectors = envelopeVectors();

test('an event inside a span carries its trace, span and workflow; outside, none', async () => {
  const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  const client = up({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS });
  const recordedFrom = Date.now();
  withSpan('orders', { operation: 'place' }, () => {
    assert.equal(event({ name: 'order.placed', type: 'info', message: 'order 7', metadata: { total: 9.5 } }), true);
  });
  const recordedTo = Date.now();
  event({ name: 'cache.cold', type: 'warning' });
  event({ name: 'odd', type: 'not-a-type' });
  await down();
  await receiver.close();
  const span = receiver.spans[0]!;
  const [placed, cold, odd] = receiver.events;
  assert.deepEqual(
    { ...placed, timestamp: 0 },
    { trace_id: span.trace_id, span_id: span.span_id, workflow: 'orders', event_type: 'info', name: 'order.placed', message: 'order 7', severity: 'info', timestamp: 0, metadata: { total: 9.5 } },
  );
  // Stamped when recorded, through the monotonic clock: a few ms of conversion either side.
  assert.ok(placed!.timestamp >= recordedFrom - 50 && placed!.timestamp <= recordedTo + 50, `timestamp ${placed!.timestamp}, recorded between ${recordedFrom} and ${recordedTo}`);
  assert.deepEqual([cold!.trace_id, cold!.span_id, cold!.workflow, cold!.severity], [null, null, null, 'warning']);
  assert.equal(odd!.event_type, 'custom');
  assert.equal(client.stats().sent, 4, 'one span and three events');
});

test('with traceEmitEvents, the worker derives started/completed/failed events from the spans', async () => {
  const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  const client = up({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS, traceEmitEvents: true });
  const step = trace('lifecycle', function step() {
    throw new Error('step broke');
  });
  const run = trace('lifecycle', function run() {
    try {
      step();
    } catch {
      // handled: the workflow itself completes
    }
  });
  run();
  await down();
  await receiver.close();
  const [root] = receiver.spans.filter((s) => s.operation === 'run');
  const [child] = receiver.spans.filter((s) => s.operation === 'step');
  const types = receiver.events.map((e) => `${e.event_type}:${e.name}`).sort();
  assert.deepEqual(types, ['step_failed:step', 'step_started:step', 'workflow_completed:run', 'workflow_started:run']);
  const failed = receiver.events.find((e) => e.event_type === 'step_failed')!;
  assert.deepEqual([failed.trace_id, failed.span_id, failed.severity, failed.message], [child!.trace_id, child!.span_id, 'error', 'Error: step broke']);
  const started = receiver.events.find((e) => e.event_type === 'workflow_started')!;
  assert.equal(started.timestamp, root!.started_at);
  const stats = client.stats();
  assert.equal(stats.produced, 2, 'lifecycle events cost the application nothing: only the two spans were recorded');
  assert.equal(stats.sent, 2);
});
