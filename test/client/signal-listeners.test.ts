/**
 * The agent's signal listeners, in this process (no signal is raised here): there exactly while
 * the app has none of its own for that signal, and all gone after down().
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { down, up } from '../../src/index';
import { STOP_SIGNALS } from '../../src/signals';
import { loadPrivateKey } from '../../src/wire/envelope';
import { startReceiver } from '../helpers/receiver';
import type { Receiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';
import { EXIT_BUDGET_MS } from '../helpers/child';

fileTimeout(60_000);

const vectors = envelopeVectors();
let receiver: Receiver;

before(async () => {
  receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
});
after(() => receiver.close());

/** Lets the agent's reconciliation (a microtask after a listener changes) run. */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function counts(): Record<string, number> {
  return Object.fromEntries(['SIGTERM', 'SIGINT', 'SIGHUP', 'newListener', 'removeListener'].map((event) => [event, process.listenerCount(event)]));
}

test('with no app handler, up() listens to SIGTERM, SIGINT and SIGHUP, and down() leaves the listeners as they were', async () => {
  const before = counts();
  assert.deepEqual([before.SIGTERM, before.SIGINT, before.SIGHUP], [0, 0, 0], 'precondition: this process has no signal handler');
  up({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS });
  for (const signal of STOP_SIGNALS) assert.equal(process.listenerCount(signal), 1, signal);
  await down();
  assert.deepEqual(counts(), before);
});

test('an app handler added later replaces the agent\'s listener, and the agent returns when the app removes it', async () => {
  const before = counts();
  up({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS });
  const app = (): void => {};
  process.on('SIGTERM', app);
  await settled();
  assert.deepEqual(process.listeners('SIGTERM'), [app], 'only the app decides what SIGTERM does');
  assert.equal(process.listenerCount('SIGINT'), 1, 'the other signals keep the agent\'s listener');
  process.off('SIGTERM', app);
  await settled();
  assert.equal(process.listenerCount('SIGTERM'), 1, 'with the app\'s handler gone, the agent listens again');
  assert.notEqual(process.listeners('SIGTERM')[0], app);
  await down();
  assert.deepEqual(counts(), before);
});

test('a handler the app had before up() is left alone, and a once() handler counts as the app\'s', async () => {
  const before = counts();
  const app = (): void => {};
  process.on('SIGINT', app);
  process.once('SIGHUP', app);
  try {
    up({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS });
    await settled();
    assert.deepEqual(process.listeners('SIGINT'), [app]);
    assert.deepEqual(process.listeners('SIGHUP'), [app]);
    assert.equal(process.listenerCount('SIGTERM'), 1);
    await down();
  } finally {
    process.off('SIGINT', app);
    process.off('SIGHUP', app);
  }
  assert.deepEqual(counts(), before);
});
