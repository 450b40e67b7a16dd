/**
 * `teracron/auto` in real child processes: `node -r teracron/auto` and `node --import
 * teracron/auto` start the agent from the environment and trace the app's requests with no
 * agent code in it (test/fixtures/auto-app.ts); without a key the app runs untouched.
 */
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, test } from 'node:test';
import type { WireSpan } from '../../src/wire/batch-codec';
import { loadPrivateKey } from '../../src/wire/envelope';
import { baseChildEnv, exitBudgetEnv, fixturePath, runCommand } from '../helpers/child';
import type { NodeResult } from '../helpers/child';
import { reply, serve } from '../helpers/http';
import type { TestServer } from '../helpers/http';
import { startReceiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';
import { repoRoot } from '../../support/repo-root';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const vectors = envelopeVectors();
const received: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
let downstream: TestServer;
let plain: NodeResult;

function runApp(flags: string[], env: Record<string, string>, fixture = 'auto-app', timeoutMs = 30_000): Promise<NodeResult> {
  return runCommand(process.execPath, [...flags, fixturePath(fixture)], {
    env: { ...baseChildEnv(), DOWNSTREAM_URL: downstream.url, ...env },
    cwd: repoRoot(),
    timeoutMs,
  });
}

before(async () => {
  downstream = await serve((req, res) => {
    received.push({ path: req.url!, headers: req.headers });
    reply(res, 200, { in_stock: true });
  });
  plain = await runApp([], {});
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^GET \/orders\/7\?expand=lines 200 .*\nGET \/orders\/8 200 .*\nGET \/nope 404 \nGET \/wp-login\.php 404 \nGET \/\.env\?x=1 404 \nclosed\n$/);
});

after(() => downstream.close());

const PRELOADS: Array<[string, string[]]> = [
  ['node -r teracron/auto', ['-r', 'teracron/auto']],
  ['node --import teracron/auto', ['--import', 'teracron/auto']],
  ['both flags at once', ['-r', 'teracron/auto', '--import', 'teracron/auto']],
];

for (const [label, flags] of PRELOADS) {
  test(`${label}: each request is a span with the handler's spans and calls below it, and the calls carry both headers`, async () => {
    received.length = 0;
    const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
    let run: NodeResult;
    try {
      run = await runApp(flags, { TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: receiver.url, ...exitBudgetEnv, TERACRON_HTTP_WORKFLOW: 'orders-api' });
    } finally {
      await receiver.close();
    }
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.equal(run.stdout, plain.stdout, 'the app\'s output is its own');
    const spans = receiver.spans;
    const roots = spans.filter((span) => span.parent_span_id === null && span.metadata['http.status_code'] === 200);
    assert.deepEqual(roots.map((span) => [span.workflow, span.operation, span.metadata['http.path'], span.metadata['http.status_code']]).sort(), [
      ['orders-api', 'GET /orders/:id', '/orders/7', 200],
      ['orders-api', 'GET /orders/:id', '/orders/8', 200],
    ]);
    // The probes the app does not serve share one operation; their paths stay in http.path.
    const probes = spans.filter((span) => span.metadata['http.status_code'] === 404);
    assert.deepEqual(probes.map((span) => [span.operation, span.metadata['http.path'], span.parent_span_id, span.metadata['http.route'] ?? null]).sort(), [
      ['GET <unmatched>', '/.env', null, null],
      ['GET <unmatched>', '/nope', null, null],
      ['GET <unmatched>', '/wp-login.php', null, null],
    ]);
    for (const root of roots) {
      const id = String(root.metadata['http.path']).split('/')[2];
      const children = spans.filter((span) => span.parent_span_id === root.span_id);
      assert.deepEqual(children.map((span) => [span.workflow, span.operation, span.metadata['http.url'] ?? null]).sort(), [
        ['orders', 'db.load', null],
        ['orders-api', `GET 127.0.0.1:${downstream.port}`, `${downstream.url}/price/${id}`],
        ['orders-api', `GET 127.0.0.1:${downstream.port}`, `${downstream.url}/stock/${id}`],
      ]);
      for (const client of children.filter((span) => span.operation.startsWith('GET '))) {
        const path = String(client.metadata['http.url']).slice(downstream.url.length);
        const call = received.find((entry) => entry.path.startsWith(`${path}?`))!;
        assert.equal(call.headers['x-teracron-trace'], `${client.trace_id}:${client.span_id}`, path);
        assert.equal(call.headers.traceparent, `00-${client.trace_id}-${client.span_id.slice(16)}-01`, path);
      }
    }
    // The app's calls to itself were outside any trace, and the agent's deliveries are no spans.
    assert.equal(spans.length, 11, JSON.stringify(spans.map((span: WireSpan) => span.operation)));
  });
}

