/**
 * How the batcher sizes batches as the backlog changes, with the real ring, recorder, codecs and
 * envelope, and a transport whose answers the test releases: a batch's size is decided when it
 * starts to fill, so a wait for a free in-flight slot (the endpoint is slow) grows the next one.
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
/** Its "behind" mark is a 16th: 512 KiB, about 5,000 spans of these. */
const RING_BYTES = 8 * 1024 * 1024;

interface Post {
  spans: number;
  answer(): void;
}

/** A transport that holds every post until the test answers it (or answers at once, when `held` is false). */
function heldTransport(posts: Post[], held: { value: boolean }): Transport {
  return {
    baseUrl: 'http://127.0.0.1:7777',
    post(_path: string, body: Uint8Array): Promise<PostResult> {
      const batch = decodeBatch(openEnvelope(body, privateKey));
      const spans = batch.type === 'trace' ? batch.spans.length : 0;
      return new Promise((resolve) => {
        const answer = (): void => resolve({ status: 202, retryAfterMs: null, errorText: null });
        posts.push({ spans, answer });
        if (!held.value) answer();
      });
    },
  } as unknown as Transport;
}

function setup(): { b: BatcherState; rec: Recorder; posts: Post[]; held: { value: boolean } } {
  const sab = createRingBuffer(RING_BYTES);
  const posts: Post[] = [];
  const held = { value: false };
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
    sender: createSender({ views: reader.views, transport: heldTransport(posts, held), maxAttempts: 1, debug: false }),
  });
  return { b, rec: createRecorder(sab), posts, held };
}

function record(rec: Recorder, count: number): void {
  for (let i = 0; i < count; i++) recordSpanInput(rec, { workflow: 'w', operation: 'op', metadata: { i } });
}

async function pass(b: BatcherState): Promise<void> {
  await pumpAll(b);
  await settle(b);
}

test('a pass that began with a small backlog sends larger batches once a batch had to wait for a slot', async () => {
  const { b, rec, posts, held } = setup();
  held.value = true;
  record(rec, 2_000);
  const pumping = pass(b);
  // Until the pass waits for a slot: the batcher yields after each request starts, so answering
  // the moment the fourth post appears could free a slot before it ever had to wait.
  await waitFor(`${MAX_IN_FLIGHT} posts in flight and the pass waiting for a slot`, () => posts.length >= MAX_IN_FLIGHT && b.slotWaits > 0);
  // While the endpoint holds those, the pass waits for a slot instead of filling more small batches.
  assert.deepEqual(posts.map((p) => p.spans), Array(MAX_IN_FLIGHT).fill(BATCH_SIZE));
  held.value = false;
  for (const post of posts) post.answer();
  await pumping;
  const rest = 2_000 - MAX_IN_FLIGHT * BATCH_SIZE;
  assert.deepEqual(posts.map((p) => p.spans), [...Array(MAX_IN_FLIGHT).fill(BATCH_SIZE), rest], 'the rest of the pass went as one batch');
});

test('a pass that starts behind sends its whole burst in large batches, the tail included', async () => {
  const { b, rec, posts } = setup();
  record(rec, 12_000);
  await pass(b);
  assert.deepEqual(posts.map((p) => p.spans), [BACKLOG_BATCH_ITEMS, BACKLOG_BATCH_ITEMS, 12_000 - 2 * BACKLOG_BATCH_ITEMS]);
});

test('batches stay large for the pass after a wait, and return to traceBatchSize after a pass that needed none', async () => {
  const { b, rec, posts, held } = setup();
  held.value = true;
  record(rec, 1_000);
  const pumping = pass(b);
  // Until the pass waits for a slot: the batcher yields after each request starts, so answering
  // the moment the fourth post appears could free a slot before it ever had to wait.
  await waitFor(`${MAX_IN_FLIGHT} posts in flight and the pass waiting for a slot`, () => posts.length >= MAX_IN_FLIGHT && b.slotWaits > 0);
  held.value = false;
  for (const post of posts) post.answer();
  await pumping;
  posts.length = 0;

  record(rec, 300);
  await pass(b);
  assert.deepEqual(posts.map((p) => p.spans), [300], 'the endpoint was slow in the last pass');
  posts.length = 0;

  record(rec, 300);
  await pass(b);
  assert.deepEqual(posts.map((p) => p.spans), [BATCH_SIZE, BATCH_SIZE, BATCH_SIZE], 'the last pass needed no wait');
});
