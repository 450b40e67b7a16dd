/** The query CLI against a real collector process: JSON on stdout equals the query API's. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { request } from 'undici';
import { encodeBatch, newBatchId } from '../../src/wire/batch-codec';
import type { WireSpan } from '../../src/wire/batch-codec';
import { loadPublicKey, sealEnvelope } from '../../src/wire/envelope';
import { cliPath, query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import type { CollectorProcess } from '../helpers/collector';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const run = promisify(execFile);
const vectors = envelopeVectors();
const TRACE = 'feed'.repeat(8);
let collector: CollectorProcess;
let home: string;

function span(id: number, parent: number | null, operation: string, failed = false): WireSpan {
  return {
    trace_id: TRACE,
    span_id: id.toString(16).padStart(32, '0'),
    parent_span_id: parent === null ? null : parent.toString(16).padStart(32, '0'),
    workflow: 'payment',
    operation,
    status: failed ? 'failed' : 'succeeded',
    started_at: 1_763_700_000_000 + id,
    duration_ms: 10 - id,
    error_type: failed ? 'CardDeclined' : null,
    error_message: failed ? 'card 4242 declined' : null,
    metadata: { region: 'eu' },
    captured_params: failed ? { order_id: 'ORD-9', amount: 42.5 } : {},
  };
}

before(async () => {
  // Its batches carry fixed dates (as do the Python-made vectors), which a collector keeping
  // the default 7 days would refuse as outside its retention.
  collector = await startCollectorProcess(vectorDataDir(), ['--retention-days', '3650']);
  home = mkdtempSync(join(tmpdir(), 'teracron-home-'));
  const spans = [span(1, null, 'Checkout.run', true), span(2, 1, 'Payment.charge', true), span(3, 1, 'Cart.load')];
  const body = sealEnvelope(encodeBatch({ type: 'trace', project_slug: vectors.slug, batch_id: newBatchId(), spans }, 'json'), loadPublicKey(vectors.public_key_pem));
  const res = await request(`${collector.url}/api/v1/traces`, { method: 'POST', body, headers: { 'x-project-slug': vectors.slug } });
  assert.equal(res.statusCode, 202);
  await res.body.dump();
});
after(() => collector.stop());

function cli(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [cliPath(), ...args], { env: { PATH: process.env.PATH ?? '', TERACRON_HOME: home, ...env } });
}

const target = (): string[] => ['--domain', collector.url, '--api-key', vectors.api_key];

test('whoami, events, workflows and trace with --json print exactly what the query API answers', async () => {
  for (const [args, path] of [
    [['whoami'], '/v1/auth/whoami'],
    [['events'], '/api/v1/events'],
    [['workflows'], '/api/v1/workflows'],
    [['workflows', '--since', '2024-05-01T10:00:00Z'], '/api/v1/workflows?since=2024-05-01T10%3A00%3A00.000Z'],
    [['workflows', '--since', '2099-01-01'], '/api/v1/workflows?since=2099-01-01T00%3A00%3A00.000Z'],
    [['trace', TRACE], `/api/v1/traces/${TRACE}`],
  ] as const) {
    const { stdout } = await cli([...args, '--json', ...target()]);
    assert.deepEqual(JSON.parse(stdout), (await query(collector.url, path)).body, args.join(' '));
  }
  // --since reaches the collector: nothing ran after 2099 began, and something did before.
  const count = async (since: string): Promise<number> => (JSON.parse((await cli(['workflows', '--since', since, '--json', ...target()])).stdout) as { workflows: unknown[] }).workflows.length;
  assert.equal(await count('2099-01-01'), 0);
  assert.ok((await count('2000-01-01')) > 0);
});

test('without --json the human output goes to stderr and stdout stays empty', async () => {
  const { stdout, stderr } = await cli(['trace', TRACE, ...target()]);
  assert.equal(stdout, '');
  assert.match(stderr, /Checkout\.run/);
  assert.match(stderr, /Payment\.charge/);
});

test('a non-hex trace id is a usage error (exit 2) before any request', async () => {
  await assert.rejects(cli(['trace', 'NOT-HEX', ...target()]), (err: { code?: number }) => err.code === 2);
});

test('simulate writes a failure context, a diagnosis and an inert repro that throws the recorded error', async () => {
  const out = mkdtempSync(join(tmpdir(), 'teracron-simulate-'));
  await cli(['simulate', TRACE, '--out', out, ...target()]);
  const context = JSON.parse(readFileSync(join(out, 'failure-context.json'), 'utf8'));
  assert.equal(context.error_type, 'CardDeclined');
  assert.deepEqual(context.captured_params, { order_id: 'ORD-9', amount: 42.5 });
  assert.match(readFileSync(join(out, 'diagnosis.md'), 'utf8'), /Payment\.charge/);
  await assert.rejects(run(process.execPath, [join(out, 'repro.js')]), (err: { code?: number; stderr?: string }) => {
    assert.equal(err.code, 1);
    assert.match(String(err.stderr), /CardDeclined: card 4242 declined/);
    return true;
  });
});

test('login keeps the credentials (mode 0600) so later commands need no flags; logout removes them', async () => {
  await cli(['login', ...target()]);
  const file = join(home, 'credentials.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const { stdout } = await cli(['whoami', '--json']);
  assert.deepEqual(JSON.parse(stdout), { project_slug: vectors.slug, authenticated: true });
  await cli(['logout']);
  assert.equal(existsSync(file), false);
});

test('trace and simulate take the first 8 or more characters of a trace id, as the dashboard shows it', { timeout: 60_000 }, async () => {
  const prefix = TRACE.slice(0, 8);
  const { stdout } = await cli(['trace', prefix, '--json', ...target()]);
  assert.deepEqual(JSON.parse(stdout), (await query(collector.url, `/api/v1/traces/${TRACE}`)).body);
  const { stderr } = await cli(['trace', prefix, ...target()]);
  assert.match(stderr, new RegExp(`^trace ${TRACE} `), 'the tree is headed by the whole id');
  const simulated = await cli(['simulate', `${prefix}f`, '--json', ...target()]);
  assert.equal(JSON.parse(simulated.stdout).trace_id, TRACE);
});

test('a trace id prefix shorter than 8 characters is a usage error (exit 2) that says so, before any request', { timeout: 60_000 }, async () => {
  for (const command of ['trace', 'simulate']) {
    await assert.rejects(cli([command, 'feedfee', ...target()]), (err: { code?: number; stderr?: string }) => {
      assert.equal(err.code, 2, command);
      assert.match(String(err.stderr), /the trace id "feedfee" has 7 characters: give at least 8 \(the dashboard shows the first 8\) or the whole 32/, command);
      return true;
    });
  }
});

// Last: the second trace makes the prefix the tests above use ambiguous.
test('a prefix that starts several traces exits 1 naming them and asking for more characters', { timeout: 60_000 }, async () => {
  const other = `${TRACE.slice(0, 8)}${'a'.repeat(24)}`;
  const spans = [{ ...span(1, null, 'Other.run'), trace_id: other, span_id: 'a'.repeat(32) }];
  const body = sealEnvelope(encodeBatch({ type: 'trace', project_slug: vectors.slug, batch_id: newBatchId(), spans }, 'json'), loadPublicKey(vectors.public_key_pem));
  const res = await request(`${collector.url}/api/v1/traces`, { method: 'POST', body, headers: { 'x-project-slug': vectors.slug } });
  assert.equal(res.statusCode, 202);
  await res.body.dump();
  for (const command of ['trace', 'simulate']) {
    await assert.rejects(cli([command, TRACE.slice(0, 8), ...target()]), (err: { code?: number; stderr?: string }) => {
      assert.equal(err.code, 1, command);
      const stderr = String(err.stderr);
      assert.match(stderr, /trace id prefix feedfeed is ambiguous: it starts 2 traces/, command);
      assert.ok(stderr.includes(TRACE) && stderr.includes(other), `${command} names both ids: ${stderr}`);
      assert.match(stderr, /give more characters of the trace id/, command);
      return true;
    });
  }
  const { stdout } = await cli(['trace', TRACE.slice(0, 9), '--json', ...target()]);
  assert.equal(JSON.parse(stdout).trace_id, TRACE, 'one more character tells them apart');
});
