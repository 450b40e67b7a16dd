import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLimit, parseSince, renderTraceTree } from '../../src/cli/query-commands';
import { UsageError } from '../../src/cli/output';
import { normalizeSpans } from '../../src/cli/simulate-render';
import { envelopeVectors } from '../helpers/vectors';
import { closedPort } from '../helpers/ports';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const KEY = envelopeVectors().api_key;
const TRACE = 'ab'.repeat(16);
const id = (n: number) => n.toString(16).padStart(32, '0');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one command module's run(argv) in a child, as main.ts would, with a clean environment. */
function cli(module: 'query-commands' | 'simulate', argv: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const modulePath = join(__dirname, '..', '..', 'src', 'cli', `${module}.js`);
  const script = `require(${JSON.stringify(modulePath)}).run(${JSON.stringify(argv)}).then((c) => { process.exitCode = c; }, (e) => { console.error(e); process.exitCode = 99; });`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], {
      env: { PATH: process.env.PATH ?? '', TERACRON_HOME: join(tmpdir(), 'teracron-no-home-here'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}


test('--since takes ISO 8601 dates and times and normalises them to UTC', () => {
  assert.equal(parseSince('2024-05-01'), '2024-05-01T00:00:00.000Z');
  assert.equal(parseSince('2024-05-01T12:30:00+02:00'), '2024-05-01T10:30:00.000Z');
  assert.equal(parseSince(undefined), undefined);
});

test('--since takes a span back from now in s, m, h or d', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  assert.equal(parseSince('30m', now), '2024-05-01T11:30:00.000Z');
  assert.equal(parseSince('2d', now), '2024-04-29T12:00:00.000Z');
});

test('--since rejects text that is not a time', () => {
  for (const text of ['yesterday', 'March 7', '2024-13-45', '5 minutes', '']) {
    assert.throws(() => parseSince(text), UsageError, text);
  }
});

test('--limit takes whole numbers from 1 and rejects anything else', () => {
  assert.equal(parseLimit('25'), 25);
  for (const text of ['0', '-1', '1.5', 'ten', '0x10', '']) assert.throws(() => parseLimit(text), /--limit .* is not a whole number of at least 1/, text);
});

test('a trace renders as a tree by parent with durations and failures marked', () => {
  const spans = normalizeSpans([
    { span_id: id(1), parent_span_id: null, workflow: 'checkout', operation: 'checkout.run', status: 'failed', duration_ms: 120, error_type: 'PaymentError', error_message: 'declined' },
    { span_id: id(2), parent_span_id: id(1), operation: 'inventory.reserve', status: 'succeeded', duration_ms: 12 },
    { span_id: id(3), parent_span_id: id(2), operation: 'db.query', status: 'succeeded', duration_ms: 3.25 },
    { span_id: id(4), parent_span_id: id(1), operation: 'payment.charge', status: 'failed', duration_ms: 90, error_type: 'PaymentError', error_message: 'declined' },
    { span_id: id(5), parent_span_id: id(1), operation: 'audit', status: 'started' },
  ]);
  assert.equal(
    renderTraceTree(TRACE, spans),
    [
      `trace ${TRACE}  workflow checkout  5 spans, 2 failed`,
      '',
      'checkout.run  120 ms  ✗ FAILED  PaymentError: declined',
      '├─ inventory.reserve  12 ms',
      '│  └─ db.query  3.3 ms',
      '├─ payment.charge  90 ms  ✗ FAILED  PaymentError: declined',
      '└─ audit  -  … in progress',
    ].join('\n'),
  );
});

test('a trace tree shows orphans as roots, survives a parent cycle and escapes control characters', () => {
  const spans = normalizeSpans([
    { span_id: id(1), parent_span_id: id(9), operation: 'orphan\u001b[2J', status: 'succeeded', duration_ms: 1 },
    { span_id: id(2), parent_span_id: id(3), operation: 'a', status: 'succeeded', duration_ms: 1 },
    { span_id: id(3), parent_span_id: id(2), operation: 'b', status: 'succeeded', duration_ms: 1 },
  ]);
  const text = renderTraceTree(TRACE, spans);
  assert.match(text, /^orphan\\u001b\[2J {2}1\.0 ms {2}\(parent 00000000000000000000000000000009 not in this trace\)$/m);
  assert.match(text, /^a {2}1\.0 ms\n└─ b {2}1\.0 ms$/m);
  assert.doesNotMatch(text, /\u001b/);
});

test('usage errors exit 2 before any request is made', async () => {
  const port = await closedPort();
  const env = { TERACRON_DOMAIN: `http://127.0.0.1:${port}`, TERACRON_API_KEY: KEY };
  const cases: Array<[string[], RegExp]> = [
    [['trace'], /the trace id is missing/],
    [['trace', 'ABCDEF'], /has upper-case letters: ids are lowercase hex \(try abcdef\)/],
    [['trace', 'xyz'], /is not an id: ids are lowercase hex/],
    [['trace', 'a'.repeat(65)], /at most 64 characters/],
    [['trace', 'ab', 'cd'], /trace takes one trace id, got 2/],
    [['events', '--bogus'], /Unknown option '--bogus'/],
    [['events', '--limit', 'many'], /--limit "many" is not a whole number/],
    [['events', '--status', 'broken'], /--status "broken" is not one of succeeded, failed, in_progress/],
    [['events', '--since', 'yesterday'], /--since "yesterday" is not a time/],
    [['workflows', 'extra'], /Unexpected argument 'extra'/],
    [['whoami', '--domain'], /--domain <value>' argument missing/],
  ];
  for (const [argv, pattern] of cases) {
    const result = await cli('query-commands', argv, env);
    assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, pattern, argv.join(' '));
    assert.match(result.stderr, /usage: teracron /, argv.join(' '));
    assert.equal(result.stdout, '');
  }
});

test('a malformed API key or a refused domain is a usage error (exit 2)', async () => {
  const key = await cli('query-commands', ['whoami', '--domain', 'http://127.0.0.1:9', '--api-key', 'tcn_nope'], {});
  assert.equal(key.code, 2);
  assert.match(key.stderr, /--api-key: The API key/);
  const domain = await cli('query-commands', ['whoami', '--domain', 'http://example.com', '--api-key', KEY], {});
  assert.equal(domain.code, 2);
  assert.match(domain.stderr, /^teracron whoami: --domain="http:\/\/example\.com" uses plain http:\/\/.*TERACRON_CA_FILE/);
  assert.doesNotMatch(domain.stderr, /caFile/, 'the command line has no caFile option');
});

test('an unreachable collector exits 1 and says which URL could not be reached', async () => {
  const port = await closedPort();
  const result = await cli('query-commands', ['events', '--json', '--domain', `http://127.0.0.1:${port}`, '--api-key', KEY]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`^teracron events: could not reach http://127\\.0\\.0\\.1:${port}/api/v1/events `));
  assert.equal(result.stdout, '');
});

test('with --json a server error goes to stderr and stdout stays empty', async () => {
  // Stand-in for the collector's error answer only.
  const server = createServer((_req, res) => {
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' }).end(JSON.stringify({ error: 'rate limited', hint: 'wait' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const result = await cli('query-commands', ['trace', TRACE, '--json', '--domain', `http://127.0.0.1:${port}`, '--api-key', KEY]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^teracron trace: GET \/api\/v1\/traces\/a[0-9a-f]+ on http:\/\/127\.0\.0\.1:\d+ answered 429 Too Many Requests: rate limited\. Hint: wait\. Retry after 7 s\.\n$/);
  } finally {
    server.close();
  }
});

test('--help prints the command usage on stdout and exits 0', async () => {
  const result = await cli('query-commands', ['events', '--help']);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^usage: teracron events \[--workflow w\]/);
});

test('simulate checks the trace id and flags locally and writes nothing on a usage error', async () => {
  const out = mkdtempSync(join(tmpdir(), 'teracron-sim-'));
  try {
    const bad = await cli('simulate', ['simulate', 'NOT-HEX', '--out', out], { TERACRON_DOMAIN: 'http://127.0.0.1:9', TERACRON_API_KEY: KEY });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /the trace id "NOT-HEX" is not an id/);
    const missing = await cli('simulate', ['simulate', '--out', out], { TERACRON_DOMAIN: 'http://127.0.0.1:9', TERACRON_API_KEY: KEY });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /usage: teracron simulate <trace_id/);
    assert.deepEqual(readdirSync(out), []);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
