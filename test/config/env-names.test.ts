/**
 * A TERACRON_* variable that nothing reads is named in one warning with the variable it was most
 * likely meant to be, and the list of variables the product reads is the one in src/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config/resolve';
import { KNOWN_ENV_NAMES, unknownEnvWarnings } from '../../src/config/env-names';
import { editDistance } from '../../src/config/closest';
import { loadPrivateKey } from '../../src/wire/envelope';
import { repoRoot } from '../../support/repo-root';
import { exitBudgetEnv, runFixture } from '../helpers/child';
import { startReceiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const vectors = envelopeVectors();

function warningsFor(env: NodeJS.ProcessEnv): readonly string[] {
  return resolveConfig({}, { TERACRON_API_KEY: vectors.api_key, ...env }).warnings;
}

test('a misspelled variable gives one warning naming the variable it most likely meant', () => {
  assert.deepEqual(warningsFor({ TERACRON_SAMPLE_RATE: '0.5' }), [
    'TERACRON_SAMPLE_RATE is set but teracron does not read it, so it has no effect: did you mean TERACRON_TRACE_SAMPLE_RATE?',
  ]);
  assert.deepEqual(warningsFor({ TERACRON_TIEMOUT: '5', TERACRON_KEY: 'tcn_x', TERACRON_FLUSH_INTERVAL: '2' }).map((w) => /did you mean (\S+)\?$/.exec(w)?.[1]), [
    'TERACRON_TIMEOUT', 'TERACRON_API_KEY', 'TERACRON_TRACE_FLUSH_INTERVAL',
  ]);
});

test('a variable like no known one is still named, without a guess', () => {
  assert.deepEqual(warningsFor({ TERACRON_FOO: '1' }), [
    'TERACRON_FOO is set but teracron does not read it, so it has no effect: check its spelling against the Configuration table of the README.',
  ]);
});

test('the prefix in another case is flagged on Linux, where the name is not read, and not on Windows, where it is', () => {
  assert.match(unknownEnvWarnings({ teracron_debug: '1' }, 'linux')[0]!, /^teracron_debug is set .* did you mean TERACRON_DEBUG\?$/);
  assert.deepEqual(unknownEnvWarnings({ teracron_debug: '1' }, 'win32'), []);
});

test('variables read outside the agent\'s settings are not flagged', () => {
  const env = {
    TERACRON_HOME: '/tmp/teracron-home', TERACRON_TARGET_PID: String(process.pid), TERACRON_PROCESS_READER: 'fallback',
    TERACRON_HTTP_WORKFLOW: 'web', TERACRON_PORTABLE_CONTEXT: '1', TERACRON_ALLOW_CUSTOM_DOMAIN: '1', OTHER_APP_SETTING: 'x',
  };
  assert.deepEqual(warningsFor(env), []);
});

test('the known variables are exactly the TERACRON_ names that src/ reads', () => {
  const found = new Set<string>();
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith('.ts') && !path.endsWith(join('config', 'env-names.ts'))) {
        // Quoted names ('TERACRON_X') and property reads (env.TERACRON_X); error codes are not variables.
        for (const match of readFileSync(path, 'utf8').matchAll(/(?:['"`]|\benv\.)(TERACRON_[A-Z0-9_]+)\b/g)) {
          if (!match[1]!.startsWith('TERACRON_ERR_')) found.add(match[1]!);
        }
      }
    }
  };
  visit(join(repoRoot(), 'src'));
  assert.deepEqual([...KNOWN_ENV_NAMES].sort(), [...found].sort());
});

test('edit distance counts a swap of neighbours as one edit', () => {
  assert.equal(editDistance('TIMEOUT', 'TIEMOUT'), 1);
  assert.equal(editDistance('INTERVAL', 'INTERVAL'), 0);
  assert.equal(editDistance('', 'ABC'), 3);
  assert.equal(editDistance('SAMPLE_RATE', 'TRACE_SAMPLE_RATE'), 6);
});

test('an application started with a misspelled variable says so once on stderr', { timeout: 30_000 }, async () => {
  const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  try {
    const result = await runFixture('flush-and-stop', {
      TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: receiver.url, TERACRON_SAMPLE_RATE: '0.5', TERACRON_METRICS_ENABLED: '0', SPANS: '3', ...exitBudgetEnv,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '[teracron] warning: TERACRON_SAMPLE_RATE is set but teracron does not read it, so it has no effect: did you mean TERACRON_TRACE_SAMPLE_RATE?\n');
    assert.equal(receiver.spans.length, 3, 'the variable changed nothing: every span was sent');
  } finally {
    await receiver.close();
  }
});
