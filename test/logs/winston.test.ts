/**
 * `teracron/winston` with the real winston: TeracronTransport records through the app's agent,
 * with winston's levels mapped, every error shape winston hands a transport, and the rest of
 * the info as extra, while what winston prints is the same as without it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import winston from 'winston';
import { down, up } from '../../src/index';
import { TeracronTransport } from '../../src/logs/winston/index';
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

fileTimeout(120_000);

const vectors = envelopeVectors();
let receiver: Receiver;

before(async () => {
  receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
});
after(() => receiver.close());

function logsOf(service: string): WireLog[] {
  return receiver.requests.flatMap((r) => (r.batch?.type === 'log' && r.batch.resource?.service === service ? r.batch.logs : []));
}

function runWinstonApp(service: string, env: Record<string, string>): Promise<NodeResult> {
  return runNode([fixturePath('winston-app')], { TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: receiver.url, TERACRON_SERVICE: service, ...exitBudgetEnv, ...env });
}

/** stdout without its last line (the span's ids, new each run). */
function printed(run: NodeResult): string {
  return run.stdout.slice(0, run.stdout.lastIndexOf('\n', run.stdout.length - 2) + 1);
}

test('winston\'s logs arrive with mapped levels, module, error fields and extra, joined to the span, and the console prints what it printed without the transport', async () => {
  const plain = await runWinstonApp('winston-plain', { AGENT: 'up', TERACRON_LOG_LEVEL: 'debug' });
  const run = await runWinstonApp('winston-app', { AGENT: 'up', TERACRON_LOG_LEVEL: 'debug', WINSTON_TERACRON: '1' });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(printed(run), printed(plain));
  assert.equal(run.stderr, plain.stderr);
  assert.match(printed(plain), /"message":"order placed"/);
  assert.match(plain.stderr, /crit: disk failing/);
  assert.deepEqual(logsOf('winston-plain'), []);

  const ids = JSON.parse(run.stdout.slice(printed(run).length)) as { traceId: string; spanId: string };
  const logs = logsOf('winston-app');
  const stacks = logs.map((log) => log.stack);
  const none = { trace_id: null, span_id: null };
  const noError = { error_type: null, error_message: null, stack: null };
  assert.deepEqual(
    logs.map((log) => ({ ...log, timestamp: 0 })),
    [
      { timestamp: 0, level: 'info', message: 'order placed', module: 'payments', trace_id: ids.traceId, span_id: ids.spanId, extra: { region: 'eu-west', order: 7, total: 9.5, gift: false, items: '[1,2]' }, ...noError },
      { timestamp: 0, level: 'info', message: 'GET /orders 200', module: 'payments', ...none, extra: { region: 'eu-west' }, ...noError },
      { timestamp: 0, level: 'debug', message: 'cache warm', module: 'payments', ...none, extra: { region: 'eu-west' }, ...noError },
      { timestamp: 0, level: 'warn', message: 'stock low', module: 'inventory', ...none, extra: { region: 'eu-west', label: 'payments' }, ...noError },
      { timestamp: 0, level: 'error', message: 'card for order 7 declined', module: 'payments', ...none, extra: { code: 'E_DECLINED', region: 'eu-west' }, error_type: 'PaymentDeclined', error_message: 'card for order 7 declined', stack: stacks[4] },
      { timestamp: 0, level: 'error', message: 'charge failed card for order 8 declined', module: 'payments', ...none, extra: { region: 'eu-west', code: 'E_DECLINED' }, error_type: 'PaymentDeclined', error_message: 'card for order 8 declined', stack: stacks[5] },
      { timestamp: 0, level: 'error', message: 'refund failed', module: 'payments', ...none, extra: { region: 'eu-west' }, error_type: 'TypeError', error_message: 'amount must be positive', stack: stacks[6] },
      { timestamp: 0, level: 'info', message: 'odd failure', module: 'payments', ...none, extra: { region: 'eu-west' }, error_type: 'string', error_message: 'just a string', stack: null },
      { timestamp: 0, level: 'error', message: 'page 9 of 3', module: null, ...none, extra: {}, error_type: 'RangeError', error_message: 'page 9 of 3', stack: stacks[8] },
      { timestamp: 0, level: 'fatal', message: 'disk failing', module: null, ...none, extra: {}, ...noError },
      { timestamp: 0, level: 'info', message: 'rotated logs', module: null, ...none, extra: {}, ...noError },
      { timestamp: 0, level: 'debug', message: 'tick', module: null, ...none, extra: {}, ...noError },
    ],
  );
  assert.match(stacks[4]!, /^Error: card for order 7 declined\n {4}at .*\(dist\/test\/fixtures\/winston-app\.js:\d+:\d+\)/);
  assert.match(stacks[5]!, /^Error: card for order 8 declined\n {4}at /);
  assert.match(stacks[6]!, /^TypeError: amount must be positive\n {4}at /);
  // format.errors({ stack: true }) left only strings: the class comes from the stack's first line.
  assert.match(stacks[8]!, /^RangeError: page 9 of 3\n {4}at .*\(dist\/test\/fixtures\/winston-app\.js:\d+:\d+\)/);
});

test('without a running agent TeracronTransport records nothing, and winston prints and goes on as before', async () => {
  const plain = await runWinstonApp('winston-alone-plain', {});
  const run = await runWinstonApp('winston-alone', { WINSTON_TERACRON: '1' });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(printed(run), printed(plain));
  assert.equal(run.stderr, plain.stderr);
  assert.equal(run.stdout.trim().split('\n').length, 8, 'every console line and the last one came out');

  const transport = new TeracronTransport();
  let called = 0;
  transport.log({ level: 'error', message: 'nobody listens', error: new Error('x') }, () => called++);
  assert.equal(called, 1);
});

test('TERACRON_LOG_LEVEL and the transport\'s own level both apply; a logged event follows each record', async () => {
  const service = 'winston-levels';
  up({ apiKey: vectors.api_key, domain: receiver.url, service, metricsEnabled: false, logLevel: 'info' });
  try {
    const loose = new TeracronTransport();
    const strict = new TeracronTransport({ level: 'warn' });
    const logged: string[] = [];
    loose.on('logged', (info: { message: string }) => logged.push(info.message));
    const a = winston.createLogger({ level: 'silly', transports: [loose] });
    const b = winston.createLogger({ level: 'silly', transports: [strict] });
    a.debug('below TERACRON_LOG_LEVEL');
    a.info('kept by a');
    b.info('below the transport level');
    b.warn('kept by b');
    await waitFor('two logged events', () => logged.length === 2);
  } finally {
    await down();
  }
  assert.deepEqual(logsOf(service).map((log) => [log.level, log.message]), [['info', 'kept by a'], ['warn', 'kept by b']]);
});

test('require("teracron/winston") gives TeracronTransport, a winston-transport; import shares it', async () => {
  const script = `const entry = require('teracron/winston');
    import('teracron/winston').then((esm) => console.log(JSON.stringify({
      exports: Object.keys(entry).sort(), shared: esm.TeracronTransport === entry.TeracronTransport,
      isTransport: new entry.TeracronTransport() instanceof require('winston-transport'),
    })));`;
  const run = await runCommand(process.execPath, ['-e', script], { env: { PATH: process.env.PATH }, cwd: repoRoot() });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { exports: ['TeracronTransport'], shared: true, isTransport: true });
});
