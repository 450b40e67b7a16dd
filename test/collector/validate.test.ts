import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTimeWindow, HEX32, isQueryId, validateMetricsBatch, validateTelemetryBatch } from '../../src/collector/validate';
import type { EventBatch, LogBatch, TelemetryBatch, TraceBatch, WireEvent, WireLog, WireSpan } from '../../src/wire/batch-codec';
import type { MetricsBatch, MetricsEntry } from '../../src/wire/metrics-batch';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const SLUG = 'vivid-kudu-655';
const vectorBatch = (): TraceBatch => JSON.parse(envelopeVectors().trace_batch.plaintext_utf8) as TraceBatch;
const ID_A = '4bf92f3577b34da6a3ce929d0e0e4736';
const ID_B = '00f067aa0ba902b700f067aa0ba902b7';
const T = 1_721_500_000_000;

function span(overrides: Record<string, unknown> = {}): WireSpan {
  return { ...vectorBatch().spans[0]!, ...overrides } as WireSpan;
}

function traceBatch(spans: unknown[], header: Record<string, unknown> = {}): TelemetryBatch {
  return { type: 'trace', project_slug: SLUG, spans, ...header } as TraceBatch;
}

function event(overrides: Record<string, unknown> = {}): WireEvent {
  return {
    trace_id: ID_A, span_id: ID_B, workflow: 'payment', event_type: 'workflow_failed', name: 'charge_card',
    message: 'ValueError: card declined', severity: 'error', timestamp: T, metadata: { duration_ms: 142.5 },
    ...overrides,
  } as WireEvent;
}

function log(overrides: Record<string, unknown> = {}): WireLog {
  return {
    timestamp: T, level: 'error', message: 'charge failed', module: 'billing', trace_id: ID_A, span_id: null,
    extra: { attempt: 2 }, error_type: 'ValueError', error_message: 'card declined', stack: 'ValueError: card declined\n    at charge',
    ...overrides,
  } as WireLog;
}

function entry(overrides: Record<string, unknown> = {}): MetricsEntry {
  return {
    timestamp: T, heap_total: 1000, heap_used: 900, rss: 5000, external: 10, array_buffers: 5, cpu_usage_pct: 1234,
    event_loop_lag: 150, uss: 4000, pid: 42, ...overrides,
  } as MetricsEntry;
}

function metrics(entries: unknown[]): MetricsBatch {
  return { entries, sdk_version: '0.1.0', runtime_version: 'node/20.20.0' } as MetricsBatch;
}

function rejects(result: ReturnType<typeof validateTelemetryBatch>, error: string, hint?: RegExp): void {
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.error, error);
  assert.ok(result.hint.length > 0);
  if (hint) assert.match(result.hint, hint);
}

test('the Python vector trace batch is valid and counts one span', () => {
  assert.deepEqual(validateTelemetryBatch(vectorBatch(), SLUG), { ok: true, items: 1 });
});

test('a span without the optional fields is valid', () => {
  const { error_type, error_message, metadata, captured_params, parent_span_id, ...bare } = span();
  void [error_type, error_message, metadata, captured_params, parent_span_id];
  assert.deepEqual(validateTelemetryBatch(traceBatch([bare, span()]), SLUG), { ok: true, items: 2 });
});

test('an empty batch is valid with zero items', () => {
  assert.deepEqual(validateTelemetryBatch(traceBatch([]), SLUG), { ok: true, items: 0 });
});

test('a project_slug other than the request\'s is rejected', () => {
  rejects(
    validateTelemetryBatch(traceBatch([span()], { project_slug: 'other-yak-001' }), SLUG),
    'project_slug is "other-yak-001": expected "vivid-kudu-655", the project this batch was sent for',
    /TERACRON_API_KEY/,
  );
});

test('a batch_id of 32 lowercase hex and a null resource are accepted', () => {
  assert.deepEqual(validateTelemetryBatch(traceBatch([span()], { batch_id: ID_A, resource: null }), SLUG), { ok: true, items: 1 });
});

