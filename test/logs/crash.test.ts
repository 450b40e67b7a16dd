/**
 * Crashes are logged without being changed: an app that throws at top level, or leaves a
 * rejection unhandled, exits with the same code and prints the same stderr with the agent
 * (up() or the preload) as without it, and its fatal (or error) log, with the stack, reaches the
 * collector through the exit path. An app with its own handlers keeps them.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadPrivateKey } from '../../src/wire/envelope';
import { fixturePath, runNode } from '../helpers/child';
import { startReceiver } from '../helpers/receiver';
import type { Receiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const vectors = envelopeVectors();
let receiver: Receiver;

before(async () => {
  receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
});
after(() => receiver.close());

type Agent = 'none' | 'up' | 'preload';

function runCrash(crash: string, agent: Agent, nodeFlags: string[] = []) {
  const env = { CRASH: crash, TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: receiver.url, TERACRON_SERVICE: `crash-${crash}-${agent}`, ...(agent === 'up' ? { AGENT: 'up' } : {}) };
  return runNode([...nodeFlags, ...(agent === 'preload' ? ['-r', 'teracron/auto'] : []), fixturePath('crash-app')], env);
}

const CASES = [
  { crash: 'throw', code: 1, level: 'fatal', origin: 'uncaughtException', type: 'InventoryError', message: 'sku A-17 is out of stock' },
  { crash: 'reject', code: 1, level: 'error', origin: 'unhandledRejection', type: 'InventoryError', message: 'sku B-2 is out of stock' },
  { crash: 'reject-handled', code: 4, level: 'error', origin: 'unhandledRejection', type: 'InventoryError', message: 'sku C-3 is out of stock' },
  { crash: 'throw-handled', code: 3, level: 'fatal', origin: 'uncaughtException', type: 'InventoryError', message: 'sku D-4 is out of stock' },
] as const;

for (const c of CASES) {
  test(`CRASH=${c.crash}: same exit code and stderr with the agent as without; the ${c.level} log is shipped with its stack`, async () => {
    const bare = await runCrash(c.crash, 'none');
    assert.equal(bare.code, c.code, `without the agent: ${bare.stderr}`);
    for (const agent of ['up', 'preload'] as const) {
      const before = receiver.logs.length;
      const run = await runCrash(c.crash, agent);
      assert.equal(run.code, bare.code, `${agent}: exit code`);
      assert.equal(run.signal, bare.signal, `${agent}: signal`);
      assert.equal(run.stderr, bare.stderr, `${agent}: stderr is byte for byte the same`);
      const logs = receiver.logs.slice(before).filter((l) => l.module === 'process');
      assert.equal(logs.length, 1, `${agent}: one crash log, got ${JSON.stringify(logs)}`);
      const [logged] = logs;
      assert.equal(logged!.level, c.level);
      assert.equal(logged!.error_type, c.type);
      assert.equal(logged!.error_message, c.message);
      assert.equal(logged!.extra.origin, c.origin);
      assert.match(logged!.stack!, new RegExp(`^InventoryError: ${c.message}\\n {4}at reserveStock \\(dist/test/fixtures/crash-app\\.js:\\d+:\\d+\\)`));
    }
  });
}

test('with --unhandled-rejections=warn the process lives on as before, warning the same way, and the rejection is logged', async () => {
  const flags = ['--unhandled-rejections=warn'];
  // The warning names the pid, which differs from run to run.
  const withoutPid = (text: string): string => text.replace(/\(node:\d+\)/g, '(node:PID)');
  const bare = await runCrash('reject', 'none', flags);
  assert.equal(bare.code, 0, bare.stderr);
  const before = receiver.logs.length;
  const run = await runCrash('reject', 'up', flags);
  assert.equal(run.code, 0);
  assert.equal(withoutPid(run.stderr), withoutPid(bare.stderr));
  const logs = receiver.logs.slice(before).filter((l) => l.module === 'process');
  assert.deepEqual(logs.map((l) => [l.level, l.error_message, l.extra.origin]), [['error', 'sku B-2 is out of stock', 'unhandledRejection']]);
});
