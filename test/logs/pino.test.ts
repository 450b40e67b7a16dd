/**
 * `teracron/pino` with the real pino: the transport runs in pino's worker thread, ships what the
 * app logs with exact values, joins lines to spans through pinoMixin, and finishes at exit
 * (process.exit or a natural end) within its budget, without a second agent in that thread.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { down, up, withSpan } from '../../src/index';
import { pinoMixin } from '../../src/logs/pino/index';
import { DEFAULT_PINO_LINE_CONFIG, parsePinoLine } from '../../src/logs/pino/pino-line';
import { MAX_IN_FLIGHT, MAX_QUEUED_LOGS, closeShipper, createDirectShipper, flushShipper, shipLog, shipperCounts } from '../../src/logs/direct-shipper';
import { resolveConfig } from '../../src/config/resolve';
import { appPaths } from '../../src/worker/log-records';
import type { WireLog } from '../../src/wire/batch-codec';
import { loadPrivateKey } from '../../src/wire/envelope';
import { exitBudgetEnv, fixturePath, runCommand, runNode } from '../helpers/child';
import type { NodeResult } from '../helpers/child';
import { startReceiver } from '../helpers/receiver';
import type { Receiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';
import { repoRoot } from '../../support/repo-root';
import { waitFor } from '../helpers/wait';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(180_000);

const vectors = envelopeVectors();
const PINO_UA = / teracron\/pino$/;
let receiver: Receiver;

before(async () => {
  receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
});
after(() => receiver.close());

interface AppRun {
  run: NodeResult;
  out: { ids: { traceId: string | null; spanId: string | null }; stats: Record<string, unknown> | null };
  logs: WireLog[];
  startedAt: number;
}

/** Runs test/fixtures/pino-app under its own service name, so its logs are told apart. */
async function runPinoApp(env: Record<string, string>, flags: string[] = []): Promise<AppRun> {
  const before = receiver.requests.length;
  const startedAt = Date.now();
  const run = await runNode([...flags, fixturePath('pino-app')], { TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: receiver.url, ...exitBudgetEnv, ...env });
  assert.equal(run.code, 0, run.stderr);
  const requests = receiver.requests.slice(before);
  const logs = requests.filter((r) => r.path === '/api/v1/logs').flatMap((r) => (r.batch?.type === 'log' ? r.batch.logs : []));
  return { run, out: JSON.parse(run.stdout.trim()) as AppRun['out'], logs, startedAt };
}

const NO_ERROR = { error_type: null, error_message: null, stack: null };

function assertAppLogs({ logs, out, startedAt, run }: AppRun, traced: boolean): void {
  const trace = traced ? { trace_id: out.ids.traceId, span_id: out.ids.spanId } : { trace_id: null, span_id: null };
  const none = { trace_id: null, span_id: null };
  for (const log of logs) assert.ok(log.timestamp >= startedAt - 50 && log.timestamp <= run.exitedAt + 50, `timestamp ${log.timestamp} outside the run`);
  const [billing, fatal] = [logs[4]!, logs[5]!];
  assert.deepEqual(
    logs.map((log) => ({ ...log, timestamp: 0 })),
    [
      { timestamp: 0, level: 'info', message: 'service started', module: null, ...none, extra: {}, ...NO_ERROR },
      { timestamp: 0, level: 'debug', message: 'cache ready', module: null, ...none, extra: { cache: 'warm' }, ...NO_ERROR },
      { timestamp: 0, level: 'info', message: 'order placed', module: 'orders', ...trace, extra: { order: 7, total: 9.5, gift: false, tags: '["a","b"]' }, ...NO_ERROR },
      { timestamp: 0, level: 'warn', message: 'stock low', module: 'orders', ...trace, extra: {}, ...NO_ERROR },
      {
        timestamp: 0, level: 'error', message: 'payment failed', module: 'billing', ...none, extra: { 'err.code': 'E_DECLINED' },
        error_type: 'PaymentDeclined', error_message: 'card for order 7 declined', stack: billing.stack,
      },
      { timestamp: 0, level: 'fatal', message: 'disk full', module: null, ...none, extra: {}, error_type: 'Error', error_message: 'disk full', stack: fatal.stack },
      { timestamp: 0, level: 'info', message: 'last words', module: 'orders', ...none, extra: {}, ...NO_ERROR },
    ],
  );
  assert.match(billing.stack!, /^Error: card for order 7 declined\n {4}at .*\(dist\/test\/fixtures\/pino-app\.js:\d+:\d+\)/);
  assert.match(fatal.stack!, /^Error: disk full\n {4}at .*dist\/test\/fixtures\/pino-app\.js:\d+:\d+/);
  assert.equal(billing.stack!.includes(process.cwd()), false, 'stack paths are relative to the working directory');
}

