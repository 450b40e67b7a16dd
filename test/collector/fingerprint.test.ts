/** Error fingerprints (src/collector/issues/): what groups errors into one issue and what splits them. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { fingerprintError, fingerprintLog, fingerprintSpan } from '../../src/collector/issues/fingerprint';
import { normalizeMessage } from '../../src/collector/issues/normalize-message';
import { logOccurrences, spanOccurrences } from '../../src/collector/issues/occurrences';
import { inAppFrames } from '../../src/collector/issues/stack-frames';
import type { WireLog, WireSpan } from '../../src/wire/batch-codec';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(30_000);

const stack = (message: string, ...frames: string[]): string => [`Error: ${message}`, ...frames.map((frame) => `    at ${frame}`)].join('\n');
const CHARGE = ['chargeCard (src/pay.js:10:11)', 'checkout (src/shop.js:42:5)', 'process.processTicksAndRejections (node:internal/process/task_queues:95:5)'];

test('messages that differ only in ids, times, emails, addresses, quoted values and numbers normalise alike', () => {
  const pairs: Array<[string, string, string]> = [
    ['order 123 failed', 'order 456 failed', 'order <num> failed'],
    ['user 3f2c8a1e-4b5d-4c6e-8f90-123456789abc gone', 'user 00000000-0000-4000-8000-000000000000 gone', 'user <uuid> gone'],
    ['ran at 2024-05-01T12:30:45.123Z', 'ran at 2025-11-21 08:00:00+02:00', 'ran at <timestamp>'],
    ['expired at 1714567890', 'expired at 1714567890123', 'expired at <timestamp>'],
    ['mail to bob.smith+x@example.co.uk bounced', 'mail to a@b.io bounced', 'mail to <email> bounced'],
    ['connect ECONNREFUSED 10.0.0.12:5432', 'connect ECONNREFUSED 192.168.1.1:6543', 'connect ECONNREFUSED <ip>:<num>'],
    ['no route to 2001:db8::ff00:42:8329', 'no route to fe80::1%eth0', 'no route to <ip>'],
    ['no key "user-9" in \'cache\'', 'no key `x` in "db"', 'no key <str> in <str>'],
    ['object 0x1f3a at deadbeef12', 'object 0xFFFF at 0123abcd', 'object <hex> at <hex>'],
    ['receipt for ord_78bb1330a49b lost', 'receipt for ord_4e8f5add3dcd lost', 'receipt for ord_<hex> lost'],
    ['took 4.5 ms over 3 tries', 'took 120 ms over 10 tries', 'took <num> ms over <num> tries'],
    ['  spaced \n\t out  ', 'spaced out', 'spaced out'],
  ];
  for (const [a, b, normalized] of pairs) {
    assert.equal(normalizeMessage(a), normalized, a);
    assert.equal(normalizeMessage(b), normalized, b);
  }
});

test('rules do not eat each other: a UUID is one placeholder, names with digits and apostrophes stay', () => {
  assert.equal(normalizeMessage('job 3f2c8a1e-4b5d-4c6e-8f90-123456789abc'), 'job <uuid>');
  assert.equal(normalizeMessage('utf8 sha256 v2.1 ipv4 deadbeef'), 'utf8 sha256 v2.1 ipv4 deadbeef');
  assert.equal(normalizeMessage("can't read user's record 7"), "can't read user's record <num>");
  assert.equal(normalizeMessage('::ffff:192.168.1.1 refused'), '<ip> refused');
  assert.equal(normalizeMessage('at 12:30:45 in Foo::bar'), 'at <num>:<num>:<num> in Foo::bar');
});

test('in-app frames: node internals, node_modules, <anonymous> and native are left out, columns dropped', () => {
  const frames = inAppFrames([
    'TypeError: boom',
    '    at Object.get [as value] (/app/src/model.js:3:9)',
    '    at new Cart (file:///srv/shop/src/cart.mjs:12:7)',
    '    at async Promise.all (index 0)',
    '    at async handle (src/routes.js:40:3)',
    '    at Layer.handle (node_modules/express/lib/router/layer.js:95:5)',
    '    at Array.map (<anonymous>)',
    '    at JSON.parse (native)',
    '    at node:internal/main/run_main_module:28:49',
    '    at src/index.js:7:1',
    '    at C:\\work\\app\\src\\win.js:1:2',
  ].join('\n'));
  assert.deepEqual(frames, ['Object.get (src/model.js:3)', 'new Cart (/srv/shop/src/cart.mjs:12)', 'handle (src/routes.js:40)', 'src/index.js:7', 'C:/work/app/src/win.js:1']);
});

test('frames come from the first error only: Caused by and AggregateError sections are left out, at most 5', () => {
  const text = [
    stack('outer', 'a (src/a.js:1:1)', 'b (src/b.js:2:2)'),
    'Caused by: Error: inner',
    '    at c (src/c.js:3:3)',
  ].join('\n');
  assert.deepEqual(inAppFrames(text), ['a (src/a.js:1)', 'b (src/b.js:2)']);
  const deep = stack('deep', ...Array.from({ length: 9 }, (_, i) => `f${i} (src/f.js:${i + 1}:1)`));
  assert.deepEqual(inAppFrames(deep), ['f0 (src/f.js:1)', 'f1 (src/f.js:2)', 'f2 (src/f.js:3)', 'f3 (src/f.js:4)', 'f4 (src/f.js:5)']);
  assert.deepEqual(inAppFrames('Error: no frames at all'), []);
  assert.deepEqual(inAppFrames(null), []);
});

test('the same error from the same place with other ids is one fingerprint; the value is sha256 of type, message and frames', () => {
  const a = fingerprintError({ type: 'PaymentError', message: 'order 123 for 3f2c8a1e-4b5d-4c6e-8f90-123456789abc failed at 2024-05-01T10:00:00Z', stack: stack('x', ...CHARGE) });
  const b = fingerprintError({ type: 'PaymentError', message: 'order 456 for 00000000-0000-4000-8000-000000000000 failed at 2025-01-01T00:00:00Z', stack: stack('y', ...CHARGE) });
  assert.equal(a.fingerprint, b.fingerprint);
  assert.deepEqual(a.frames, ['chargeCard (src/pay.js:10)', 'checkout (src/shop.js:42)']);
  assert.equal(a.normalized_message, 'order <num> for <uuid> failed at <timestamp>');
  const expected = createHash('sha256').update(`PaymentError\n${a.normalized_message}\n${a.frames.join('\n')}`).digest('hex');
  assert.equal(a.fingerprint, expected);
  assert.match(a.fingerprint, /^[0-9a-f]{64}$/);
});

test('another call site, type or message is another fingerprint; only library and node frames differing is not', () => {
  const base = fingerprintError({ type: 'PaymentError', message: 'order 1 failed', stack: stack('x', ...CHARGE) });
  const otherSite = fingerprintError({ type: 'PaymentError', message: 'order 1 failed', stack: stack('x', 'refund (src/pay.js:30:3)', 'checkout (src/shop.js:42:5)') });
  const otherLine = fingerprintError({ type: 'PaymentError', message: 'order 1 failed', stack: stack('x', 'chargeCard (src/pay.js:11:3)', 'checkout (src/shop.js:42:5)') });
  const otherType = fingerprintError({ type: 'TypeError', message: 'order 1 failed', stack: stack('x', ...CHARGE) });
  const otherText = fingerprintError({ type: 'PaymentError', message: 'order 1 refused', stack: stack('x', ...CHARGE) });
  const libraryOnly = fingerprintError({
    type: 'PaymentError',
    message: 'order 2 failed',
    stack: stack('x', 'chargeCard (src/pay.js:10:99)', 'Layer.handle (node_modules/express/lib/router/layer.js:1:1)', 'checkout (src/shop.js:42:1)', 'node:internal/timers:1:1'),
  });
  const fingerprints = [base, otherSite, otherLine, otherType, otherText].map((f) => f.fingerprint);
  assert.equal(new Set(fingerprints).size, 5);
  assert.equal(libraryOnly.fingerprint, base.fingerprint);
});

test('without a type an error is an Error; without a stack its type and message alone make it', () => {
  const bare = fingerprintError({ message: 'disk 3 full' });
  assert.equal(bare.type, 'Error');
  assert.deepEqual(bare.frames, []);
  assert.equal(bare.fingerprint, fingerprintError({ type: 'Error', message: 'disk 9 full', stack: null }).fingerprint);
});

const log = (overrides: Partial<WireLog>): WireLog => ({
  timestamp: 1_763_700_000_000, level: 'error', message: 'checkout failed', module: null, trace_id: null, span_id: null, extra: {},
  error_type: null, error_message: null, stack: null, ...overrides,
});

test('error and fatal logs are fingerprinted, with or without error fields; lower levels are not', () => {
  assert.equal(fingerprintLog(log({ level: 'warn' })), null);
  assert.equal(fingerprintLog(log({ level: 'info', error_type: 'TypeError', error_message: 'x' })), null);
  const plain = fingerprintLog(log({ message: 'queue 7 stuck' }))!;
  assert.deepEqual([plain.type, plain.normalized_message, plain.frames], ['Error', 'queue <num> stuck', []]);
  const withError = fingerprintLog(log({ level: 'fatal', error_type: 'RangeError', error_message: 'index 4 out of range', stack: stack('x', ...CHARGE) }))!;
  assert.deepEqual([withError.type, withError.normalized_message, withError.frames.length], ['RangeError', 'index <num> out of range', 2]);
  // An error thrown without a message: the log's own message names it.
  assert.equal(fingerprintLog(log({ error_type: 'Error', error_message: '', message: 'sync 5 failed' }))!.normalized_message, 'sync <num> failed');
});

const span = (overrides: Partial<WireSpan>): WireSpan => ({
  trace_id: 'a'.repeat(32), span_id: 'b'.repeat(32), parent_span_id: null, workflow: 'checkout', operation: 'charge', status: 'failed',
  started_at: 1_763_700_000_000, duration_ms: 5, error_type: 'CardError', error_message: 'card 4242 declined', metadata: {}, captured_params: {}, ...overrides,
});

test('a failed span with an error stands for its frames with workflow › operation; others have no fingerprint', () => {
  const failed = fingerprintSpan(span({}))!;
  assert.deepEqual([failed.type, failed.normalized_message, failed.frames], ['CardError', 'card <num> declined', ['checkout › charge']]);
  assert.equal(fingerprintSpan(span({ error_message: 'card 1111 declined' }))!.fingerprint, failed.fingerprint);
  assert.notEqual(fingerprintSpan(span({ operation: 'refund' }))!.fingerprint, failed.fingerprint);
  assert.equal(fingerprintSpan(span({ status: 'succeeded' })), null);
  assert.equal(fingerprintSpan(span({ error_type: null, error_message: null })), null);
  assert.equal(fingerprintSpan(span({ error_type: null }))!.type, 'Error');
});

test('occurrences: fingerprints aligned with the logs, a span sent twice in a batch counted once', () => {
  const logs = [log({ level: 'info' }), log({ trace_id: 'c'.repeat(32), message: 'order 5 failed' }), log({ level: 'debug' })];
  const { fingerprints, occurrences } = logOccurrences(logs);
  assert.equal(fingerprints.length, 3);
  assert.deepEqual([fingerprints[0], fingerprints[2]], [null, null]);
  assert.equal(occurrences.length, 1);
  assert.deepEqual(
    { ...occurrences[0], fingerprint: undefined },
    { fingerprint: undefined, type: 'Error', normalized_message: 'order <num> failed', frames: [], source: 'log', timestamp: logs[1]!.timestamp,
      message: 'order 5 failed', stack: null, level: 'error', trace_id: 'c'.repeat(32), span_id: null },
  );
  assert.equal(occurrences[0]!.fingerprint, fingerprints[1]);
  const spans = spanOccurrences([span({ status: 'started', error_type: null, error_message: null }), span({}), span({}), span({ span_id: 'd'.repeat(32), status: 'succeeded' })]);
  assert.deepEqual(spans.map((o) => [o.source, o.span_id, o.level, o.stack, o.message]), [['span', 'b'.repeat(32), null, null, 'card 4242 declined']]);
});
