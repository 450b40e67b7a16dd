/**
 * TERACRON_DOMAIN=127.0.0.1:<port> without a scheme means https; against a collector serving
 * plain HTTP every batch fails in the TLS handshake. Wherever that failure is seen (stats()
 * lastError, the stderr line when a batch is dropped, the --debug retry lines) it says the
 * server speaks plain HTTP and which URL to use.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadPrivateKey } from '../../src/wire/envelope';
import { runFixture } from '../helpers/child';
import { fileTimeout } from '../helpers/file-timeout';
import { startReceiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';

fileTimeout(60_000);

const vectors = envelopeVectors();

test('a domain without a scheme pointed at a plain-HTTP collector fails with a hint to use http:// in stats, stderr and debug lines', async () => {
  const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  const result = await runFixture('flush-and-stop', {
    TERACRON_API_KEY: vectors.api_key,
    TERACRON_DOMAIN: `127.0.0.1:${receiver.port}`,
    TERACRON_METRICS_ENABLED: 'false',
    TERACRON_MAX_SEND_ATTEMPTS: '2',
    TERACRON_DEBUG: '1',
    SPANS: '5',
  });
  await receiver.close();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(receiver.requests.length, 0, 'nothing got through the handshake');

  const hint = `the server at 127.0.0.1:${receiver.port} speaks plain HTTP, not TLS (a domain without a scheme means https). Set the domain (TERACRON_DOMAIN or the domain option) to http://127.0.0.1:${receiver.port}`;
  const stats = (result.lines.find((line) => 'stats' in line) as { stats: Record<string, unknown> }).stats;
  assert.equal(stats.droppedSendFailed, 5);
  assert.equal(stats.retries, 1);
  assert.ok(String(stats.lastError).startsWith('/api/v1/traces could not be reached: ERR_SSL_WRONG_VERSION_NUMBER'), String(stats.lastError));
  assert.ok(String(stats.lastError).includes(hint), String(stats.lastError));

  const lines = result.stderr.split('\n');
  const dropped = lines.filter((line) => line.startsWith('[teracron] dropped 5 trace items after 2 attempts'));
  assert.equal(dropped.length, 1, result.stderr);
  assert.ok(dropped[0]!.includes(hint), dropped[0]);
  const retry = lines.filter((line) => /; retry 1 of 1 in \d+ ms$/.test(line));
  assert.equal(retry.length, 1, result.stderr);
  assert.ok(retry[0]!.includes(hint), retry[0]);
});
