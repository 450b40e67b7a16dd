/** up()/down(), the explicit client, and the package's two module systems sharing one agent. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { TeracronClient, TeracronConfigError, down, getClient, up } from '../../src/index';
import { loadPrivateKey } from '../../src/wire/envelope';
import { startReceiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';
import { repoRoot } from '../../support/repo-root';
import { fileTimeout } from '../helpers/file-timeout';
import { EXIT_BUDGET_MS } from '../helpers/child';

fileTimeout(60_000);

const vectors = envelopeVectors();

test('down() without up() resolves and does nothing', async () => {
  await down();
  assert.equal(getClient(), null);
});

test('up() is idempotent and down() flushes what was recorded before it', async () => {
  const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  const first = up({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS });
  const second = up({ apiKey: 'ignored once running' });
  assert.equal(second, first);
  assert.equal(getClient(), first);
  first.recordSpan({ workflow: 'lifecycle', operation: 'one' });
  await down();
  await down();
  await receiver.close();
  assert.equal(getClient(), null);
  assert.deepEqual(receiver.spans.map((s) => s.operation), ['one']);
  assert.equal(first.recordSpan({ workflow: 'lifecycle', operation: 'late' }), false, 'a stopped client records nothing');
  assert.equal(first.stats().droppedNotRunning, 1);
});

test('a missing key makes up() throw a TeracronConfigError that says how to fix it', () => {
  const saved = process.env.TERACRON_API_KEY;
  delete process.env.TERACRON_API_KEY;
  try {
    assert.throws(() => up(), (err: unknown) => err instanceof TeracronConfigError && err.code === 'TERACRON_ERR_CONFIG' && /TERACRON_API_KEY/.test(err.message) && /teracron keygen/.test(err.message));
  } finally {
    if (saved !== undefined) process.env.TERACRON_API_KEY = saved;
  }
});

test('new TeracronClient(opts).start()/stop() is the explicit form', async () => {
  const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  const client = new TeracronClient({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS });
  assert.equal(client.recordSpan({ workflow: 'w' }), false, 'not started yet');
  assert.equal(client.start(), client);
  assert.equal(client.start(), client, 'start() twice is harmless');
  assert.equal(client.recordSpan({ workflow: 'w', operation: 'o', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentSpanId: '00f067aa0ba902b700f067aa0ba902b7' }), true);
  await client.stop();
  await receiver.close();
  assert.equal(receiver.spans.length, 1);
  assert.equal(receiver.spans[0]!.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(receiver.spans[0]!.parent_span_id, '00f067aa0ba902b700f067aa0ba902b7');
});

test('import and require of "teracron" give the same single agent', () => {
  const script = [
    "const cjs = require('teracron');",
    "import('teracron').then((esm) => {",
    '  const same = esm.up === cjs.up && esm.TeracronClient === cjs.TeracronClient && esm.default === cjs;',
    '  const missing = Object.keys(cjs).filter((name) => esm[name] !== cjs[name]);',
    "  process.stdout.write(JSON.stringify({ same, missing, up: typeof esm.up, version: esm.SDK_VERSION }));",
    '});',
  ].join('\n');
  const out = execFileSync(process.execPath, ['-e', script], { cwd: repoRoot(), encoding: 'utf8' });
  const pkg = require(join(repoRoot(), 'package.json')) as { version: string };
  assert.deepEqual(JSON.parse(out), { same: true, missing: [], up: 'function', version: pkg.version }, 'the ESM entry exports everything the CommonJS one does');
});
