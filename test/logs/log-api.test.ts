/** log.*: what each call sends, joined to the current trace, with errors, stacks, extra and levels. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { down, log, up, withSpan } from '../../src/index';
import { loadPrivateKey } from '../../src/wire/envelope';
import { startReceiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';
import { EXIT_BUDGET_MS } from '../helpers/child';

fileTimeout(60_000);

const vectors = envelopeVectors();

class PaymentDeclined extends Error {}

function declineCard(orderId: number): never {
  throw new PaymentDeclined(`card for order ${orderId} declined`);
}

test('a log inside a span carries its trace and span; levels, modules and extra arrive as written', async () => {
  const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  const client = up({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS, logLevel: 'debug' });
  const from = Date.now();
  withSpan('orders', { operation: 'place' }, () => {
    assert.equal(log.info('order placed', { module: 'orders', extra: { order: 7, total: 9.5, gift: false, note: 'leave at door', skipped: undefined } }), true);
  });
  const to = Date.now();
  log.debug('cache warm');
  log.warn('slow downstream', { extra: { ms: 1200 } });
  await down();
  await receiver.close();
  const span = receiver.spans[0]!;
  const [placed, cache, slow] = receiver.logs;
  assert.deepEqual(
    { ...placed, timestamp: 0 },
    {
      timestamp: 0, level: 'info', message: 'order placed', module: 'orders', trace_id: span.trace_id, span_id: span.span_id,
      extra: { order: 7, total: 9.5, gift: false, note: 'leave at door' }, error_type: null, error_message: null, stack: null,
    },
  );
  assert.ok(placed!.timestamp >= from - 50 && placed!.timestamp <= to + 50, `timestamp ${placed!.timestamp}, logged between ${from} and ${to}`);
  assert.deepEqual([cache!.level, cache!.module, cache!.trace_id, cache!.span_id], ['debug', null, null, null]);
  assert.deepEqual([slow!.level, slow!.extra], ['warn', { ms: 1200 }]);
  assert.equal(client.stats().sent, 4, 'one span and three logs');
  assert.equal(receiver.requests.filter((r) => r.path === '/api/v1/logs').length >= 1, true);
});

test('an error gives its class name, message and whole stack, cause chain and AggregateError members included, with paths relative to the working directory', async () => {
  const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  up({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS });
  let declined: unknown;
  try {
    declineCard(123);
  } catch (error) {
    declined = error;
  }
  const wrapped = new Error('checkout failed', { cause: declined });
  const many = new AggregateError([new TypeError('first'), new RangeError('second')], 'two things failed');
  log.error('checkout failed', { error: wrapped });
  log.error('batch failed', { error: many });
  log.fatal('odd throw', { error: 'just a string' });
  await down();
  await receiver.close();
  const [checkout, batch, odd] = receiver.logs;
  assert.equal(checkout!.error_type, 'Error');
  // V8 heads a stack with the error's name, which a subclass inherits as 'Error'; the type is the class.
  assert.equal(checkout!.error_message, 'checkout failed');
  const stack = checkout!.stack!;
  assert.match(stack, /^Error: checkout failed\n {4}at /);
  assert.match(stack, /\nCaused by: Error: card for order 123 declined\n {4}at declineCard \(dist\/test\/logs\/log-api\.test\.js:\d+:\d+\)/);
  assert.equal(stack.includes(process.cwd()), false, 'the working directory is taken off the paths');
  assert.equal(batch!.error_type, 'AggregateError');
  assert.match(batch!.stack!, /\n\[errors\[0\] of 2\] TypeError: first\n/);
  assert.match(batch!.stack!, /\n\[errors\[1\] of 2\] RangeError: second\n/);
  assert.deepEqual([odd!.level, odd!.error_type, odd!.error_message, odd!.stack], ['fatal', 'string', 'just a string', null]);
});

test('stack: true records the caller\'s stack; the minimum level keeps lower logs out and counts nothing for them', async () => {
  const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  const client = up({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS, logLevel: 'warn' });
  function reportLowStock(): void {
    log.warn('stock low', { stack: true });
  }
  reportLowStock();
  assert.equal(log.info('not recorded'), false);
  assert.equal(log.debug('not recorded'), false);
  await down();
  await receiver.close();
  assert.equal(receiver.logs.length, 1);
  const [low] = receiver.logs;
  assert.match(low!.stack!, /^Trace: stock low\n {4}at reportLowStock \(dist\/test\/logs\/log-api\.test\.js:\d+:\d+\)/);
  assert.equal(low!.error_type, null);
  assert.equal(client.stats().produced, 1);
});

test('without a running agent, log calls return false and throw nothing', () => {
  assert.equal(log.error('nobody listens', { error: new Error('x') }), false);
});
