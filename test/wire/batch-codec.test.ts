import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TeracronWireError } from '../../src/errors';
import { batchItemCount, decodeBatch, encodeBatch, INGEST_PATHS, newBatchId } from '../../src/wire/batch-codec';
import type { EventBatch, LogBatch, TelemetryBatch, TraceBatch, WireFormat } from '../../src/wire/batch-codec';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const resource = {
  service: 'checkout', environment: 'test', host: 'box-1', pid: 4242,
  sdk: { name: 'teracron-node', version: '0.1.0' }, runtime: { name: 'node', version: '20.18.1' },
};

const traceBatch: TraceBatch & { batch_id: string } = {
  type: 'trace',
  project_slug: 'vivid-kudu-655',
  batch_id: newBatchId(),
  resource,
  spans: [{
    trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b700f067aa0ba902b7',
    parent_span_id: null, workflow: 'payment', operation: 'charge', status: 'failed',
    started_at: 1721500000000, duration_ms: 142.5, error_type: 'Error', error_message: 'card declined — ✗',
    metadata: { region: 'us-east', retries: 2, cached: false }, captured_params: { amount: 42.5 },
  }],
};

const eventBatch: EventBatch & { batch_id: string } = {
  type: 'event',
  project_slug: 'vivid-kudu-655',
  batch_id: newBatchId(),
  events: [{
    trace_id: null, span_id: null, workflow: 'payment', event_type: 'retry', name: 'charge retried',
    message: null, severity: 'warning', timestamp: 1721500000123, metadata: { attempt: 3 },
  }],
};

const logBatch: LogBatch & { batch_id: string } = {
  type: 'log',
  project_slug: 'vivid-kudu-655',
  batch_id: newBatchId(),
  logs: [{
    timestamp: 1721500000456, level: 'error', message: 'boom', module: 'billing',
    trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: null, extra: { user: 'u1' },
    error_type: 'TypeError', error_message: 'x is undefined', stack: 'TypeError: x is undefined\n    at f (a.js:1:1)',
  }],
};

const formats: WireFormat[] = ['json', 'msgpack'];

function rejectsWire(bytes: Uint8Array, message: RegExp): void {
  assert.throws(() => decodeBatch(bytes), (error: unknown) => {
    assert.ok(error instanceof TeracronWireError);
    assert.equal(error.code, 'TERACRON_ERR_WIRE');
    assert.match(error.message, message);
    return true;
  });
}

for (const format of formats) {
  for (const batch of [traceBatch, eventBatch, logBatch]) {
    test(`a ${batch.type} batch round-trips through ${format}`, () => {
      assert.deepEqual(decodeBatch(encodeBatch(batch, format)), batch);
    });
  }
}

test('JSON output starts with "{" and msgpack output with a plain map header', () => {
  assert.equal(encodeBatch(traceBatch, 'json')[0], 0x7b);
  const first = encodeBatch(traceBatch, 'msgpack')[0]!;
  assert.ok((first >= 0x80 && first <= 0x8f) || first === 0xde || first === 0xdf, `first byte 0x${first.toString(16)}`);
});

test('msgpack is smaller than JSON for the same batch', () => {
  assert.ok(encodeBatch(traceBatch, 'msgpack').length < encodeBatch(traceBatch, 'json').length);
});

test('an undefined optional field is written as msgpack nil, not an extension', () => {
  const bytes = encodeBatch({ ...eventBatch, resource: undefined }, 'msgpack');
  assert.equal(bytes.includes(Buffer.from([0xd4, 0x00, 0x00])), false);
  assert.equal((decodeBatch(bytes) as unknown as Record<string, unknown>)['resource'], null);
});

test('the Python reference JSON plaintext decodes to its trace batch', () => {
  const { trace_batch } = envelopeVectors();
  const batch = decodeBatch(Buffer.from(trace_batch.plaintext_utf8, 'utf8'));
  assert.deepEqual(batch, JSON.parse(trace_batch.plaintext_utf8));
  assert.equal(batch.type, 'trace');
  assert.equal(batch.batch_id, undefined);
  assert.equal(batchItemCount(batch), 1);
});