/** Only /api/v1/logs requests come from the transport, with its service and the app's pid; one agent started. */
function assertOneAgent(before: number, run: NodeResult, appLogs: number): void {
  const requests = receiver.requests.slice(before);
  const fromPino = requests.filter((r) => PINO_UA.test(String(r.headers['user-agent'])));
  assert.deepEqual([...new Set(fromPino.map((r) => r.path))], ['/api/v1/logs']);
  assert.equal(fromPino.reduce((n, r) => n + (r.batch?.type === 'log' ? r.batch.logs.length : 0), 0), appLogs);
  for (const r of fromPino) assert.equal(r.batch?.resource?.service, 'pino-orders');
  assert.equal(requests.filter((r) => r.path === '/api/v1/logs' && !PINO_UA.test(String(r.headers['user-agent']))).length, 0, 'the agent recorded none of pino\'s logs');
  assert.equal(run.stderr.match(/\[teracron\] worker started/g)?.length, 1, `one agent in the process:\n${run.stderr}`);
}

test('require("teracron/pino") resolves to the compiled entry and loads neither pino nor the shipping half; import shares it', async () => {
  const script = `const entry = require('teracron/pino');
    const loaded = Object.keys(require.cache).filter((f) => /node_modules[\\\\/](pino|undici)[\\\\/]|pino-stream|direct-shipper/.test(f));
    import('teracron/pino').then((esm) => console.log(JSON.stringify({
      resolved: require.resolve('teracron/pino'), exports: Object.keys(entry).sort(), loaded,
      shared: esm.pinoMixin === entry.pinoMixin && esm.default === entry.default,
    })));`;
  const run = await runCommand(process.execPath, ['-e', script], { env: { PATH: process.env.PATH }, cwd: repoRoot() });
  assert.equal(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { resolved: string; exports: string[]; loaded: string[]; shared: boolean };
  assert.equal(out.resolved, `${repoRoot()}/dist/src/logs/pino/index.js`);
  assert.deepEqual(out.exports, ['default', 'pinoMixin']);
  assert.deepEqual(out.loaded, []);
  assert.equal(out.shared, true);
});

test('pinoMixin gives the current span\'s ids as hex, a new object each call, and {} outside a trace', async () => {
  up({ apiKey: vectors.api_key, domain: receiver.url, metricsEnabled: false });
  try {
    assert.deepEqual(pinoMixin(), {});
    withSpan('orders', { operation: 'place' }, (span) => {
      const first = pinoMixin();
      assert.deepEqual(first, { trace_id: span.traceId, span_id: span.spanId });
      assert.match(first.trace_id!, /^[0-9a-f]{32}$/);
      assert.notEqual(pinoMixin(), first, 'pino merges into what the mixin returns');
    });
  } finally {
    await down();
  }
});

test('a pino line maps to a wire log: levels, time, module or name, error, ids, and extra within the wire limits', () => {
  const paths = appPaths('/srv/app');
  const parse = (record: Record<string, unknown>) => parsePinoLine(JSON.stringify(record), DEFAULT_PINO_LINE_CONFIG, paths)!;
  assert.deepEqual([10, 20, 25, 30, 35, 40, 50, 60, 70].map((level) => parse({ level }).log.level), ['debug', 'debug', 'debug', 'info', 'info', 'warn', 'error', 'fatal', 'fatal']);
  assert.equal(parsePinoLine('{"level":35}', { ...DEFAULT_PINO_LINE_CONFIG, labels: { 35: 'warn' } }, paths)!.log.level, 'warn');
  assert.deepEqual(['trace', 'WARN', 'odd'].map((level) => parse({ level }).log.level), ['debug', 'warn', 'info']);
  assert.equal(parse({ time: '2024-05-01T10:00:00.250Z' }).log.timestamp, Date.parse('2024-05-01T10:00:00.250Z'));
  assert.deepEqual([parse({ name: 'app' }).log.module, parse({ name: 'app', module: 'db' }).log.module, parse({ name: 'app', module: 'db' }).log.extra], ['app', 'db', { name: 'app' }]);

  const line = parse({
    level: 50, time: 1, pid: 42, hostname: 'web-1', v: 1, msg: 'failed',
    err: { type: 'AggregateError', message: 'two failed', stack: 'AggregateError: two failed\n    at /srv/app/src/a.js:1:1', aggregateErrors: [{ stack: 'TypeError: x\n    at file:///srv/app/b.mjs:2:2' }], errno: -2 },
    trace_id: 'AB'.repeat(16), span_id: 'not-an-id', nested: { a: { b: 1 } }, big: 'x'.repeat(2000), [`k${'y'.repeat(200)}`]: true, bad: null,
  });
  assert.deepEqual([line.pid, line.host], [42, 'web-1']);
  assert.deepEqual({ ...line.log, extra: {} }, {
    timestamp: 1, level: 'error', message: 'failed', module: null, trace_id: 'ab'.repeat(16), span_id: null, extra: {},
    error_type: 'AggregateError', error_message: 'two failed', stack: 'AggregateError: two failed\n    at src/a.js:1:1\n[errors[0] of 1] TypeError: x\n    at b.mjs:2:2',
  });
  assert.deepEqual(line.log.extra, {
    'err.errno': -2, span_id: 'not-an-id', nested: '{"a":{"b":1}}', big: 'x'.repeat(1024), [`k${'y'.repeat(127)}`]: true, bad: 'null',
  });

  const many = parse(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`key${i}`, i])));
  assert.equal(Object.keys(many.log.extra).length, 32);
  assert.deepEqual(parse({ error: 'just a string' }).log, { ...parse({ error: 'just a string' }).log, error_type: 'string', error_message: 'just a string', stack: null });
  assert.deepEqual(parse({ __proto__x: 1, ['__proto__']: 2 } as Record<string, unknown>).log.extra, JSON.parse('{"__proto__x":1,"__proto__":2}'));
  assert.equal(parsePinoLine('not json', DEFAULT_PINO_LINE_CONFIG, paths), null);
  assert.equal(parsePinoLine('[1,2]', DEFAULT_PINO_LINE_CONFIG, paths), null);
});