test('a batch_id that is not 32 lowercase hex is rejected', () => {
  rejects(validateTelemetryBatch(traceBatch([span()], { batch_id: 'abc' }), SLUG), 'batch_id is "abc": expected 32 lowercase hex characters');
});

test('a resource whose pid is not an integer is rejected', () => {
  rejects(validateTelemetryBatch(traceBatch([span()], { resource: { service: 'api', pid: 1.5 } }), SLUG), 'resource.pid is 1.5: expected a non-negative integer');
});

test('a batch whose items are not an array is rejected', () => {
  rejects(validateTelemetryBatch(traceBatch(null as unknown as unknown[]), SLUG), 'spans is null: expected an array of trace records');
});

test('more than 100,000 spans are rejected with a hint to split the batch', () => {
  const spans = new Array<WireSpan>(100_001).fill(span());
  rejects(validateTelemetryBatch(traceBatch(spans), SLUG), 'spans has 100001 items: expected at most 100000', /split the batch/);
});

test('100,000 valid spans are accepted', () => {
  const spans = new Array<WireSpan>(100_000).fill(span());
  assert.deepEqual(validateTelemetryBatch(traceBatch(spans), SLUG), { ok: true, items: 100_000 });
});

test('a non-object span is rejected with its index', () => {
  rejects(validateTelemetryBatch(traceBatch([span(), 'x']), SLUG), 'spans[1] is "x": expected a span object');
});

test('an uppercase trace_id is rejected with a hint to lowercase it', () => {
  rejects(
    validateTelemetryBatch(traceBatch([span(), span(), span(), span({ trace_id: ID_A.toUpperCase() })]), SLUG),
    `spans[3].trace_id is "${ID_A.toUpperCase()}": expected 32 lowercase hex characters`,
    /lowercase/,
  );
});

test('a long non-hex trace_id is shown shortened', () => {
  rejects(
    validateTelemetryBatch(traceBatch([span({ trace_id: 'XYZ'.repeat(20) })]), SLUG),
    `spans[0].trace_id is "${'XYZ'.repeat(20).slice(0, 32)}…": expected 32 lowercase hex characters`,
  );
});

test('a missing span_id is rejected', () => {
  rejects(validateTelemetryBatch(traceBatch([span({ span_id: undefined })]), SLUG), 'spans[0].span_id is missing: expected 32 lowercase hex characters');
});

test('a parent_span_id that is not 32 hex is rejected', () => {
  rejects(validateTelemetryBatch(traceBatch([span({ parent_span_id: 'abc' })]), SLUG), 'spans[0].parent_span_id is "abc": expected null or 32 lowercase hex characters');
});

test('an empty workflow is rejected', () => {
  rejects(validateTelemetryBatch(traceBatch([span({ workflow: '' })]), SLUG), 'spans[0].workflow is "": expected a non-empty string of at most 256 characters');
});

test('an operation over 256 characters is rejected with its length, not its text', () => {
  rejects(validateTelemetryBatch(traceBatch([span({ operation: 'o'.repeat(257) })]), SLUG), 'spans[0].operation is a 257-character string: expected at most 256 characters');
});

test('lengths count code points, so 256 emoji are a valid operation', () => {
  assert.equal(validateTelemetryBatch(traceBatch([span({ operation: '😀'.repeat(256) })]), SLUG).ok, true);
});

test('an unknown status is rejected', () => {
  rejects(validateTelemetryBatch(traceBatch([span({ status: 'ok' })]), SLUG), 'spans[0].status is "ok": expected one of "succeeded", "failed", "started"');
});

test('a fractional started_at is rejected', () => {
  rejects(
    validateTelemetryBatch(traceBatch([span({ started_at: T + 0.5 })]), SLUG),
    'spans[0].started_at is 1721500000000.5: expected an integer unix time in milliseconds between 2000-01-01 and 2100-01-01',
  );
});