test('msgpack from another encoder (fixmap, uint64 timestamp) decodes with numbers', () => {
  const str = (s: string): Buffer => Buffer.concat([Buffer.from([0xa0 | s.length]), Buffer.from(s)]);
  const uint64 = Buffer.alloc(9);
  uint64[0] = 0xcf;
  uint64.writeBigUInt64BE(1721500000456n, 1);
  const bytes = Buffer.concat([
    Buffer.from([0x83]), str('type'), str('log'), str('project_slug'), str('vivid-kudu-655'),
    str('logs'), Buffer.from([0x91, 0x81]), str('timestamp'), uint64,
  ]);
  const batch = decodeBatch(bytes) as LogBatch;
  assert.equal(batch.logs[0]!.timestamp, 1721500000456);
});

test('bytes that start with neither "{" nor a map header are neither JSON nor msgpack', () => {
  rejectsWire(Buffer.from('garbage'), /neither JSON nor msgpack: its first byte is 0x67/);
  rejectsWire(Buffer.from('[1,2]'), /neither JSON nor msgpack/);
  rejectsWire(new Uint8Array(0), /empty/);
});

test('bytes that start with "{" but are not JSON are rejected as invalid JSON', () => {
  rejectsWire(Buffer.from('{"type":"trace",'), /not valid JSON/);
});

test('a truncated msgpack batch is rejected as invalid msgpack', () => {
  const bytes = encodeBatch(traceBatch, 'msgpack');
  rejectsWire(bytes.subarray(0, bytes.length - 3), /not valid msgpack/);
});

test('an unknown batch type is rejected, quoting it', () => {
  rejectsWire(Buffer.from('{"type":"metric","project_slug":"vivid-kudu-655","spans":[]}'), /"type" is "metric": expected "trace", "event" or "log"/);
  rejectsWire(Buffer.from('{"project_slug":"vivid-kudu-655","spans":[]}'), /"type" is missing/);
});

test('a batch without a string project_slug is rejected', () => {
  rejectsWire(Buffer.from('{"type":"trace","project_slug":7,"spans":[]}'), /"project_slug" is a number/);
});

test("a batch without its type's item array is rejected, naming the array", () => {
  rejectsWire(Buffer.from('{"type":"event","project_slug":"vivid-kudu-655","spans":[]}'), /no "events" array \(found missing\)/);
  rejectsWire(Buffer.from('{"type":"log","project_slug":"vivid-kudu-655","logs":{}}'), /no "logs" array \(found a object\)/);
});

test('a batch_id that is not a string is rejected', () => {
  rejectsWire(Buffer.from('{"type":"log","project_slug":"vivid-kudu-655","batch_id":1,"logs":[]}'), /"batch_id" is a number/);
});

test('encodeBatch refuses a batch without a batch_id', () => {
  const { batch_id: _omitted, ...withoutId } = traceBatch;
  assert.throws(() => encodeBatch(withoutId as TraceBatch & { batch_id: string }, 'json'), /must carry a batch_id/);
});

test('encodeBatch refuses an unknown format', () => {
  assert.throws(() => encodeBatch(traceBatch, 'xml' as WireFormat), TeracronWireError);
});

test('newBatchId returns 32 lowercase hex characters, different each call', () => {
  const a = newBatchId();
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.notEqual(newBatchId(), a);
});

test('batchItemCount counts the spans, events or logs of a batch', () => {
  const batches: TelemetryBatch[] = [
    { ...traceBatch, spans: [traceBatch.spans[0]!, traceBatch.spans[0]!] },
    eventBatch,
    { ...logBatch, logs: [] },
  ];
  assert.deepEqual(batches.map(batchItemCount), [2, 1, 0]);
});

test('INGEST_PATHS are the protocol endpoints', () => {
  assert.deepEqual(INGEST_PATHS, { metrics: '/api/ingest', trace: '/api/v1/traces', event: '/api/v1/events', log: '/api/v1/logs' });
});
