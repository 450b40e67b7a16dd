/** Propagation: X-Teracron-Trace and W3C traceparent, and a trace continued in another process. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { continueTrace, down, getTraceHeader, getTraceparent, setTraceHeader, trace, up, withSpan } from '../../src/index';
import { formatTraceHeader, formatTraceparent, parseTraceHeader, parseTraceparent } from '../../src/tracing/propagation';
import { idWordsFrom, idWordsToHex } from '../../src/recorder/ids';
import { loadPrivateKey } from '../../src/wire/envelope';
import { directContext } from '../../src/tracing/context';
import { EXIT_BUDGET_MS, exitBudgetEnv, runFixture } from '../helpers/child';
import { startReceiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

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
  up({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS });
  let header = '';
  await trace('upstream', async function callDownstream() {
    header = getTraceHeader()!;
    const result = await runFixture('continue-trace', { TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: receiver.url, ...exitBudgetEnv, TRACE_HEADER: header, ...extraEnv });
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
  up({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS });
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

// W3C trace context: https://www.w3.org/TR/trace-context/#traceparent-header
const PARENT16 = '00f067aa0ba902b7';

test('a version-00 traceparent parses to the trace id, parent "0000000000000000" + parent-id, and the sampled flag', () => {
  const sampled = parseTraceparent(`00-${TRACE}-${PARENT16}-01`)!;
  assert.equal(idWordsToHex(sampled.traceId), TRACE);
  assert.equal(idWordsToHex(sampled.spanId), `${'0'.repeat(16)}${PARENT16}`);
  assert.equal(sampled.sampled, true);
  assert.equal(parseTraceparent(`00-${TRACE}-${PARENT16}-00`)!.sampled, false);
  // Only bit 0 is the sampled flag; other bits are left to later versions.
  assert.equal(parseTraceparent(`00-${TRACE}-${PARENT16}-03`)!.sampled, true);
  assert.equal(parseTraceparent(`00-${TRACE}-${PARENT16}-02`)!.sampled, false);
  assert.equal(idWordsToHex(parseTraceparent(`\t 00-${TRACE}-${PARENT16}-01 `)!.traceId), TRACE, 'optional white space around the value');
});

test('a later traceparent version is read by its version-00 fields, with or without more fields after a dash', () => {
  assert.equal(idWordsToHex(parseTraceparent(`01-${TRACE}-${PARENT16}-01`)!.traceId), TRACE);
  assert.equal(parseTraceparent(`cc-${TRACE}-${PARENT16}-01-what-comes-next`)!.sampled, true);
  assert.equal(parseTraceparent(`cc-${TRACE}-${PARENT16}-01x`), null, 'a later field must follow a dash');
});

test('malformed traceparent values are ignored, never thrown', () => {
  const bad: unknown[] = [
    '', 'xx', `00-${TRACE}-${PARENT16}`, `00-${TRACE}-${PARENT16}-01-extra`, `ff-${TRACE}-${PARENT16}-01`,
    `00-${'0'.repeat(32)}-${PARENT16}-01`, `00-${TRACE}-${'0'.repeat(16)}-01`, `00-${TRACE.toUpperCase()}-${PARENT16}-01`,
    `00-${TRACE}-${PARENT16.toUpperCase()}-01`, `0g-${TRACE}-${PARENT16}-01`, `00-${TRACE}-${PARENT16}-0z`, `00_${TRACE}_${PARENT16}_01`,
    `00-${TRACE.slice(1)}-${PARENT16}0-01`, [`00-${TRACE}-${PARENT16}-01`], 42, null, undefined, {}, `00-${TRACE}-${PARENT16}-01${' '.repeat(600)}x`,
  ];
  for (const value of bad) assert.equal(parseTraceparent(value), null, JSON.stringify(value)?.slice(0, 80));
});

test('formatTraceparent writes version 00, the trace id, the last 16 hex of the span id, and the flag', () => {
  const trace = idWordsFrom(TRACE)!;
  const span = idWordsFrom(SPAN)!;
  assert.equal(formatTraceparent(trace, span, true), `00-${TRACE}-${SPAN.slice(16)}-01`);
  assert.equal(formatTraceparent(trace, span, false), `00-${TRACE}-${SPAN.slice(16)}-00`);
  const parsed = parseTraceparent(formatTraceparent(trace, span, true))!;
  assert.equal(idWordsToHex(parsed.spanId), `${'0'.repeat(16)}${SPAN.slice(16)}`);
  // And back: a parent taken from a traceparent goes out with the same parent-id.
  assert.equal(formatTraceparent(parsed.traceId, parsed.spanId, parsed.sampled), `00-${TRACE}-${SPAN.slice(16)}-01`);
  assert.equal(formatTraceHeader(trace, span), `${TRACE}:${SPAN}`, 'the scratch buffer shared by both formats keeps them apart');
});

test('getTraceparent: null outside a trace; in a span, its trace and the last 16 hex of its span id, flag 01', async () => {
  assert.equal(getTraceparent(), null);
  const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  up({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS });
  let inside: { header: string | null; traceparent: string | null; traceId: string | null; spanId: string | null } | null = null;
  withSpan('w3c', (span) => {
    inside = { header: getTraceHeader(), traceparent: getTraceparent(), traceId: span.traceId, spanId: span.spanId };
  });
  continueTrace(`${TRACE}:${SPAN}`, () => assert.equal(getTraceparent(), `00-${TRACE}-${SPAN.slice(16)}-01`));
  await down();
  await receiver.close();
  const { header, traceparent, traceId, spanId } = inside!;
  assert.equal(header, `${traceId}:${spanId}`);
  assert.equal(traceparent, `00-${traceId}-${spanId!.slice(16)}-01`);
});

test('getTraceparent in an unsampled trace has flag 00 and a non-zero parent-id', async () => {
  const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  up({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS, traceSampleRate: 0 });
  let traceparent: string | null = null;
  let header: string | null = null;
  withSpan('unsampled', () => {
    traceparent = getTraceparent();
    header = getTraceHeader();
  });
  await down();
  await receiver.close();
  assert.match(traceparent!, /^00-[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-00$/);
  assert.equal(traceparent!.slice(3, 35), header);
  assert.equal(receiver.spans.length, 0);
});