test('a started_at in seconds is rejected with a hint about milliseconds', () => {
  rejects(
    validateTelemetryBatch(traceBatch([span({ started_at: 1_721_500_000 })]), SLUG),
    'spans[0].started_at is 1721500000: expected an integer unix time in milliseconds between 2000-01-01 and 2100-01-01',
    /seconds × 1000/,
  );
});

test('a started_at after 2100 is rejected', () => {
  rejects(
    validateTelemetryBatch(traceBatch([span({ started_at: 4_102_444_800_000 })]), SLUG),
    'spans[0].started_at is 4102444800000: expected an integer unix time in milliseconds between 2000-01-01 and 2100-01-01',
  );
});

test('a negative duration_ms is rejected', () => {
  rejects(validateTelemetryBatch(traceBatch([span({ duration_ms: -1 })]), SLUG), 'spans[0].duration_ms is -1: expected a finite number of milliseconds ≥ 0');
});

test('a non-finite duration_ms is rejected', () => {
  rejects(validateTelemetryBatch(traceBatch([span({ duration_ms: Infinity })]), SLUG), 'spans[0].duration_ms is Infinity: expected a finite number of milliseconds ≥ 0');
});

test('an error_message over 1024 characters is rejected', () => {
  rejects(validateTelemetryBatch(traceBatch([span({ error_message: 'e'.repeat(1025) })]), SLUG), 'spans[0].error_message is a 1025-character string: expected at most 1024 characters');
});

test('an error_type that is not a string is rejected', () => {
  rejects(validateTelemetryBatch(traceBatch([span({ error_type: 7 })]), SLUG), 'spans[0].error_type is 7: expected null or a string of at most 256 characters');
});

test('an array as metadata is rejected', () => {
  rejects(validateTelemetryBatch(traceBatch([span({ metadata: [] })]), SLUG), 'spans[0].metadata is an array: expected an object of string, number or boolean values');
});

test('null metadata and captured_params mean none, as the Python SDK sends them; an array is rejected', () => {
  assert.deepEqual(validateTelemetryBatch(traceBatch([span({ metadata: null, captured_params: null })]), SLUG), { ok: true, items: 1 });
  rejects(validateTelemetryBatch(traceBatch([span({ metadata: [] })]), SLUG), 'spans[0].metadata is an array: expected an object of string, number or boolean values');
});

test('metadata with 33 keys is rejected', () => {
  const metadata = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]));
  rejects(validateTelemetryBatch(traceBatch([span({ metadata })]), SLUG), 'spans[0].metadata has 33 keys: expected at most 32');
});

test('a metadata key over 128 characters is rejected', () => {
  rejects(
    validateTelemetryBatch(traceBatch([span({ metadata: { ['k'.repeat(129)]: 1 } })]), SLUG),
    `spans[0].metadata has the key "${'k'.repeat(32)}…" of 129 characters: expected keys of at most 128 characters`,
  );
});

test('a nested object as a metadata value is rejected by key', () => {
  rejects(
    validateTelemetryBatch(traceBatch([span({ metadata: { region: { a: 1 } } })]), SLUG),
    'spans[0].metadata["region"] is an object: expected a string of at most 1024 characters, a finite number or a boolean',
  );
});

test('a NaN metadata value is rejected', () => {
  rejects(
    validateTelemetryBatch(traceBatch([span({ metadata: { ratio: NaN } })]), SLUG),
    'spans[0].metadata["ratio"] is NaN: expected a string of at most 1024 characters, a finite number or a boolean',
  );
});

test('a metadata string of 1024 characters is accepted', () => {
  assert.equal(validateTelemetryBatch(traceBatch([span({ metadata: { note: 'n'.repeat(1024), on: true } })]), SLUG).ok, true);
});

test('a captured string over 512 characters is rejected without echoing it', () => {
  rejects(
    validateTelemetryBatch(traceBatch([span({ captured_params: { password: 's'.repeat(513) } })]), SLUG),
    'spans[0].captured_params["password"] is a 513-character string: expected at most 512 characters',
  );
});

