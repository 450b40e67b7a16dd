/**
 * TLS with the self-signed certificate from `keygen --tls`: the agent delivers over HTTPS when
 * TERACRON_CA_FILE names it, and without it the connection is refused with a clear error.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { exitBudgetEnv, runFixture } from '../helpers/child';
import { cliPath, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import type { CollectorProcess } from '../helpers/collector';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const vectors = envelopeVectors();
let collector: CollectorProcess;
let caFile: string;

before(async () => {
  const dataDir = vectorDataDir();
  // keygen --tls writes tls/cert.pem and tls/key.pem (and a second project, unused here).
  execFileSync(process.execPath, [cliPath(), 'keygen', '--dir', dataDir, '--tls'], { stdio: 'pipe' });
  caFile = join(dataDir, 'tls', 'cert.pem');
  // record-spans dates its spans in 2024: keep them rather than refuse them as past retention.
  collector = await startCollectorProcess(dataDir, ['--tls-cert', caFile, '--tls-key', join(dataDir, 'tls', 'key.pem'), '--retention-days', '3650']);
});
after(() => collector.stop());

test('the collector listens on https', () => {
  assert.match(collector.url, /^https:\/\/127\.0\.0\.1:\d+$/);
});

test('with TERACRON_CA_FILE the agent delivers over HTTPS', async () => {
  const port = new URL(collector.url).port;
  const result = await runFixture('record-spans', {
    TERACRON_API_KEY: vectors.api_key,
    TERACRON_DOMAIN: `localhost:${port}`,
    TERACRON_CA_FILE: caFile,
    ...exitBudgetEnv,
    SPANS: '500',
  });
  assert.equal(result.code, 0, result.stderr);
  const stats = (result.lines.find((line) => 'stats' in line) as { stats: Record<string, number> }).stats;
  assert.equal(stats.sent, 500);
});

test('without TERACRON_CA_FILE the connection is refused with a clear certificate error', async () => {
  const port = new URL(collector.url).port;
  const result = await runFixture('record-spans', {
    TERACRON_API_KEY: vectors.api_key,
    TERACRON_DOMAIN: `localhost:${port}`,
    ...exitBudgetEnv,
    SPANS: '50',
  });
  assert.equal(result.code, 0);
  const stats = (result.lines.find((line) => 'stats' in line) as { stats: Record<string, unknown> }).stats;
  assert.equal(stats.sent, 0);
  assert.equal(stats.droppedSendFailed, 50);
  assert.match(String(stats.lastError), /SELF_SIGNED|self-signed|certificate/i);
});
