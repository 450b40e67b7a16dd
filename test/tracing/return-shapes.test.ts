/**
 * What trace(), withSpan() and @traced hand back for each shape a function can return, and when
 * the span ends (src/tracing/settle.ts): the caller must see what the untraced function gives.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { down, trace, traced, up, withSpan } from '../../src/index';
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

/** A knex/mongoose-style query builder: chainable, and it runs its query on every `.then`. */
class Query implements PromiseLike<string[]> {
  runs = 0;
  readonly filters: string[] = [];

  where(filter: string): this {
    this.filters.push(filter);
    return this;
  }

  then<A = string[], B = never>(onFulfilled?: ((rows: string[]) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    this.runs++;
    return Promise.resolve([`rows where ${this.filters.join(' and ')}`]).then(onFulfilled, onRejected);
  }
}

test('a lazy thenable runs once, is returned as is and stays chainable, through trace, withSpan and @traced', async () => {
  class Orders {
    @traced('lazy')
    find(query: Query): Query {
      return query.where('open');
    }
  }
  const viaTrace = new Query();
  const viaBlock = new Query();
  const viaMethod = new Query();
  const build = trace('lazy', (query: Query) => query.where('open'));
  const built = build(viaTrace);
  assert.equal(built, viaTrace, 'the builder itself');
  assert.deepEqual(await built.where('paid'), ['rows where open and paid']);
  assert.deepEqual(await withSpan('lazy', () => viaBlock.where('open')), ['rows where open']);
  assert.deepEqual(await new Orders().find(viaMethod), ['rows where open']);
  assert.deepEqual([viaTrace.runs, viaBlock.runs, viaMethod.runs], [1, 1, 1], 'one query each, the one the caller awaited');
  const spans = await spansOf('lazy');
  assert.equal(spans.length, 3, 'each call is still recorded, ended when it returned');
  for (const span of spans) assert.equal(span.status, 'succeeded');
});

test("an async function's value and very error reach the caller, and its span lasts until it settles", async () => {
  const error = new RangeError('out of stock');
  const load = trace('async-shape', async function load(fail: boolean) {
    await pause(30);
    if (fail) throw error;
    return { id: 7 };
  });
  assert.deepEqual(await load(false), { id: 7 });
  await assert.rejects(load(true), (caught: unknown) => caught === error);
  const spans = await spansOf('async-shape');
  assert.deepEqual(spans.map((s) => s.status).sort(), ['failed', 'succeeded']);
  for (const span of spans) assert.ok(span.duration_ms >= 25, `the span covers the await: ${span.duration_ms} ms`);
  assert.equal(spans.find((s) => s.status === 'failed')!.error_message, 'out of stock');
});

test('a native promise carrying its own methods is returned as is, its span ending at return', async () => {
  const request = Object.assign(pause(300).then(() => 'body'), { cancel: () => 'cancelled' });
  const fetchPage = trace('own-props', function fetchPage() {
    return request;
  });
  const returned = fetchPage();
  assert.equal(returned, request);
  assert.equal(returned.cancel(), 'cancelled');
  assert.equal(await returned, 'body');
  const [span] = await spansOf('own-props');
  assert.ok(span!.duration_ms < 250, `ended at return, not when the promise settled: ${span!.duration_ms} ms`);
});

test('a Promise subclass is returned as is and the agent never calls its then', async () => {
  let thens = 0;
  class Tracked<T> extends Promise<T> {
    override then<A = T, B = never>(onFulfilled?: ((value: T) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
      thens++;
      return super.then(onFulfilled, onRejected);
    }
  }
  const value = new Tracked<number>((resolve) => resolve(5));
  const returned = trace('subclass', () => value)();
  assert.equal(returned, value);
  assert.equal(thens, 0, 'not observed by the agent');
  assert.equal(await returned, 5);
  assert.equal((await spansOf('subclass')).length, 1);
});

test('a plain value and a sync throw pass through as before', async () => {
  const error = new Error('no');
  assert.equal(trace('plain', () => 3)(), 3);
  assert.throws(() => trace('plain', () => {
    throw error;
  })(), (caught: unknown) => caught === error);
  assert.deepEqual((await spansOf('plain')).map((s) => s.status), ['succeeded', 'failed']);
});
