/** Propagation: the header format, and a trace continued in another process. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { continueTrace, down, getTraceHeader, setTraceHeader, trace, up, withSpan } from '../../src/index';
import { formatTraceHeader, parseTraceHeader } from '../../src/tracing/propagation';
import { idWordsToHex } from '../../src/recorder/ids';
import { loadPrivateKey } from '../../src/wire/envelope';
import { directContext } from '../../src/tracing/context';
import { runFixture } from '../helpers/child';
import { startReceiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';

const vectors = envelopeVectors();
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b700f067aa0ba902b7';

test('a header with trace and span ids parses, and formats back to the same text', () => {
  const parsed = parseTraceHeader(`${TRACE}:${SPAN}`)!;
  assert.equal(idWordsToHex(parsed.traceId), TRACE);
  assert.equal(idWordsToHex(parsed.spanId!), SPAN);
  assert.equal(formatTraceHeader(parsed.traceId, parsed.spanId), `${TRACE}:${SPAN}`);
  assert.equal(parseTraceHeader(` ${TRACE.toUpperCase()} `)!.spanId, null);
});

test('malformed headers are ignored, never thrown', () => {
  const bad: unknown[] = ['', 'zz', `${TRACE}:`, `${TRACE}:${SPAN}:x`, `${TRACE.slice(2)}:${SPAN}`, '0'.repeat(32), `${TRACE}:${'0'.repeat(32)}`, `${TRACE};${SPAN}`, 42, null, undefined, {}, 'x'.repeat(10_000)];
  for (const value of bad) {
    assert.equal(parseTraceHeader(value), null, String(value).slice(0, 40));
    assert.equal(setTraceHeader(value), false);
    assert.equal(continueTrace(value, () => 'ran'), 'ran');
  }
});

test('outside any trace there is no header', () => {
  assert.equal(getTraceHeader(), null);
});

for (const [label, extraEnv] of [
  ['', {}],
  [' (child on the portable AsyncLocalStorage path, as on Node 24)', { TERACRON_PORTABLE_CONTEXT: '1' }],
] as const) {
test(`a header round trip across two processes: the child continues the parent's trace${label}`, async () => {
  const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  up({ apiKey: vectors.api_key, domain: receiver.url });
  let header = '';
  await trace('upstream', async function callDownstream() {
    header = getTraceHeader()!;
    const result = await runFixture('continue-trace', { TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: receiver.url, TRACE_HEADER: header, ...extraEnv });
    assert.equal(result.code, 0, result.stderr);
  })();
  await down();
  await receiver.close();

  const upstream = receiver.spans.find((s) => s.operation === 'callDownstream')!;
  const handle = receiver.spans.find((s) => s.operation === 'handle')!;
  const lookup = receiver.spans.find((s) => s.operation === 'lookup')!;
  assert.ok(upstream && handle && lookup);
  assert.equal(header, `${upstream.trace_id}:${upstream.span_id}`);
  assert.equal(handle.trace_id, upstream.trace_id);
  assert.equal(handle.parent_span_id, upstream.span_id, 'the child process\'s span is a child of the caller\'s');
  assert.equal(lookup.trace_id, upstream.trace_id);
  assert.equal(lookup.parent_span_id, handle.span_id);
});
}

test('on Node 20 the direct AsyncLocalStorage slot is in use', () => {
  assert.equal(directContext, true);
});

test('setTraceHeader enters the trace for the rest of the async scope', async () => {
  const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  up({ apiKey: vectors.api_key, domain: receiver.url });
  await (async () => {
    assert.equal(setTraceHeader(`${TRACE}:${SPAN}`), true);
    await new Promise((resolve) => setTimeout(resolve, 1));
    assert.equal(getTraceHeader(), `${TRACE}:${SPAN}`);
    withSpan('entered', () => undefined);
  })();
  await down();
  await receiver.close();
  assert.equal(receiver.spans.length, 1);
  assert.equal(receiver.spans[0]!.trace_id, TRACE);
  assert.equal(receiver.spans[0]!.parent_span_id, SPAN);
});