test('the first bad span is reported, not a later one', () => {
  rejects(
    validateTelemetryBatch(traceBatch([span(), span({ status: 'x' }), span({ trace_id: 'y' })]), SLUG),
    'spans[1].status is "x": expected one of "succeeded", "failed", "started"',
  );
});

function eventBatch(events: unknown[]): TelemetryBatch {
  return { type: 'event', project_slug: SLUG, events } as EventBatch;
}

test('an event batch with lifecycle events and a minimal event is valid', () => {
  const minimal = { event_type: 'custom', name: 'cache-miss', timestamp: T };
  assert.deepEqual(validateTelemetryBatch(eventBatch([event(), event({ trace_id: null, span_id: null, workflow: null, message: null }), minimal]), SLUG), { ok: true, items: 3 });
});

test('an unknown event_type is rejected', () => {
  rejects(
    validateTelemetryBatch(eventBatch([event({ event_type: 'debug' })]), SLUG),
    'events[0].event_type is "debug": expected one of "info", "warning", "error", "metric", "custom", "workflow_started", "workflow_completed", "workflow_failed", "step_started", "step_completed", "step_failed", "retry"',
    /custom/,
  );
});

test('an event without a name is rejected', () => {
  rejects(validateTelemetryBatch(eventBatch([event({ name: '' })]), SLUG), 'events[0].name is "": expected a non-empty string of at most 256 characters');
});

test('a severity over 32 characters is rejected', () => {
  rejects(validateTelemetryBatch(eventBatch([event({ severity: 's'.repeat(33) })]), SLUG), 'events[0].severity is a 33-character string: expected at most 32 characters');
});

test('an event message over 1024 characters is rejected', () => {
  rejects(validateTelemetryBatch(eventBatch([event({ message: 'm'.repeat(1025) })]), SLUG), 'events[0].message is a 1025-character string: expected at most 1024 characters');
});

test('an event timestamp as an ISO string is rejected', () => {
  rejects(
    validateTelemetryBatch(eventBatch([event({ timestamp: '2024-07-20T18:26:40Z' })]), SLUG),
    'events[0].timestamp is "2024-07-20T18:26:40Z": expected an integer unix time in milliseconds between 2000-01-01 and 2100-01-01',
  );
});

test('an event span_id that is not hex is rejected', () => {
  rejects(validateTelemetryBatch(eventBatch([event({ span_id: 'z'.repeat(32) })]), SLUG), `events[0].span_id is "${'z'.repeat(32)}": expected null or 32 lowercase hex characters`);
});

test('an event workflow that is not a string is rejected', () => {
  rejects(validateTelemetryBatch(eventBatch([event({ workflow: 3 })]), SLUG), 'events[0].workflow is 3: expected null or a string of at most 256 characters');
});

function logBatch(logs: unknown[]): TelemetryBatch {
  return { type: 'log', project_slug: SLUG, logs } as LogBatch;
}

test('a log batch with a full and a minimal record is valid', () => {
  assert.deepEqual(validateTelemetryBatch(logBatch([log(), { timestamp: T, level: 'info', message: '' }]), SLUG), { ok: true, items: 2 });
});

test('an unknown log level is rejected', () => {
  rejects(validateTelemetryBatch(logBatch([log({ level: 'warning' })]), SLUG), 'logs[0].level is "warning": expected one of "debug", "info", "warn", "error", "fatal"');
});

test('a log message over 8192 characters is rejected', () => {
  rejects(validateTelemetryBatch(logBatch([log({ message: 'm'.repeat(8193) })]), SLUG), 'logs[0].message is a 8193-character string: expected at most 8192 characters');
});

test('a log extra value that is an array is rejected', () => {
  rejects(
    validateTelemetryBatch(logBatch([log({ extra: { ids: [1, 2] } })]), SLUG),
    'logs[0].extra["ids"] is an array: expected a string of at most 1024 characters, a finite number or a boolean',
  );
});

test('a log stack that is not a string is rejected', () => {
  rejects(validateTelemetryBatch(logBatch([log({ stack: ['at x'] })]), SLUG), 'logs[0].stack is an array: expected null or a string of at most 16384 characters');
});

