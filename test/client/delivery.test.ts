/**
 * End to end through real child processes: a script records spans with recordSpan and ends on
 * its own or with process.exit(0), never calling down(); a loopback receiver built on src/wire
 * must get every span, with the right values, within the default exit budget (2 s), which is
 * what an application gets. It must hold on a busy machine too: docs/benchmarks.md shows these
 * tests passing while two processes spin on both cores.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadPrivateKey } from '../../src/wire/envelope';
import type { WireSpan } from '../../src/wire/batch-codec';
import { runFixture } from '../helpers/child';
import { startReceiver } from '../helpers/receiver';
import type { Receiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';
import { closedPort } from '../helpers/ports';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const SPANS = 50_000;
/** TERACRON_EXIT_TIMEOUT_MS's default; the environment below leaves it unset. */
const DEFAULT_EXIT_BUDGET_MS = 2_000;
/** Only bounds a failure: a child that hangs is killed after this. */
const CHILD_TIMEOUT_MS = 30_000;
const BASE = 1_721_500_000_000;
const vectors = envelopeVectors();
let receiver: Receiver;

before(async () => {
  receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
});
after(() => receiver.close());

function expectEveryFixtureSpan(spans: WireSpan[]): void {
  assert.equal(spans.length, SPANS);
  const seen = new Set<number>();
  const spanIds = new Set<string>();
  for (const span of spans) {
    const i = span.metadata.i as number;
    assert.equal(seen.has(i), false, `span ${i} arrived twice`);
    seen.add(i);
    spanIds.add(span.span_id);
    assert.match(span.trace_id, /^[0-9a-f]{32}$/);
    assert.match(span.span_id, /^[0-9a-f]{32}$/);
    assert.equal(span.parent_span_id, null);
    assert.equal(span.workflow, 'checkout');
    assert.equal(span.operation, `step-${i % 5}`);
    assert.equal(span.started_at, BASE + i);
    assert.equal(span.duration_ms, i / 4);
    const failed = i % 10 === 0;
    assert.equal(span.status, failed ? 'failed' : 'succeeded');
    assert.equal(span.error_type, failed ? 'CardDeclined' : null);
    assert.equal(span.error_message, failed ? `card ${i} declined` : null);
    assert.deepEqual(span.metadata, { i, even: i % 2 === 0, label: `n${i}` });
    assert.deepEqual(span.captured_params, {});
  }
  assert.equal(seen.size, SPANS);
  assert.equal(spanIds.size, SPANS, 'span ids are unique');
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: receiver.url, SPANS: String(SPANS), ...extra };
}

for (const [label, extra] of [
  ['returns from its main module', { END: 'return' }],
  ['calls process.exit(0) straight after recording', { END: 'exit' }],
  ['returns, with TERACRON_WIRE_FORMAT=json', { END: 'return', TERACRON_WIRE_FORMAT: 'json' }],
  ['exits, with TERACRON_WIRE_FORMAT=json', { END: 'exit', TERACRON_WIRE_FORMAT: 'json' }],
] as const) {
  test(`every one of 50,000 spans arrives with its values when the script ${label}`, async () => {
    const before = receiver.requests.length;
    receiver.spans.length = 0;
    const result = await runFixture('record-spans', env(extra), CHILD_TIMEOUT_MS);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '', 'nothing on stderr');
    expectEveryFixtureSpan(receiver.spans);
    const format = extra.TERACRON_WIRE_FORMAT ?? 'msgpack';
    for (const request of receiver.requests.slice(before)) {
      assert.equal(request.headers['x-project-slug'], vectors.slug);
      assert.equal(request.headers['content-type'], 'application/octet-stream');
      assert.match(String(request.headers['user-agent']), /^teracron-node\/\d+\.\d+\.\d+ node\/20\./);
      assert.equal(request.path, '/api/v1/traces');
      assert.equal(request.plaintext![0] === 0x7b, format === 'json', `plaintext is ${format}`);
      assert.match(String(request.batch!.batch_id), /^[0-9a-f]{32}$/);
    }
    const stats = (result.lines.find((line) => 'stats' in line) as { stats: Record<string, number> }).stats;
    assert.equal(stats.produced, SPANS);
    assert.equal(stats.sent, SPANS);
    assert.equal(stats.droppedRingFull, 0);
    assert.equal(stats.droppedSendFailed, 0);
  });
}

test('with no receiver listening, the script exits in under a second and counts every span as dropped', async () => {
  const port = await closedPort();
  // 20 attempts with backoff would keep a batch busy for minutes; at exit a refused connection
  // is retried twice in all, then the endpoint counts as down and what is left is counted unsent.
  const result = await runFixture('record-spans', env({ TERACRON_DOMAIN: `http://127.0.0.1:${port}`, TERACRON_MAX_SEND_ATTEMPTS: '20', END: 'return' }), CHILD_TIMEOUT_MS);
  assert.equal(result.code, 0);
  const recordedAt = (result.lines.find((line) => 'recordedAt' in line) as { recordedAt: number }).recordedAt;
  const lingered = result.exitedAt - recordedAt;
  assert.ok(lingered < DEFAULT_EXIT_BUDGET_MS / 2, `exited ${lingered} ms after recording: refused connections are spending the ${DEFAULT_EXIT_BUDGET_MS} ms exit budget`);
  const stats = (result.lines.find((line) => 'stats' in line) as { stats: Record<string, unknown> }).stats;
  assert.equal(stats.produced, SPANS);
  assert.equal(stats.sent, 0);
  assert.equal(stats.droppedSendFailed, SPANS);
  assert.equal(stats.pending, 0);
  assert.match(String(stats.lastError), /ECONNREFUSED/);
  // Said once, whichever batch was given up first: after its attempts, or unsent once the endpoint counted as down.
  assert.match(result.stderr, /^\[teracron\] dropped \d+ trace items (after \d+ attempts?|unsent): .*ECONNREFUSED/m);
  assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
});