for (const exit of ['process-exit', 'natural'] as const) {
  test(`with up() and an exit right after logging (${exit}): every line arrives with exact values, joined to the span, and the agent counts none of them`, async () => {
    const before = receiver.requests.length;
    const app = await runPinoApp({ AGENT: 'up', EXIT: exit, TERACRON_DEBUG: '1' });
    assertAppLogs(app, true);
    assertOneAgent(before, app.run, 7);
    const span = receiver.spans.find((s) => s.span_id === app.out.ids.spanId);
    assert.equal(span?.trace_id, app.out.ids.traceId, 'the span the logs point at reached the collector');
    // After logger.flush() the transport had delivered five logs; the agent's stats hold its one span.
    assert.deepEqual([app.out.stats?.['produced'], app.out.stats?.['sent'], app.out.stats?.['pending']], [1, 1, 0]);
    const fromPino = receiver.requests.slice(before).filter((r) => PINO_UA.test(String(r.headers['user-agent'])));
    assert.deepEqual(fromPino.map((r) => r.batch?.resource?.pid), fromPino.map(() => fromPino[0]!.batch?.resource?.pid));
  });
}

test('under node -r teracron/auto the preload runs in pino\'s thread too and starts no agent there', async () => {
  const before = receiver.requests.length;
  const app = await runPinoApp({ EXIT: 'process-exit', TERACRON_DEBUG: '1' }, ['-r', 'teracron/auto', '-r', fixturePath('pino-preload-probe')]);
  assert.match(app.run.stderr, /^probe: preloaded in pino's transport thread \d+, teracron\/auto loaded: true$/m);
  assert.equal(app.run.stderr.match(/^probe: /gm)?.length, 1);
  assertAppLogs(app, true);
  assertOneAgent(before, app.run, 7);
  assert.deepEqual([app.out.stats?.['produced'], app.out.stats?.['sent']], [1, 1]);
});

test('without an agent the transport ships alone; lines carry no trace', async () => {
  const app = await runPinoApp({ EXIT: 'natural' });
  assert.deepEqual(app.out, { ids: { traceId: null, spanId: null }, stats: null });
  assertAppLogs(app, false);
  assert.equal(app.run.stderr, '');
});

test('pino\'s messageKey, errorKey and custom levels are followed; text that is not a JSON line is counted and said once', async () => {
  const before = receiver.requests.length;
  const run = await runNode([fixturePath('pino-lines')], { TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: receiver.url, ...exitBudgetEnv });
  assert.equal(run.code, 0, run.stderr);
  const logs = receiver.requests.slice(before).flatMap((r) => (r.batch?.type === 'log' ? r.batch.logs : []));
  assert.deepEqual(logs.map((l) => [l.level, l.message, l.module, l.extra, l.error_type, l.error_message]), [
    ['info', 'custom keys', null, { order: 9 }, null, null],
    ['info', 'refund approved', null, {}, null, null],
    ['error', 'refund failed', null, {}, 'TypeError', 'amount must be positive'],
    ['warn', 'split across writes', 'raw', {}, null, null],
  ]);
  assert.equal(logs[3]!.timestamp, 1_700_000_000_000);
  assert.equal(receiver.requests.slice(before).every((r) => r.batch?.resource?.pid === receiver.requests[before]!.batch?.resource?.pid), true);
  assert.equal(run.stderr, '[teracron] teracron/pino could not deliver 1 log (last reason: dropped 1 log that is not a JSON object (a line of 15 characters)). Later losses are counted and their total said when the stream ends; TERACRON_DEBUG=1 says each.\n');
});

test('with the collector unreachable the app still exits at once, and the lost logs are said on stderr', async () => {
  const startedAt = Date.now();
  const run = await runNode([fixturePath('pino-app')], { TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: 'http://127.0.0.1:9', EXIT: 'process-exit', ...exitBudgetEnv });
  assert.equal(run.code, 0, run.stderr);
  // Normal retries of the flushed batch (under 4 s), then the exit gives up at once on a refusing endpoint.
  assert.ok(run.exitedAt - startedAt < 12_000, `ended ${run.exitedAt - startedAt} ms after it started`);
  assert.match(run.stderr, /^\[teracron\] teracron\/pino could not deliver 5 logs \(last reason: \/api\/v1\/logs could not be reached: ECONNREFUSED/);
  assert.match(run.stderr, /\n\[teracron\] teracron\/pino: 7 logs in all were not delivered/);
  assert.equal(run.stderr.trim().split('\n').length, 2);
});

test('a collector slower than the exit budget holds the exit no longer than the budget, and what it cut off is counted', async () => {
  const slow = await startReceiver(loadPrivateKey(vectors.private_key_pem), () => ({ status: 202, delayMs: 30_000 }));
  try {
    let flushedAt = 0;
    const run = await runNode([fixturePath('pino-lines')], { TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: slow.url, TERACRON_EXIT_TIMEOUT_MS: '1000' }, 30_000, (child) => {
      child.on('spawn', () => (flushedAt = Date.now()));
    });
    assert.equal(run.code, 0, run.stderr);
    // Well below thread-stream's 10 s, past which pino would destroy the stream.
    assert.ok(run.exitedAt - flushedAt < 6_000, `ended ${run.exitedAt - flushedAt} ms after it started`);
    assert.equal(slow.logs.length, 4, 'sent, and stored on arrival, but not answered in time');
    assert.equal(
      run.stderr.split('\n')[1],
      `[teracron] teracron/pino: 5 logs in all were not delivered (last reason: 4 logs were still unanswered by ${slow.url} when the exit budget of 1000 ms ran out).`,
    );
  } finally {
    await slow.close();
  }
});

test('against a collector that does not keep up, the shipper holds at most MAX_IN_FLIGHT batches and MAX_QUEUED_LOGS logs, and counts the rest as dropped', async () => {
  const slow = await startReceiver(loadPrivateKey(vectors.private_key_pem), () => ({ status: 202, delayMs: 20 }));
  const shipper = createDirectShipper({ config: resolveConfig({ apiKey: vectors.api_key, domain: slow.url, spool: false }), name: 'teracron/pino (test of its bounds)' });
  try {
    const total = 20_000;
    for (let i = 0; i < total; i++) {
      shipLog(shipper, { timestamp: i, level: 'info', message: `log ${i}`, module: null, trace_id: null, span_id: null, extra: {}, error_type: null, error_message: null, stack: null }, null, null);
    }
    const sending = MAX_IN_FLIGHT * 100;
    assert.equal(shipper.queuedLogs, MAX_QUEUED_LOGS);
    await flushShipper(shipper);
    assert.deepEqual(shipperCounts(shipper), { sent: sending + MAX_QUEUED_LOGS, spooled: 0, dropped: total - sending - MAX_QUEUED_LOGS });
    assert.equal(slow.logs.length, sending + MAX_QUEUED_LOGS);
    assert.deepEqual(slow.logs.slice(0, 3).map((log) => log.message), ['log 0', 'log 1', 'log 2']);
  } finally {
    await closeShipper(shipper);
    await slow.close();
  }
});

test('with a spool directory, what the transport cannot deliver is spooled, not lost, and the agent sends it later', async () => {
  const spoolDir = mkdtempSync(join(tmpdir(), 'teracron-pino-spool-'));
  try {
    const run = await runNode([fixturePath('pino-app')], { TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: 'http://127.0.0.1:9', EXIT: 'process-exit', TERACRON_SPOOL: '1', TERACRON_SPOOL_DIR: spoolDir, ...exitBudgetEnv });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '', 'spooled logs are not lost ones');
    const files = readdirSync(spoolDir).filter((name) => name.endsWith('.tsp'));
    assert.equal(files.reduce((n, name) => n + Number(/-log-(\d+)\.tsp$/.exec(name)?.[1]), 0), 7, files.join(', '));

    const before = receiver.logs.length;
    up({ apiKey: vectors.api_key, domain: receiver.url, spool: true, spoolDir, metricsEnabled: false });
    try {
      await waitFor('the 7 spooled logs at the receiver', () => receiver.logs.length - before === 7);
    } finally {
      await down();
    }
    assert.deepEqual(receiver.logs.slice(before).map((log) => log.message), ['service started', 'cache ready', 'order placed', 'stock low', 'payment failed', 'disk full', 'last words']);
  } finally {
    rmSync(spoolDir, { recursive: true, force: true });
  }
});
