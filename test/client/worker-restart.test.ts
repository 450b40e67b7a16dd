/**
 * A worker thread that dies (made to by TERACRON_TEST_WORKER_CRASH, see src/worker/test-crash.ts)
 * is replaced: what was recorded after its death arrives with the right names, what it held is
 * counted, the restart is counted, a worker that keeps dying is given up on with everything
 * counted, and no exit waits for a worker that is not there.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadPrivateKey } from '../../src/wire/envelope';
import { EXIT_BUDGET_MS, exitBudgetEnv, runFixture } from '../helpers/child';
import type { ChildResult } from '../helpers/child';
import { startReceiver } from '../helpers/receiver';
import type { Receiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(180_000);

const SPANS = 100;
const vectors = envelopeVectors();
let receiver: Receiver;

before(async () => {
  receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
});
after(() => receiver.close());

function run(crashes: number, extra: Record<string, string> = {}): Promise<ChildResult> {
  receiver.spans.length = 0;
  const env = { TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: receiver.url, TERACRON_METRICS_ENABLED: '0', ...exitBudgetEnv, SPANS: String(SPANS), TERACRON_TEST_WORKER_CRASH: String(crashes), ...extra };
  return runFixture('worker-restart', env, 3 * EXIT_BUDGET_MS);
}

function last<T>(result: ChildResult, key: string): T {
  const found = result.lines.filter((l) => key in l).at(-1);
  assert.ok(found, `no ${key} line; stdout: ${result.stdout}; stderr: ${result.stderr}`);
  return found as T;
}

function stats(result: ChildResult): Record<string, unknown> {
  return last<{ stats: Record<string, unknown> }>(result, 'stats').stats;
}

/** Every span of these lots arrived once, with the workflow, operation and metadata it was recorded with. */
function assertLotsArrived(lots: number[]): void {
  const byIndex = new Map(receiver.spans.map((span) => [span.metadata.i as number, span]));
  for (const lot of lots) {
    for (let i = lot * SPANS; i < (lot + 1) * SPANS; i++) {
      const span = byIndex.get(i);
      assert.ok(span, `span ${i} of lot ${lot} did not arrive`);
      assert.equal(span.workflow, 'restart');
      assert.equal(span.operation, `step-${i % 3}`);
      assert.deepEqual(span.metadata, { i, lot });
    }
  }
  assert.equal(receiver.spans.filter((span) => lots.includes(span.metadata.lot as number)).length, lots.length * SPANS, 'none arrived twice');
}

test('a worker that dies is replaced, and spans recorded after its death arrive with the names interned before it', async () => {
  const result = await run(1);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.lines.filter((l) => 'flushed' in l).map((l) => l.flushed), ['ok', 'ok']);
  assertLotsArrived([0, 1]);
  const s = stats(result);
  assert.equal(s.workerRestarts, 1);
  assert.equal(s.sent, 2 * SPANS);
  assert.equal(s.droppedSendFailed, 0);
  assert.equal(s.pending, 0);
  assert.match(result.stderr, /^\[teracron\] the telemetry worker stopped: worker 1 crashed on purpose .*; a new one takes over in 100 ms \(restart 1 of at most 5 in a row\)\.$/m);
});

test('what a worker held when it died is counted as dropped, and the next lots arrive', async () => {
  const result = await run(1, { TERACRON_TEST_WORKER_CRASH_AT: 'dispatched', LOTS: '3' });
  assert.equal(result.code, 0, result.stderr);
  assertLotsArrived([0, 2]);
  const s = stats(result);
  assert.equal(s.workerRestarts, 1);
  assert.equal(s.sent, 2 * SPANS);
  // Lot 1 was on its way when the worker died: it may have reached the receiver, but its answer
  // never came back, so it is counted as dropped, never as sent and never twice.
  assert.equal(s.droppedSendFailed, SPANS);
  assert.equal(s.pending, 0);
});

test('a worker that keeps dying is given up on after a few restarts: the process ends promptly and every span is counted', async () => {
  const result = await run(99);
  assert.equal(result.code, 0, result.stderr);
  const flushed = last<{ flushed: string; at: number }>(result, 'flushed');
  assert.equal(flushed.flushed, 'ok', 'flush() resolves once what it waited for is counted as lost');
  const lingered = result.exitedAt - flushed.at;
  assert.ok(lingered < EXIT_BUDGET_MS / 2, `exited ${lingered} ms after its last flush: the exit waited for a worker that was not there`);
  const s = stats(result);
  assert.equal(s.workerRestarts, 5);
  assert.equal(s.sent, SPANS, 'the first lot was shipped before the first death');
  assert.equal(s.droppedSendFailed, SPANS, 'the second lot is counted as lost');
  assert.equal(s.pending, 0);
  assert.match(result.stderr, /gave up on the telemetry worker after 5 restarts in a row/);
  assert.equal(receiver.spans.length, SPANS);
});

test('a worker that dies while the process exits is replaced within the exit budget, and what was left arrives', async () => {
  const result = await run(1, { END: 'exit' });
  assert.equal(result.code, 0, result.stderr);
  const lingered = result.exitedAt - last<{ at: number }>(result, 'recorded').at;
  assert.ok(lingered < EXIT_BUDGET_MS / 2, `exited ${lingered} ms after recording: the exit waited out its budget`);
  assertLotsArrived([0, 1]);
  const s = stats(result);
  assert.equal(s.workerRestarts, 1);
  assert.equal(s.sent, 2 * SPANS);
  assert.equal(s.pending, 0);
  assert.match(result.stderr, /a new one takes over now \(restart 1 of at most 5 in a row\)/);
});

test('workers that keep dying while the process exits do not make the exit wait out its budget', async () => {
  const result = await run(99, { END: 'exit' });
  assert.equal(result.code, 0, result.stderr);
  const lingered = result.exitedAt - last<{ at: number }>(result, 'recorded').at;
  assert.ok(lingered < EXIT_BUDGET_MS / 2, `exited ${lingered} ms after recording: the exit waited for a dead worker`);
  const s = stats(result);
  assert.equal(s.workerRestarts, 5);
  assert.equal(s.sent, SPANS);
  assert.equal(s.droppedSendFailed, SPANS);
  assert.equal(s.pending, 0);
});
