/**
 * What an EventEmitter listener registered inside a span keeps of it (src/tracing/span-scope.ts):
 * the span itself while it is open, only its ids once it has ended.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { currentSpan, down, event, getTraceHeader, trace, up, withSpan } from '../../src/index';
import type { TeracronClient } from '../../src/index';
import { loadPrivateKey } from '../../src/wire/envelope';
import type { WireSpan } from '../../src/wire/batch-codec';
import { startReceiver } from '../helpers/receiver';
import type { Receiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';
import { waitFor } from '../helpers/wait';
import { fileTimeout } from '../helpers/file-timeout';
import { EXIT_BUDGET_MS } from '../helpers/child';

fileTimeout(120_000);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const vectors = envelopeVectors();
let receiver: Receiver;
let client: TeracronClient;

before(async () => {
  receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  client = up({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS });
});

after(async () => {
  await down();
  await receiver.close();
});

async function spansOf(workflow: string): Promise<WireSpan[]> {
  await client.flush();
  return receiver.spans.filter((span) => span.workflow === workflow);
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('a listener on a long-lived emitter does not keep the span that registered it once it has ended', async () => {
  const pool = new EventEmitter();
  let span: WeakRef<object> | undefined;
  trace('retention', function checkout() {
    currentSpan().setMetadata({ cart: 'x'.repeat(1000) });
    span = new WeakRef(currentSpan());
    pool.on('release', () => undefined);
  })();
  assert.equal(pool.listenerCount('release'), 1);
  // A WeakRef's target is kept until the current job ends: collect from later turns.
  await waitFor('the ended span to be collected', async () => {
    await pause(10);
    gc();
    return span!.deref() === undefined;
  }, { timeoutMs: 5_000 });
  assert.equal(pool.listenerCount('release'), 1, 'while its listener is still registered');
});

test('a listener of an ended span parents spans and events to it and reads its ids; metadata set there goes nowhere', async () => {
  const pool = new EventEmitter();
  let registered: { traceId: string | null; spanId: string | null } | undefined;
  let seen: { traceId: string | null; spanId: string | null; recording: boolean; header: string | null } | undefined;
  trace('ended', function subscribe() {
    registered = { traceId: currentSpan().traceId, spanId: currentSpan().spanId };
    pool.on('release', () => {
      const span = currentSpan();
      seen = { traceId: span.traceId, spanId: span.spanId, recording: span.recording, header: getTraceHeader() };
      span.setMetadata({ late: true });
      event({ name: 'released' });
      trace('ended', function afterwards() {})();
    });
  })();
  // Emitted from another trace, after subscribe has ended.
  trace('elsewhere', () => pool.emit('release'))();
  assert.deepEqual(seen, { ...registered, recording: false, header: `${registered!.traceId}:${registered!.spanId}` });
  const spans = await spansOf('ended');
  const subscribe = spans.find((s) => s.operation === 'subscribe')!;
  const afterwards = spans.find((s) => s.operation === 'afterwards')!;
  assert.deepEqual(subscribe.metadata, {}, 'the span was sent when it ended');
  assert.deepEqual([afterwards.trace_id, afterwards.parent_span_id], [subscribe.trace_id, subscribe.span_id]);
  const released = receiver.events.find((e) => e.name === 'released')!;
  assert.deepEqual([released.trace_id, released.span_id, released.workflow], [subscribe.trace_id, subscribe.span_id, 'ended']);
});

test('while its span is open, a listener runs in the span itself: metadata set there is recorded', async () => {
  const bus = new EventEmitter();
  const done = withSpan('open', { operation: 'request' }, async () => {
    bus.on('chunk', (size: number) => currentSpan().setMetadata({ size }));
    await pause(20);
  });
  trace('elsewhere', () => bus.emit('chunk', 512))();
  await done;
  const [request] = await spansOf('open');
  assert.deepEqual(request!.metadata, { size: 512 });
});
