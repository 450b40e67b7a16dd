/**
 * A worker thread that dies (made to by TERACRON_TEST_WORKER_CRASH, see src/worker/test-crash.ts)
 * is replaced: what was recorded after its death arrives with the right names, the restart is
 * counted, a worker that keeps dying is given up on with everything counted, and no exit waits
 * for a worker that is not there.
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

function line<T>(result: ChildResult, key: string): T {
  const found = result.lines.find((l) => key in l);
  assert.ok(found, `no ${key} line; stdout: ${result.stdout}; stderr: ${result.stderr}`);
  return found as T;
}

test('a worker that dies is replaced, and spans recorded after its death arrive with the names interned before it', async () => {
  const result = await run(1);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(line<{ flushed: string }>(result, 'flushed').flushed, 'ok');
  const byIndex = new Map(receiver.spans.map((span) => [span.metadata.i as number, span]));
  assert.equal(byIndex.size, 2 * SPANS, 'every span arrived once');
  for (let i = 0; i < 2 * SPANS; i++) {
    const span = byIndex.get(i)!;
    assert.equal(span.workflow, 'restart');
    assert.equal(span.operation, `step-${i % 3}`);
    assert.deepEqual(span.metadata, { i, phase: i < SPANS ? 'before' : 'after' });
  }
  const { stats } = line<{ stats: Record<string, unknown> }>(result, 'stats');
  assert.equal(stats.workerRestarts, 1);
  assert.equal(stats.sent, 2 * SPANS);
  assert.equal(stats.droppedSendFailed, 0);
  assert.equal(stats.pending, 0);
  assert.match(result.stderr, /the telemetry worker stopped: .*worker 1 crashed on purpose.*; a new one takes over/);
});

test('a worker that keeps dying is given up on after a few restarts: the process ends promptly and every span is counted', async () => {
  const result = await run(99);
  assert.equal(result.code, 0, result.stderr);
  const flushed = line<{ flushed: string; at: number }>(result, 'flushed');
  assert.equal(flushed.flushed, 'ok', 'flush() resolves once what it waited for is counted as lost');
  const lingered = result.exitedAt - flushed.at;
  assert.ok(lingered < EXIT_BUDGET_MS / 2, `exited ${lingered} ms after its last flush: the exit waited for a worker that was not there`);
  const { stats } = line<{ stats: Record<string, unknown> }>(result, 'stats');
  assert.equal(stats.workerRestarts, 5);
  assert.equal(stats.sent, SPANS, 'the first lot was shipped before the first death');
  assert.equal(stats.droppedSendFailed, SPANS, 'the second lot is counted as lost');
  assert.equal(stats.pending, 0);
  assert.match(result.stderr, /gave up on the telemetry worker after 5 restarts/);
  assert.equal(receiver.spans.length, SPANS);
});

test('a worker that dies while the process exits does not make the exit wait out its budget', async () => {
  const result = await run(1, { END: 'exit' });
  assert.equal(result.code, 0, result.stderr);
  const recorded = result.lines.filter((l) => 'recorded' in l).at(-1) as { at: number };
  const lingered = result.exitedAt - recorded.at;
  assert.ok(lingered < EXIT_BUDGET_MS / 2, `exited ${lingered} ms after recording: the exit waited for a dead worker`);
  const { stats } = line<{ stats: Record<string, unknown> }>(result, 'stats');
  assert.equal(stats.sent, SPANS);
  assert.equal(stats.pending, SPANS, 'the second lot, never taken from the ring, is still pending at exit');
});
