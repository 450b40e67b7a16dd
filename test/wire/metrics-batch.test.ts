import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TeracronWireError } from '../../src/errors';
import { decodeMetricsBatch, encodeMetricsBatch } from '../../src/wire/metrics-batch';
import type { MetricsBatch, MetricsEntry } from '../../src/wire/metrics-batch';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const vector = envelopeVectors().metrics_batch;
const vectorBytes = Buffer.from(vector.protobuf_hex, 'hex');

const ZERO_ENTRY: MetricsEntry = {
  timestamp: 0, heap_total: 0, heap_used: 0, rss: 0, external: 0, array_buffers: 0,
  cpu_usage_pct: 0, event_loop_lag: 0,
};

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function rejectsWire(bytes: Uint8Array, message: RegExp): void {
  assert.throws(() => decodeMetricsBatch(bytes), (error: unknown) => {
    assert.ok(error instanceof TeracronWireError);
    assert.match(error.message, message);
    return true;
  });
}

test('encoding the vector batch gives the vector protobuf bytes exactly', () => {
  const batch: MetricsBatch = {
    entries: vector.entries,
    sdk_version: vector.sdk_version,
    runtime_version: vector.runtime_version,
  };
  assert.equal(hex(encodeMetricsBatch(batch)), vector.protobuf_hex);
});

test('decoding the vector bytes gives the vector entries, with omitted zero fields as 0', () => {
  assert.deepEqual(decodeMetricsBatch(vectorBytes), {
    entries: vector.entries,
    sdk_version: vector.sdk_version,
    runtime_version: vector.runtime_version,
  });
});

test('a value above 2^32 keeps every bit through encode and decode', () => {
  const entry = { ...ZERO_ENTRY, rss: 8589934599, heap_total: Number.MAX_SAFE_INTEGER };
  const decoded = decodeMetricsBatch(encodeMetricsBatch({ entries: [entry], sdk_version: '', runtime_version: '' }));
  assert.equal(decoded.entries[0]!.rss, 8589934599);
  assert.equal(decoded.entries[0]!.heap_total, Number.MAX_SAFE_INTEGER);
});

test('extension fields 9 to 18 round-trip', () => {
  const entry: MetricsEntry = {
    ...vector.entries[0]!,
    uss: 1, pss: 2 ** 40, vms: 3, swap: 4, pid: 4242, threads: 11, event_loop_p50: 900,
    event_loop_p99: 15000, ppid: 1, command: 'postgres: writer — ünïcode',
  };
  const batch: MetricsBatch = { entries: [entry], sdk_version: '0.1.0', runtime_version: '20.18.1' };
  assert.deepEqual(decodeMetricsBatch(encodeMetricsBatch(batch)), batch);
});

test('extension fields use field numbers 13 (pid) and 18 (command)', () => {
  const bytes = encodeMetricsBatch({ entries: [{ ...ZERO_ENTRY, pid: 7, command: 'a' }], sdk_version: '', runtime_version: '' });
  // entries(1, len 6) { pid(13, varint) = 7; command(18, len) = "a" }
  assert.equal(hex(bytes), '0a06' + '6807' + '920101' + '61');
});

test('the agent counters (fields 19 to 22) round-trip, zeros included', () => {
  const entry: MetricsEntry = { ...ZERO_ENTRY, timestamp: 1, pid: 9, dropped_ring_full: 0, dropped_send_failed: 5, send_retries: 2 ** 40, metrics_dropped: 0 };
  const batch: MetricsBatch = { entries: [entry], sdk_version: '', runtime_version: '' };
  assert.deepEqual(decodeMetricsBatch(encodeMetricsBatch(batch)), batch);
});

test('an agent counter of 0 is written (explicit presence) and one not set is not', () => {
  // entries(1, len 3) { dropped_ring_full(19, varint) = 0 }
  assert.equal(hex(encodeMetricsBatch({ entries: [{ ...ZERO_ENTRY, dropped_ring_full: 0 }], sdk_version: '', runtime_version: '' })), '0a03' + '980100');
  assert.equal(decodeMetricsBatch(Buffer.from('0a00', 'hex')).entries[0]!.dropped_ring_full, undefined, 'absent means not reported');
});

test('fields go out in field-number order: pid (13), command (18), then the counters (19-22)', () => {
  const entry: MetricsEntry = { ...ZERO_ENTRY, pid: 7, command: 'a', dropped_ring_full: 3, metrics_dropped: 1 };
  const bytes = encodeMetricsBatch({ entries: [entry], sdk_version: '', runtime_version: '' });
  assert.equal(hex(bytes), '0a0c' + '6807' + '920101' + '61' + '980103' + 'b00101');
});

