/**
 * `teracron logs`, `issues` and `issue` against a real collector process holding the logs suite's
 * batches (test/collector/logs-suite.ts): --json prints what the query API answers, the human
 * output is aligned on stderr, and `logs --follow` prints new logs, oldest first, each once,
 * until SIGINT.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { WireLog, WireResource } from '../../src/wire/batch-codec';
import { ISSUES, postLogs, sendLogsSuiteData } from '../collector/logs-suite';
import { cliPath, query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import type { CollectorProcess } from '../helpers/collector';
import { fileTimeout } from '../helpers/file-timeout';
import { envelopeVectors } from '../helpers/vectors';
import { waitFor } from '../helpers/wait';

fileTimeout(120_000);

const run = promisify(execFile);
const vectors = envelopeVectors();
let collector: CollectorProcess;
let home: string;

before(async () => {
  collector = await startCollectorProcess(vectorDataDir(), ['--retention-days', '3650']);
  home = mkdtempSync(join(tmpdir(), 'teracron-home-'));
  await sendLogsSuiteData(collector.url);
});
after(() => collector.stop());

const target = (): string[] => ['--domain', collector.url, '--api-key', vectors.api_key];
const env = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? '', TERACRON_HOME: home });

function cli(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [cliPath(), ...args, ...target()], { env: env() });
}

async function api(path: string): Promise<any> {
  const res = await query(collector.url, path);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

test('logs, issues and issue with --json print exactly what the query API answers', async () => {
  for (const [args, path] of [
    [['logs'], '/api/v1/logs'],
    [['logs', '--level', 'error', '--service', 'shop', '--limit', '2'], '/api/v1/logs?level=error&service=shop&limit=2'],
    [['logs', '--grep', 'CHECKOUT', '--module', 'pay'], '/api/v1/logs?q=CHECKOUT&module=pay'],
    [['logs', '--trace', `10c50002${'a'.repeat(24)}`], `/api/v1/logs?trace_id=10c50002${'a'.repeat(24)}`],
    [['logs', '--since', '2000-01-01'], '/api/v1/logs?from=2000-01-01T00:00:00.000Z'],
    [['issues'], '/api/v1/issues'],
    [['issues', '--sort', 'count', '--status', 'open', '--service', 'payments'], '/api/v1/issues?sort=count&status=open&service=payments'],
  ] as const) {
    const { stdout } = await cli([...args, '--json']);
    assert.deepEqual(JSON.parse(stdout), await api(path), args.join(' '));
  }
  // Hourly counts are as of the moment asked: compared apart from them.
  for (const asked of [ISSUES.charge, ISSUES.charge.slice(0, 12)]) {
    const { hourly, ...shown } = JSON.parse((await cli(['issue', asked, '--json'])).stdout);
    const { hourly: apiHourly, ...answered } = await api(`/api/v1/issues/${ISSUES.charge}`);
    assert.deepEqual(shown, answered, `issue ${asked}`);
    assert.equal(hourly.length, apiHourly.length);
  }
});

test('logs without --json: an aligned table on stderr, newest first, errors with their type and message', async () => {
  const { stdout, stderr } = await cli(['logs', '--level', 'warn']);
  assert.equal(stdout, '');
  const lines = stderr.trimEnd().split('\n');
  assert.match(lines[0]!, /^time {18}level {2}service {3}module {2}trace {5}message$/);
  const rows = lines.slice(1, lines.indexOf(''));
  assert.deepEqual(rows.map((row) => row.split(/\s{2,}/)[1]), ['error', 'fatal', 'error', 'error', 'error', 'error', 'warn']);
  for (const row of rows) assert.equal(row.indexOf(row.split(/\s{2,}/)[1]!), lines[0]!.indexOf('level'), `aligned: ${row}`);
  assert.match(rows[0]!, /refund failed \(PaymentError: payment for order 78 \(request [0-9a-f-]{36}\) failed at /);
  assert.match(stderr, /\n\n7 logs, newest first\.\n$/);
});

test('issues and issue without --json: the table, then one issue with its frames, latest stack and occurrences with trace ids', async () => {
  const { stderr } = await cli(['issues', '--sort', 'count']);
  const lines = stderr.split('\n');
  assert.match(lines[0]!, /^issue {9}status {2}count {2}last seen {13}services {8}error$/);
  assert.deepEqual(lines.slice(1, 6).map((line) => line.split(/\s{2,}/).slice(0, 3)), [
    [ISSUES.chargeSpan.slice(0, 12), 'open', '3'], [ISSUES.charge.slice(0, 12), 'open', '3'], [ISSUES.refund.slice(0, 12), 'open', '2'],
    [ISSUES.refundSpan.slice(0, 12), 'open', '1'], [ISSUES.crash.slice(0, 12), 'open', '1'],
  ]);
  const detail = (await cli(['issue', ISSUES.charge.slice(0, 12)])).stderr;
  assert.match(detail, new RegExp(`^issue ${ISSUES.charge}\nPaymentError: payment for order <num> \\(request <uuid>\\) failed at <timestamp>\n`));
  assert.match(detail, /^count {7}3 \(3 in the last 24 h\)$/m);
  assert.match(detail, /^services {4}payments, shop$/m);
  assert.match(detail, /^frames\n {2}chargeCard \(dist\/test\/collector\/logs-suite\.js:\d+\)$/m);
  assert.match(detail, /^latest stack\n {2}PaymentError: payment for order 789 /m);
  assert.match(detail, /^ {6}at chargeCard \(dist\/test\/collector\/logs-suite\.js:\d+:\d+\)$/m);
  for (const trace of [4, 3, 2]) assert.match(detail, new RegExp(`  log   error  \\w+ +10c5000${trace}${'a'.repeat(24)}  payment for order`));
});

test('a level, trace id, status, sort or fingerprint that is not one is a usage error (exit 2); an unknown issue exits 1 with the API\'s answer', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['logs', '--level', 'loud'], /--level "loud" is not one of debug, info, warn, error, fatal/],
    [['logs', '--trace', 'ABC'], /--trace "ABC" is not a whole trace id: give its 32 lowercase hex characters/],
    [['logs', '--since', 'yesterday'], /--since "yesterday" is not a time/],
    [['issues', '--status', 'closed'], /--status "closed" is not one of open, resolved, ignored/],
    [['issues', '--sort', 'oldest'], /--sort "oldest" is not one of last_seen, count/],
    [['issue'], /the fingerprint is missing/],
    [['issue', 'abc'], /the fingerprint "abc" has 3 characters: give at least 8/],
    [['issue', 'ABCDEF0123'], /has upper-case letters: fingerprints are lowercase hex \(try abcdef0123\)/],
    [['issue', 'a', 'b'], /issue takes one fingerprint, got 2/],
  ];
  for (const [args, pattern] of cases) {
    await assert.rejects(cli(args), (err: { code?: number; stderr?: string }) => {
      assert.equal(err.code, 2, args.join(' '));
      assert.match(String(err.stderr), pattern, args.join(' '));
      return true;
    });
  }
  await assert.rejects(cli(['issue', '0'.repeat(64)]), (err: { code?: number; stderr?: string }) => err.code === 1 && /answered 404 Not Found: no issue 0{64}/.test(String(err.stderr)));
});

test('logs --follow prints the latest logs, then each new one once, oldest first (a late one too), until SIGINT', async () => {
  const child = spawn(process.execPath, [cliPath(), 'logs', '--follow', '--limit', '3', ...target()], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitFor('the latest 3 logs', () => stderr.includes('refund failed'));
    const shop: WireResource = { service: 'shop', environment: 'test', host: 'h1', pid: 1, sdk: { name: 'teracron-node', version: '0.1.0' }, runtime: { name: 'node', version: '20' } };
    const fresh = (n: number, timestamp: number): WireLog => ({
      timestamp, level: 'info', message: `followed ${n}`, module: 'tail', trace_id: null, span_id: null, extra: {}, error_type: null, error_message: null, stack: null,
    });
    const now = Date.now();
    // Sent out of time order, in two batches a poll apart: printed oldest first within a poll.
    await postLogs(collector.url, 'f1'.repeat(16), [fresh(2, now + 2), fresh(1, now + 1)], shop);
    await waitFor('the first new logs', () => stderr.includes('followed 2'));
    await postLogs(collector.url, 'f2'.repeat(16), [fresh(3, now + 3)], shop);
    await waitFor('the next new log', () => stderr.includes('followed 3'));
    // Stamped before the logs shown, but arriving after them: shown too, once.
    await postLogs(collector.url, 'f3'.repeat(16), [fresh(0, now - 5000)], shop);
    await waitFor('the late log', () => stderr.includes('followed 0'));
    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
  } finally {
    child.kill('SIGKILL');
  }
  const lines = stderr.trimEnd().split('\n');
  assert.deepEqual(
    lines.map((line) => /(checkout failed|worker 7 crashed|refund failed|followed \d)/.exec(line)?.[1]),
    ['checkout failed', 'worker 7 crashed', 'refund failed', 'followed 1', 'followed 2', 'followed 3', 'followed 0'],
  );
  for (const line of lines) assert.match(line, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z  (info |error|fatal)  \S+ +\S+ +\S+ +\S/, `aligned: ${line}`);
});