test('an unknown batch type is rejected', () => {
  rejects(validateTelemetryBatch({ type: 'metric', project_slug: SLUG } as unknown as TelemetryBatch, SLUG), 'type is "metric": expected "trace", "event" or "log"');
});

test('a valid metrics batch counts its entries', () => {
  assert.deepEqual(validateMetricsBatch(metrics([entry(), entry({ uss: undefined, pid: undefined, command: 'node' })])), { ok: true, items: 2 });
});

test('a negative metrics value is rejected with its entry and field', () => {
  rejects(validateMetricsBatch(metrics([entry(), entry({ rss: -5 })])), 'entries[1].rss is -5: expected a non-negative integer', /unsigned integers/);
});

test('a fractional extension metric is rejected', () => {
  rejects(validateMetricsBatch(metrics([entry({ pss: 1.5 })])), 'entries[0].pss is 1.5: expected a non-negative integer');
});

test('the agent counters (fields 19-22) may be absent or 0, and are rejected when fractional', () => {
  assert.deepEqual(validateMetricsBatch(metrics([entry({ dropped_ring_full: 0, dropped_send_failed: 3, send_retries: 0, metrics_dropped: 0 })])), { ok: true, items: 1 });
  rejects(validateMetricsBatch(metrics([entry({ send_retries: 0.5 })])), 'entries[0].send_retries is 0.5: expected a non-negative integer');
});

test('a metrics timestamp of zero is rejected', () => {
  rejects(
    validateMetricsBatch(metrics([entry({ timestamp: 0 })])),
    'entries[0].timestamp is 0: expected an integer unix time in milliseconds between 2000-01-01 and 2100-01-01',
  );
});

test('cpu_usage_pct over 10000 basis points is rejected', () => {
  rejects(validateMetricsBatch(metrics([entry({ cpu_usage_pct: 10_001 })])), 'entries[0].cpu_usage_pct is 10001: expected basis points from 0 to 10000');
});

test('more than 10,000 metrics entries are rejected', () => {
  rejects(validateMetricsBatch(metrics(new Array(10_001).fill(entry()))), 'entries has 10001 items: expected at most 10000', /split the batch/);
});

test('HEX32 matches only 32 lowercase hex characters', () => {
  assert.deepEqual([ID_A, ID_A.toUpperCase(), ID_A.slice(1), `${ID_A}0`].map((s) => HEX32.test(s)), [true, false, false, false]);
});

test('isQueryId accepts lowercase hex up to 64 characters only', () => {
  assert.deepEqual(
    ['a', ID_A, 'f'.repeat(64), 'f'.repeat(65), '', 'ABC', '12g4', '../etc'].map(isQueryId),
    [true, true, true, false, false, false, false, false],
  );
});

test('a time outside what the collector keeps is refused with the value and both ends of the window', () => {
  const window = { earliest: Date.UTC(2026, 0, 1), latest: Date.UTC(2026, 0, 9), why: 'this collector keeps 7 days' };
  const inside = span({ started_at: Date.UTC(2026, 0, 5) });
  assert.deepEqual(checkTimeWindow(traceBatch([inside]), window), { ok: true, items: 1 });
  const result = checkTimeWindow(traceBatch([inside, span({ started_at: Date.UTC(2001, 8, 9) })]), window);
  assert.equal(result.ok, false);
  assert.equal(
    !result.ok && result.error,
    'spans[1].started_at is 2001-09-09T00:00:00.000Z: outside the times this collector keeps, 2026-01-01T00:00:00.000Z to 2026-01-09T00:00:00.000Z',
  );
  assert.match(!result.ok ? result.hint : '', /^this collector keeps 7 days; check the sender's clock/);
  const late = checkTimeWindow({ entries: [{ timestamp: Date.UTC(2026, 0, 10) }] } as unknown as MetricsBatch, window);
  assert.equal(!late.ok && late.error.startsWith('entries[0].timestamp is 2026-01-10'), true);
});