test('zero and empty fields are omitted, so an empty batch encodes to no bytes', () => {
  assert.equal(encodeMetricsBatch({ entries: [], sdk_version: '', runtime_version: '' }).length, 0);
  assert.equal(hex(encodeMetricsBatch({ entries: [ZERO_ENTRY], sdk_version: '', runtime_version: '' })), '0a00');
  assert.deepEqual(decodeMetricsBatch(new Uint8Array(0)), { entries: [], sdk_version: '', runtime_version: '' });
});

test('negative, fractional and non-finite values are coerced to unsigned integers', () => {
  const entry = { ...ZERO_ENTRY, heap_total: -5, heap_used: 2.5, rss: 3.4, external: Number.NaN, array_buffers: Number.POSITIVE_INFINITY };
  const decoded = decodeMetricsBatch(encodeMetricsBatch({ entries: [entry], sdk_version: '', runtime_version: '' })).entries[0]!;
  assert.equal(decoded.heap_total, 0);
  assert.equal(decoded.heap_used, 3);
  assert.equal(decoded.rss, 3);
  assert.equal(decoded.external, 0);
  assert.equal(decoded.array_buffers, 18446744073709549568);
});

test('unknown fields of every wire type are skipped in the batch and in entries', () => {
  const batchUnknowns = [
    '3005', // field 6, varint 5
    '39' + '0102030405060708', // field 7, fixed64
    '4203' + 'abcdef', // field 8, length-delimited
    '4d' + '01020304', // field 9, fixed32
    'f8ff0301', // field 8191 (three-byte tag), varint 1
  ].join('');
  const entryUnknowns = [
    'c80205', // field 41, varint 5
    'd102' + '0102030405060708', // field 42, fixed64
    'da0203' + 'abcdef', // field 43, length-delimited
    'e502' + '01020304', // field 44, fixed32
    'f8ff0301', // field 8191, varint 1
  ].join('');
  const entryBody = `0801${entryUnknowns}`;
  const entryLength = (entryBody.length / 2).toString(16).padStart(2, '0');
  const bytes = Buffer.from(`${batchUnknowns}0a${entryLength}${entryBody}1201781a0179${batchUnknowns}`, 'hex');
  assert.deepEqual(decodeMetricsBatch(bytes), { entries: [{ ...ZERO_ENTRY, timestamp: 1 }], sdk_version: 'x', runtime_version: 'y' });
});

test('input cut inside a length-delimited field is rejected, naming the field and byte', () => {
  rejectsWire(vectorBytes.subarray(0, vectorBytes.length - 1), /Truncated protobuf in MetricsBatch: field 3 at byte \d+ declares 6 bytes but only 5 remain/);
  rejectsWire(vectorBytes.subarray(0, 10), /Truncated protobuf in MetricsBatch: field 1 at byte 0 declares 37 bytes/);
});

test('input cut inside a varint is rejected, naming the entry and byte', () => {
  // An entry of two bytes whose timestamp varint never ends.
  rejectsWire(Buffer.from('0a020880', 'hex'), /Truncated protobuf in MetricsBatch\.entries\[0\]: the varint for field 1 \(timestamp\) starting at byte 3/);
  rejectsWire(Buffer.from('0a', 'hex'), /Truncated protobuf in MetricsBatch: the varint for the length of field 1/);
});

test('an unknown fixed-width field cut short is rejected', () => {
  rejectsWire(Buffer.from('390102', 'hex'), /unknown field 7 at byte 0 needs 8 bytes but only 2 remain/);
});

test('a known field with the wrong wire type is rejected', () => {
  rejectsWire(Buffer.from('0a0209ff', 'hex'), /entries\[0\]: field 1 at byte 2 has wire type 1, expected 0/);
  rejectsWire(Buffer.from('1005', 'hex'), /field 2 at byte 0 has wire type 0, expected 2/);
});

test('a varint longer than 10 bytes is rejected', () => {
  rejectsWire(Buffer.from('30' + 'ff'.repeat(11), 'hex'), /longer than 10 bytes/);
});

test('the service and host extensions (fields 4 and 5) round-trip and are left out when empty', () => {
  const entry = { ...ZERO_ENTRY, timestamp: 1_700_000_000_000, rss: 5 };
  const batch = { entries: [entry], sdk_version: '1', runtime_version: '20', service: 'shop', host: 'web-1' };
  const bytes = encodeMetricsBatch(batch);
  assert.deepEqual(decodeMetricsBatch(bytes), batch);
  assert.equal(Buffer.from(bytes).toString('hex').endsWith('220473686f70' + '2a057765622d31'), true, 'field 4 "shop", then field 5 "web-1"');
  const bare = encodeMetricsBatch({ entries: [entry], sdk_version: '1', runtime_version: '20', service: '', host: '' });
  assert.deepEqual(decodeMetricsBatch(bare), { entries: [entry], sdk_version: '1', runtime_version: '20' });
});
