/**
 * Batches are sealed into reused buffers (src/worker/envelope-pool.ts). With the real ring,
 * recorder, codecs and envelope, and a transport whose answers the test releases: a buffer is
 * never sealed into while its batch is in flight, a retry sends the same bytes as the first
 * attempt, and the pool keeps no more buffers than there can be batches in flight.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRingBuffer } from '../../src/ring/layout';
import { createRingReader } from '../../src/ring/reader';
import { createRecorder, recordSpanInput } from '../../src/recorder/recorder';
import type { Recorder } from '../../src/recorder/recorder';
import { decodeBatch } from '../../src/wire/batch-codec';
import { loadPrivateKey, loadPublicKey, openEnvelope } from '../../src/wire/envelope';
import { BACKLOG_BATCH_ITEMS, MAX_IN_FLIGHT, createBatcher, pumpAll, settle } from '../../src/worker/batcher';
import type { BatcherState } from '../../src/worker/batcher';
import { MAX_POOLED_BYTES } from '../../src/worker/envelope-pool';
import type { PostResult, Transport } from '../../src/worker/transport';
import { createSender } from '../../src/worker/sender';
import { createWallClock } from '../../src/worker/wall-clock';
import { fileTimeout } from '../helpers/file-timeout';
import { envelopeVectors } from '../helpers/vectors';
import { waitFor } from '../helpers/wait';

fileTimeout(60_000);

const vectors = envelopeVectors();
const privateKey = loadPrivateKey(vectors.private_key_pem);
const BATCH_SIZE = 100;
const RING_BYTES = 16 * 1024 * 1024;

interface Post {
  /** The body as posted (a view of the pooled buffer), and a copy of its bytes taken then. */
  body: Uint8Array;
  copy: Buffer;
  answer(status: number): void;
}

/** A transport that holds the posts `hold` picks until the test answers them, and accepts the others at once. */
function heldTransport(posts: Post[], hold: (index: number) => boolean): Transport {
  return {
    baseUrl: 'http://127.0.0.1:7777',
    post(_path: string, body: Uint8Array): Promise<PostResult> {
      return new Promise((resolve) => {
        // A 503 comes with Retry-After 0: retried at once.
        const answer = (status: number): void => resolve({ status, retryAfterMs: status === 503 ? 0 : null, errorText: null });
        const index = posts.push({ body, copy: Buffer.from(body), answer }) - 1;
        if (!hold(index)) answer(202);
      });
    },
  } as unknown as Transport;
}

function setup(hold: (index: number) => boolean, maxAttempts = 1): { b: BatcherState; rec: Recorder; posts: Post[] } {
  const sab = createRingBuffer(RING_BYTES);
  const posts: Post[] = [];
  const reader = createRingReader(sab);
  const b = createBatcher({
    reader,
    clock: createWallClock(0),
    publicKey: loadPublicKey(vectors.public_key_pem),
    slug: vectors.slug,
    resource: { service: 'test', environment: 'test', host: 'test', pid: 1, sdk: { name: 'teracron-node', version: '0' }, runtime: { name: 'node', version: '20' } },
    format: 'msgpack',
    batchSize: BATCH_SIZE,
    emitLifecycleEvents: false,
    sender: createSender({ views: reader.views, transport: heldTransport(posts, hold), maxAttempts, debug: false }),
  });
  return { b, rec: createRecorder(sab), posts };
}

/** Spans numbered from `first`, with `padBytes` of metadata each. */
function record(rec: Recorder, first: number, count: number, padBytes = 10): void {
  const pad = 'x'.repeat(padBytes);
  for (let i = first; i < first + count; i++) recordSpanInput(rec, { workflow: 'w', operation: 'op', metadata: { i, pad } });
}

function spanNumbers(body: Uint8Array): number[] {
  const batch = decodeBatch(openEnvelope(body, privateKey));
  assert.equal(batch.type, 'trace');
  return batch.spans.map((span) => span.metadata!.i as number);
}

function range(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => first + i);
}

test('a buffer is not sealed into again while its batch is in flight, and is reused once it is answered', async () => {
  const { b, rec, posts } = setup(() => true);
  // A backlog from the start: batches of BACKLOG_BATCH_ITEMS.
  const batches = 3 * MAX_IN_FLIGHT;
  const spans = batches * BACKLOG_BATCH_ITEMS;
  record(rec, 0, spans);
  const pumping = pumpAll(b);
  // Answer one post at a time, oldest first, each once the pass has sealed all it can meanwhile.
  for (let answered = 0; answered < batches; answered++) {
    const sealable = Math.min(batches, answered + MAX_IN_FLIGHT);
    await waitFor(`${sealable} posts`, () => posts.length >= sealable, { seen: () => posts.length });
    for (const [index, post] of posts.entries()) {
      if (index >= answered) assert.ok(Buffer.from(post.body).equals(post.copy), `post ${index} changed while in flight (${answered} answered)`);
    }
    // In flight until now, with later batches sealed meanwhile: its body still opens.
    spanNumbers(posts[answered]!.body);
    posts[answered]!.answer(202);
  }
  await pumping;
  await settle(b);
  assert.equal(posts.length, batches);
  assert.deepEqual(posts.flatMap((post) => spanNumbers(post.copy)), range(0, spans), 'every span, in order');
  const buffers = new Set(posts.map((post) => post.body.buffer));
  assert.equal(b.envelopes.allocated - b.envelopes.letGo, buffers.size);
  assert.ok(buffers.size <= MAX_IN_FLIGHT, `${buffers.size} buffers carried ${batches} batches`);
});

test('a retried batch is sent with the same bytes, though other batches were sealed and answered in between', async () => {
  const { b, rec, posts } = setup((index) => index === 0, 3);
  record(rec, 0, 10 * BATCH_SIZE);
  await pumpAll(b);
  await waitFor('the other nine batches sent', () => posts.length === 10);
  const first = posts[0]!;
  first.answer(503);
  await waitFor('the retry of the first batch', () => posts.length === 11);
  const retry = posts[10]!;
  assert.ok(retry.copy.equals(first.copy), 'the retry sent the first attempt’s bytes');
  assert.equal(retry.body, first.body, 'from the buffer kept for it');
  await settle(b);
  assert.deepEqual(spanNumbers(retry.copy), range(0, BATCH_SIZE));
});

test('the pool keeps at most one buffer per batch in flight, grown to the largest envelope', async () => {
  const { b, rec } = setup(() => false);
  const rounds = 5;
  for (let round = 0; round < rounds; round++) {
    // Larger spans each round, so each round's envelopes outgrow the kept buffers.
    record(rec, 0, 8 * BATCH_SIZE, 100 * (round + 1));
    await pumpAll(b);
    await settle(b);
    assert.equal(b.envelopes.lent, 0);
    assert.ok(b.envelopes.free.length <= MAX_IN_FLIGHT, `${b.envelopes.free.length} buffers kept`);
    for (const buffer of b.envelopes.free) assert.equal(buffer.byteLength, b.envelopes.bufferBytes, 'kept buffers have the current size');
  }
  assert.ok(b.envelopes.bufferBytes <= MAX_POOLED_BYTES);
  // A round may replace each kept buffer once, as they grow, and no more.
  assert.ok(b.envelopes.allocated <= rounds * MAX_IN_FLIGHT, `${b.envelopes.allocated} buffers allocated in ${rounds} rounds`);
});