for (const [label, flags] of [PRELOADS[0]!, PRELOADS[2]!]) {
  test(`${label} without a key: one warning line on stderr, and the app runs untouched`, async () => {
    received.length = 0;
    const run = await runApp(flags, {});
    assert.equal(run.code, 0);
    assert.equal(run.stdout, plain.stdout);
    assert.match(run.stderr, /^\[teracron\] teracron\/auto is off, the app runs without it: TERACRON_API_KEY is not set\. Set it to your project's key .*\n$/);
    assert.equal(received.length, 4);
    for (const { headers } of received) {
      assert.equal(headers['x-teracron-trace'], undefined);
      assert.equal(headers.traceparent, undefined);
    }
  });
}

test('a malformed key: the warning says what is wrong with it, and the app runs untouched', async () => {
  const run = await runApp(['-r', 'teracron/auto'], { TERACRON_API_KEY: 'tcn_not-a-key' });
  assert.equal(run.code, 0);
  assert.equal(run.stdout, plain.stdout);
  assert.match(run.stderr, /^\[teracron\] teracron\/auto is off, the app runs without it: The API key from TERACRON_API_KEY \("tcn_not-…"\) cannot be used\. [^\n]*\n$/);
});

test('TERACRON_TRACE_SAMPLE_RATE=0: nothing is recorded, and the calls still carry the trace with flag 00', async () => {
  received.length = 0;
  const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  let run: NodeResult;
  try {
    run = await runApp(['-r', 'teracron/auto'], { TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: receiver.url, TERACRON_TRACE_SAMPLE_RATE: '0' });
  } finally {
    await receiver.close();
  }
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, plain.stdout);
  assert.deepEqual(receiver.spans, []);
  assert.equal(received.length, 4);
  const traces = new Set<string>();
  for (const { path, headers } of received) {
    const trace = headers['x-teracron-trace'] as string;
    assert.match(trace, /^[0-9a-f]{32}$/, path);
    assert.match(headers.traceparent as string, new RegExp(`^00-${trace}-(?!0{16})[0-9a-f]{16}-00$`), path);
    traces.add(trace);
  }
  assert.equal(traces.size, 2, 'one trace per incoming request, shared by its two calls');
});

test('a server under the preload that got no request ends by itself after close(), not at the agent\'s next tick', async () => {
  // The agent's timers are unref'd, so the process ends once the server is closed and the exit
  // flush is done. A timer that held it would hold it until the next metrics or trace tick:
  // a minute away here, far beyond any exit flush however loaded the machine.
  const tickS = 60;
  const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  let run: NodeResult;
  try {
    const env = { TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: receiver.url, TERACRON_INTERVAL: String(tickS), TERACRON_TRACE_FLUSH_INTERVAL: String(tickS) };
    run = await runApp(['-r', 'teracron/auto'], env, 'auto-idle', 2 * tickS * 1000);
  } finally {
    await receiver.close();
  }
  assert.equal(run.code, 0, run.stderr);
  const closingAt = Number(/^closing (\d+)$/m.exec(run.stdout)?.[1]);
  assert.ok(closingAt > 0, run.stdout);
  const after = run.exitedAt - closingAt;
  assert.ok(after < (tickS * 1000) / 2, `exited ${after} ms after close(): something held the process until the agent's next tick`);
});
