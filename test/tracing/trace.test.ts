/**
 * The tracing API end to end: spans made by trace()/withSpan()/@traced on this thread, shipped by
 * the real worker to a loopback receiver, and checked there.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, test } from 'node:test';
import { currentSpan, down, getTraceHeader, trace, traced, up, withSpan } from '../../src/index';
import type { TeracronClient } from '../../src/index';
import { loadPrivateKey } from '../../src/wire/envelope';
import type { WireSpan } from '../../src/wire/batch-codec';
import { startReceiver } from '../helpers/receiver';
import type { Receiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';
import { EXIT_BUDGET_MS } from '../helpers/child';

fileTimeout(120_000);

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

test('a three-level async tree with parallel children arrives with exact parent ids and one trace id', async () => {
  const leaf = trace('tree', async function leaf(n: number) {
    await pause(2);
    return n;
  });
  const branch = trace('tree', async function branch(n: number) {
    return Promise.all([leaf(n), leaf(n + 1)]);
  });
  const root = trace('tree', async function root() {
    return Promise.all([branch(0), branch(10)]);
  });
  assert.deepEqual(await root(), [
    [0, 1],
    [10, 11],
  ]);
  const spans = await spansOf('tree');
  assert.equal(spans.length, 7);
  const [top] = spans.filter((s) => s.operation === 'root');
  assert.ok(top);
  assert.equal(top.parent_span_id, null);
  assert.equal(new Set(spans.map((s) => s.trace_id)).size, 1);
  assert.equal(spans[0]!.trace_id, top.trace_id);
  const branches = spans.filter((s) => s.operation === 'branch');
  assert.equal(branches.length, 2);
  for (const b of branches) assert.equal(b.parent_span_id, top.span_id);
  const leaves = spans.filter((s) => s.operation === 'leaf');
  assert.equal(leaves.length, 4);
  for (const b of branches) assert.equal(leaves.filter((l) => l.parent_span_id === b.span_id).length, 2);
  assert.equal(new Set(spans.map((s) => s.span_id)).size, 7);
  for (const s of spans) assert.equal(s.status, 'succeeded');
  assert.ok(top.duration_ms >= 2, `root lasted ${top.duration_ms} ms`);
});

test('1,000 concurrent traces interleaved with random awaits arrive as 1,000 separate, correct trees', async () => {
  const child = trace('many', async function child(id: number, k: number) {
    await pause(Math.random() * 5);
    currentSpan().setMetadata({ id, k });
    await Promise.resolve();
  });
  const root = trace('many', async function root(id: number) {
    currentSpan().setMetadata({ id });
    await pause(Math.random() * 5);
    await Promise.all([child(id, 0), child(id, 1)]);
    await child(id, 2);
  });
  await Promise.all(Array.from({ length: 1000 }, (_, id) => root(id)));
  const spans = await spansOf('many');
  assert.equal(spans.length, 4000);
  const roots = spans.filter((s) => s.operation === 'root');
  assert.equal(roots.length, 1000);
  assert.equal(new Set(roots.map((s) => s.trace_id)).size, 1000, 'every root has its own trace');
  const byParent = new Map<string, WireSpan[]>();
  for (const s of spans) if (s.parent_span_id !== null) byParent.set(s.parent_span_id, [...(byParent.get(s.parent_span_id) ?? []), s]);
  for (const r of roots) {
    const children = byParent.get(r.span_id) ?? [];
    assert.equal(children.length, 3, `trace of root ${String(r.metadata.id)}`);
    for (const c of children) {
      assert.equal(c.trace_id, r.trace_id);
      assert.equal(c.metadata.id, r.metadata.id, 'a child never lands in another trace');
    }
    assert.deepEqual(children.map((c) => c.metadata.k).sort(), [0, 1, 2]);
  }
});

test('context survives timers, queueMicrotask, promise chains and setImmediate', async () => {
  const step = trace('survive', function step(via: string) {
    currentSpan().setMetadata({ via });
  });
  const root = trace('survive', function root() {
    return new Promise<void>((resolve) => {
      let pending = 4;
      const done = (): void => {
        if (--pending === 0) resolve();
      };
      setTimeout(() => (step('timeout'), done()), 1);
      queueMicrotask(() => (step('microtask'), done()));
      void Promise.resolve()
        .then(() => pause(1))
        .then(() => (step('promise chain'), done()));
      setImmediate(() => (step('immediate'), done()));
    });
  });
  await root();
  const spans = await spansOf('survive');
  const top = spans.find((s) => s.operation === 'root')!;
  const steps = spans.filter((s) => s.operation === 'step');
  assert.deepEqual(steps.map((s) => s.metadata.via).sort(), ['immediate', 'microtask', 'promise chain', 'timeout']);
  for (const s of steps) assert.equal(s.parent_span_id, top.span_id, `via ${String(s.metadata.via)}`);
});

test('an EventEmitter listener registered inside a span runs in that span, whoever emits', async () => {
  const bus = new EventEmitter();
  const onMessage = trace('emitter', function onMessage(owner: string) {
    currentSpan().setMetadata({ owner });
  });
  const subscribe = trace('emitter', function subscribe(owner: string) {
    currentSpan().setMetadata({ owner });
    bus.on('message', () => onMessage(owner));
    bus.once('once', () => onMessage(`${owner}-once`));
  });
  subscribe('a');
  subscribe('b');
  // Emitted from a third trace: each listener must still land in its own subscriber's trace.
  trace('emitter', function emitter() {
    bus.emit('message');
    bus.emit('once');
    bus.emit('once');
  })();
  const spans = await spansOf('emitter');
  const subscribers = new Map(spans.filter((s) => s.operation === 'subscribe').map((s) => [s.span_id, s]));
  const handled = spans.filter((s) => s.operation === 'onMessage');
  assert.deepEqual(handled.map((s) => s.metadata.owner).sort(), ['a', 'a-once', 'b', 'b-once']);
  for (const h of handled) {
    const parent = subscribers.get(h.parent_span_id!);
    assert.ok(parent, 'the listener span is a child of a subscribing span');
    assert.equal(parent.metadata.owner, String(h.metadata.owner).replace('-once', ''), 'and of the one that registered it');
    assert.equal(h.trace_id, parent.trace_id);
  }
  assert.equal(bus.listenerCount('once'), 0, 'once listeners are removed after firing');
});

test('removing a listener registered inside a span works with the original function', () => {
  const bus = new EventEmitter();
  let calls = 0;
  const listener = (): void => {
    calls++;
  };
  withSpan('emitter-off', () => {
    bus.on('x', listener);
    bus.once('y', listener);
  });
  assert.deepEqual(bus.listeners('x'), [listener]);
  bus.off('x', listener);
  bus.removeListener('y', listener);
  bus.emit('x');
  bus.emit('y');
  assert.equal(calls, 0);
  assert.equal(bus.listenerCount('x') + bus.listenerCount('y'), 0);
});

test('a thrown error passes through unchanged and the span is failed with its type and message', async () => {
  class PaymentError extends Error {
    override name = 'PaymentError';
  }
  const error = new PaymentError('card declined');
  const charge = trace('errors', function charge() {
    throw error;
  });
  assert.throws(() => charge(), (caught: unknown) => {
    assert.equal(caught, error);
    return true;
  });
  const spans = await spansOf('errors');
  assert.equal(spans.length, 1);
  assert.equal(spans[0]!.status, 'failed');
  assert.equal(spans[0]!.error_type, 'PaymentError');
  assert.equal(spans[0]!.error_message, 'card declined');
});

test('a rejected promise passes through unchanged and the span is failed', async () => {
  const error = new RangeError('too large');
  const load = trace('rejects', async function load() {
    await pause(1);
    throw error;
  });
  const promise = load();
  await assert.rejects(promise, (caught: unknown) => {
    assert.equal(caught, error);
    return true;
  });
  const spans = await spansOf('rejects');
  assert.equal(spans.length, 1);
  assert.deepEqual([spans[0]!.status, spans[0]!.error_type, spans[0]!.error_message], ['failed', 'RangeError', 'too large']);
});

test('an Error subclass that does not set its name is recorded by its class name; a set name wins', async () => {
  class BoomError extends Error {}
  class Renamed extends Error {
    override name = 'CustomName';
  }
  const fail = trace('error-names', function fail(error: Error) {
    throw error;
  });
  for (const error of [new BoomError('boom'), new Renamed('renamed'), new Error('plain')]) assert.throws(() => fail(error));
  const spans = await spansOf('error-names');
  assert.deepEqual(spans.map((s) => s.error_type), ['BoomError', 'CustomName', 'Error']);
});

test('non-Error throwables are recorded by type and value, and rethrown as they are', async () => {
  const fail = trace('throwables', function fail(value: unknown) {
    throw value;
  });
  const thrown: unknown[] = ['plain string', 42, { code: 'E_CUSTOM', message: 'custom object' }, null];
  for (const value of thrown) assert.throws(() => fail(value), (caught: unknown) => caught === value);
  const spans = await spansOf('throwables');
  assert.deepEqual(
    spans.map((s) => [s.error_type, s.error_message]),
    [
      ['string', 'plain string'],
      ['number', '42'],
      ['Object', 'custom object'],
      ['null', 'null'],
    ],
  );
});

test('an error message longer than 1024 characters is cut to 1024', async () => {
  const fail = trace('long-error', function fail() {
    throw new Error('x'.repeat(5000));
  });
  assert.throws(() => fail());
  const [span] = await spansOf('long-error');
  assert.equal(span!.error_message!.length, 1024);
});

test('the wrapper keeps name, length and this; the operation defaults to the function name', async () => {
  const counter = {
    base: 40,
    add: trace('wrapper', function add(this: { base: number }, a: number, b: number) {
      return this.base + a + b;
    }),
  };
  assert.equal(counter.add.name, 'add');
  assert.equal(counter.add.length, 2);
  assert.equal(counter.add(1, 1), 42);
  const anonymous = trace('wrapper', (x: number) => x);
  assert.equal(anonymous(7), 7);
  const named = trace('wrapper', (x: number) => x, { operation: 'explicit' });
  named(1);
  const spans = await spansOf('wrapper');
  assert.deepEqual(spans.map((s) => s.operation), ['add', 'wrapper', 'explicit'], 'an anonymous function falls back to the workflow');
});

test('@traced records Class.method, keeps this, and sees nested calls as children', async () => {
  class Checkout {
    readonly fee = 2;

    @traced('decorated')
    async total(amount: number): Promise<number> {
      return this.fee + (await this.tax(amount));
    }

    @traced('decorated', { capture: ['amount'] })
    async tax(amount: number): Promise<number> {
      return amount / 10;
    }

    @traced('decorated')
    static describe(): string {
      return 'checkout';
    }
  }
  assert.equal(await new Checkout().total(100), 12);
  assert.equal(Checkout.describe(), 'checkout');
  const spans = await spansOf('decorated');
  const total = spans.find((s) => s.operation === 'Checkout.total')!;
  const tax = spans.find((s) => s.operation === 'Checkout.tax')!;
  assert.ok(total && tax);
  assert.equal(tax.parent_span_id, total.span_id);
  assert.deepEqual(tax.captured_params, { amount: 100 });
  assert.ok(spans.some((s) => s.operation === 'Checkout.describe'));
});

test('withSpan traces a block, sync or async, returns its value and takes metadata', async () => {
  const sync = withSpan('blocks', { operation: 'sync-block' }, (span) => {
    span.setMetadata({ rows: 3, cached: false });
    return 'sync value';
  });
  assert.equal(sync, 'sync value');
  const value = await withSpan('blocks', { operation: 'async-block' }, async (span) => {
    await pause(1);
    span.setMetadata({ region: 'eu' });
    assert.match(String(getTraceHeader()), new RegExp(`^${span.traceId}:${span.spanId}$`));
    return 42;
  });
  assert.equal(value, 42);
  const spans = await spansOf('blocks');
  assert.deepEqual(
    spans.map((s) => [s.operation, s.metadata]),
    [
      ['sync-block', { rows: 3, cached: false }],
      ['async-block', { region: 'eu' }],
    ],
  );
});
