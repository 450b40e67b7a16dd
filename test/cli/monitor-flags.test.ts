/**
 * What `teracron run` and `teracron agent` say about their settings is in the words of the
 * command line (`--api-key`, `--domain`, `--interval`, TERACRON_API_KEY), never in the
 * library's (`{ apiKey: … }`, `option domain`). No collector is needed: every case stops at
 * the configuration.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { runNode } from '../helpers/child';
import type { NodeResult } from '../helpers/child';
import { cliPath } from '../helpers/collector';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const TIMEOUT = { timeout: 60_000 };
const KEY = envelopeVectors().api_key;
const LIBRARY_WORDS = /\{ ?apiKey|option (apiKey|domain|intervalS|service)\b|apiKey option|caFile/;

function run(flags: string[], env: Record<string, string> = {}): Promise<NodeResult> {
  return runNode([cliPath(), 'run', ...flags, '--', process.execPath, '-e', 'process.exitCode = 3'], env);
}

function agent(flags: string[], env: Record<string, string> = {}): Promise<NodeResult> {
  return runNode([join(cliPath(), '..', 'agent-main.js'), '--pid', String(process.pid), ...flags], env);
}

function assertCliWords(result: NodeResult, expected: RegExp): void {
  assert.match(result.stderr, expected);
  assert.doesNotMatch(result.stderr, LIBRARY_WORDS, 'no library wording');
}

test('teracron run without a key names --api-key and TERACRON_API_KEY, and still runs the command', TIMEOUT, async () => {
  const result = await run([]);
  assert.equal(result.code, 3, 'the command ran and its exit code passed on');
  assertCliWords(result, /^teracron run: not monitoring process \d+: no API key: pass --api-key tcn_… or set TERACRON_API_KEY\b/);
  assert.match(result.stderr, /teracron keygen/);
  assert.equal(result.stderr.trim().split('\n').length, 1);
});

test('a blank TERACRON_API_KEY or --api-key counts as no key', TIMEOUT, async () => {
  assertCliWords(await run([], { TERACRON_API_KEY: '  ' }), /no API key: pass --api-key/);
  assertCliWords(await run(['--api-key', '']), /no API key: pass --api-key/);
});

test('teracron agent without a key names --api-key and TERACRON_API_KEY and exits 1', TIMEOUT, async () => {
  const result = await agent([]);
  assert.equal(result.code, 1);
  assertCliWords(result, /^teracron-agent: not monitoring process \d+: no API key: pass --api-key tcn_… or set TERACRON_API_KEY\b/);
});

test('a malformed --api-key is named as --api-key', TIMEOUT, async () => {
  const result = await run(['--api-key', 'tcn_not-a-key']);
  assert.equal(result.code, 3);
  assertCliWords(result, /The API key from --api-key \("tcn_not-…"\) cannot be used/);
});

test('a malformed TERACRON_API_KEY is named as TERACRON_API_KEY', TIMEOUT, async () => {
  assertCliWords(await agent([], { TERACRON_API_KEY: 'tcn_not-a-key' }), /The API key from TERACRON_API_KEY/);
});

test('a refused --domain is named as --domain', TIMEOUT, async () => {
  const result = await run(['--api-key', KEY, '--domain', 'http://example.com']);
  assert.equal(result.code, 3);
  assertCliWords(result, /--domain="http:\/\/example\.com" uses plain http:\/\//);
});

test('an --interval that is not a number of seconds from 5 to 300 is named as --interval', TIMEOUT, async () => {
  for (const interval of ['abc', '1', '301']) {
    const result = await run(['--api-key', KEY, '--interval', interval]);
    assert.equal(result.code, 3, interval);
    assertCliWords(result, new RegExp(`--interval ${JSON.stringify(interval)} is not a number of seconds from 5 to 300`));
  }
});
