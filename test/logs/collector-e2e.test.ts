/**
 * The agent's logs in a real collector, end to end: an app (a child process) logs inside a span,
 * logs the same error thrown from one place for three orders whose ids, uuids and times differ,
 * and once from another place, then crashes at top level. The collector then answers: the
 * info log is in the span's trace, the three errors are one issue counting 3, the other call
 * site another counting 1, and the crash's fatal log is stored with its stack.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { runFixture } from '../helpers/child';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import type { CollectorProcess } from '../helpers/collector';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const vectors = envelopeVectors();
let dataDir: string;
let collector: CollectorProcess;
let traceId: string;
let exitCode: number | null;
let stderr: string;

before(async () => {
  dataDir = vectorDataDir();
  collector = await startCollectorProcess(dataDir);
  const run = await runFixture('logging-app', { CRASH: '1', TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: collector.url, TERACRON_SERVICE: 'billing' });
  exitCode = run.code;
  stderr = run.stderr;
  traceId = run.lines[0]!.traceId as string;
});

after(async () => {
  await collector?.stop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

test('the app crashed as it would without the agent', () => {
  assert.equal(exitCode, 1);
  assert.match(stderr, /ChargeFailed: order 55 could not be settled/);
});

test('the log written inside the span is in that trace', async () => {
  const { status, body } = await query(collector.url, `/api/v1/logs?trace_id=${traceId}`);
  assert.equal(status, 200);
  assert.deepEqual(body.logs.map((l: { message: string; module: string; service: string; extra: unknown }) => [l.message, l.module, l.service, l.extra]), [
    ['checkout started', 'checkout', 'billing', { cart: 'c-1', items: 3 }],
  ]);
});

test('the same error from one place with different ids is one issue counting 3; another call site is another issue', async (t) => {
  const { body } = await query(collector.url, '/api/v1/issues?sort=count');
  const charges = body.issues.filter((issue: { type: string; message: string }) => issue.type === 'ChargeFailed' && !issue.message.includes('settled'));
  t.diagnostic(`issues: ${charges.map((i: { count: number; frames: string[] }) => `${i.count} × ${i.frames[0]}`).join('; ')}`);
  assert.deepEqual(charges.map((i: { count: number }) => i.count), [3, 1]);
  const [same, other] = charges;
  assert.equal(same.message, 'charge for order <num> failed (attempt <uuid> at <timestamp>)');
  assert.match(same.frames[0], /^chargeOrder \(dist\/test\/fixtures\/logging-app\.js:\d+\)$/);
  assert.match(other.frames[0], /^refundOrder \(dist\/test\/fixtures\/logging-app\.js:\d+\)$/);
  assert.deepEqual(same.services, ['billing']);
  const detail = await query(collector.url, `/api/v1/issues/${same.fingerprint}`);
  assert.equal(detail.status, 200);
  assert.deepEqual(detail.body.occurrences.map((o: { message: string }) => o.message).sort(), [
    'charge for order 123 failed (attempt 2c5ea4c0-4067-11e9-8bad-9b1deb4d3b7d at 2026-12-06T10:00:00Z)',
    'charge for order 456 failed (attempt 6fa459ea-ee8a-3ca4-894e-db77e160355e at 2026-12-06T10:05:31Z)',
    'charge for order 789 failed (attempt 16fd2706-8baf-433b-82eb-8c7fada847da at 2026-12-06T11:42:07.123Z)',
  ]);
});

test('the crash is stored as a fatal log with its stack, and counted in its own issue', async () => {
  const { body } = await query(collector.url, '/api/v1/logs?level=fatal');
  assert.equal(body.logs.length, 1);
  const [fatal] = body.logs;
  assert.equal(fatal.module, 'process');
  assert.equal(fatal.error_type, 'ChargeFailed');
  assert.equal(fatal.error_message, 'order 55 could not be settled');
  assert.deepEqual(fatal.extra, { origin: 'uncaughtException' });
  assert.match(fatal.stack, /^ChargeFailed: order 55 could not be settled\n {4}at Object\.<anonymous> \(dist\/test\/fixtures\/logging-app\.js:\d+:\d+\)/);
  assert.match(fatal.fingerprint, /^[0-9a-f]{64}$/);
  const issue = await query(collector.url, `/api/v1/issues/${fatal.fingerprint}`);
  assert.equal(issue.body.issue.count, 1);
});
