/**
 * TERACRON_CAPTURE_CONSOLE=1: what the app prints is byte for byte what it prints without the
 * agent, and each console call arrives as one log with console's own text and the right level.
 */
import assert from 'node:assert/strict';
import { format } from 'node:util';
import { after, before, test } from 'node:test';
import { loadPrivateKey } from '../../src/wire/envelope';
import { fixturePath, runNode } from '../helpers/child';
import { startReceiver } from '../helpers/receiver';
import type { Receiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const vectors = envelopeVectors();
let receiver: Receiver;

before(async () => {
  receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
});
after(() => receiver.close());

test('console output is unchanged by capture, and every call is a log with its level and text', async () => {
  const bare = await runNode([fixturePath('console-app')], {});
  const env = { AGENT: 'up', TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: receiver.url, TERACRON_CAPTURE_CONSOLE: '1', TERACRON_LOG_LEVEL: 'debug' };
  const captured = await runNode([fixturePath('console-app')], env);
  assert.equal(captured.code, 0, captured.stderr);
  assert.equal(captured.stdout, bare.stdout);
  assert.equal(captured.stderr, bare.stderr);
  assert.match(bare.stdout, /order 42 for ada costs 9\.5/);

  const logs = receiver.logs.filter((l) => l.module === 'console');
  assert.deepEqual(logs.map((l) => [l.level, l.message]), [
    ['info', 'plain line'],
    ['info', format('order %d for %s costs %f', 42, 'ada', 9.5, { extra: [1, 2] })],
    ['info', format('info with an object', { nested: { deep: { deeper: { deepest: 1 } } }, list: [1, 'two'] })],
    ['debug', 'debug · ünïcödé ✓ 🚀'],
    ['warn', format('%o is odd', { odd: true })],
    ['error', logs[5]!.message],
    ['warn', 'Assertion failed: math broke'],
    ['info', logs[7]!.message],
    ['info', 'detached call'],
  ]);
  assert.match(logs[5]!.message, /^could not charge QuotaExceeded \[Error\]: quota 3 of 3 used\n {4}at /);
  assert.deepEqual([logs[5]!.error_type, logs[5]!.error_message], ['QuotaExceeded', 'quota 3 of 3 used']);
  assert.match(logs[7]!.message, /│ sku +│ qty │/);
});

test('without TERACRON_CAPTURE_CONSOLE nothing printed becomes a log', async () => {
  const before = receiver.logs.length;
  const run = await runNode([fixturePath('console-app')], { AGENT: 'up', TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: receiver.url, TERACRON_LOG_LEVEL: 'debug' });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(receiver.logs.length, before);
});
