/**
 * Direct encoding (ring record → wire bytes) against the reference path (records.ts objects →
 * the batch codec): JSON must be the same bytes as JSON.stringify, msgpack the same values, item
 * by item, for every shape a record can take.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { performance } from 'node:perf_hooks';
import { KIND_EVENT, KIND_SPAN, createRingBuffer } from '../../src/ring/layout';
import { createRingReader, drainRecords } from '../../src/ring/reader';
import { createRecorder, recordEventInput, recordSpanInput } from '../../src/recorder/recorder';
import type { EventInput, SpanInput } from '../../src/recorder/recorder';
import { decodeBatch, encodeBatch, encodeWireValue, newBatchId } from '../../src/wire/batch-codec';
import type { WireEvent, WireFormat, WireResource, WireSpan } from '../../src/wire/batch-codec';
import { createItemBatch, finishItemBatch, resetItemBatch } from '../../src/worker/item-batch';
import type { ItemBatch } from '../../src/worker/item-batch';
import { encodeEvent, encodeSpan } from '../../src/worker/record-encoder';
import { createOutBuffer } from '../../src/worker/item-writer';
import { jsonWriter } from '../../src/worker/json-writer';
import { decodeEvent, decodeSpan } from '../../src/worker/records';
import { createWallClock } from '../../src/worker/wall-clock';
import { Unpackr } from 'msgpackr';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number' });
const unpack = (bytes: Uint8Array): unknown => unpackr.unpack(bytes);

const T0 = 1_721_500_000_000;
const SLUG = 'vivid-kudu-655';
const RESOURCE: WireResource = {
  service: 'checkout "api"',
  environment: 'prod',
  host: 'hôte-1',
  pid: 4242,
  sdk: { name: 'teracron-node', version: '0.1.0' },
  runtime: { name: 'node', version: '20.20.0' },
};

const SPANS: SpanInput[] = [
  { workflow: 'checkout', operation: 'pay', startedAt: T0, durationMs: 12.5 },
  { workflow: 'checkout', startTime: performance.now() - 3.25, endTime: performance.now(), traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentSpanId: '00f067aa0ba902b700f067aa0ba902b7' },
  { workflow: 'w', status: 'failed', errorType: 'CardDeclined', errorMessage: 'card "4242" declined\n\ttry again \\ later', startedAt: T0 + 1, durationMs: 0.001 },
  { workflow: 'w', status: 'failed', errorMessage: 'no type given', startedAt: T0 + 2, durationMs: 1 },
  { workflow: 'w', status: 'failed', errorType: 'OnlyType', startedAt: T0 + 3, durationMs: 1 },
  { workflow: 'w', status: 'started', startedAt: T0 + 4 },
  { workflow: 'émoji 🚀 wörkflow', operation: '操作', startedAt: T0 + 5, durationMs: 2 },
  {
    workflow: 'meta',
    startedAt: T0 + 6,
    durationMs: 7,
    metadata: {
      small: 5, byte: 200, short: 60_000, word: 4_000_000_000, neg: -3, neg8: -100, neg16: -30_000, neg32: -2_000_000_000,
      big: 2 ** 40, float: 0.1, negFloat: -1.5, zero: 0, yes: true, no: false, empty: '', nul: 'a\u0000b\u001fc\u007f',
      unicode: 'naïve café ☕ 𝄞', long: 'x'.repeat(300), wide: 'é'.repeat(100), wider: '€'.repeat(90), __proto__: 'kept as a key',
    },
    capturedParams: { id: 7, q: 'search "terms"' },
  },
  { workflow: 'many', startedAt: T0 + 7, durationMs: 1, metadata: Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, i])) },
  { workflow: 'long', startedAt: T0 + 8, durationMs: 1, errorType: 'E', errorMessage: 'ü'.repeat(1024) },
];

const EVENTS: EventInput[] = [
  { name: 'order.placed', type: 'info', message: 'order 7', workflow: 'checkout', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', timestamp: T0, metadata: { total: 42.5 } },
  { name: 'payment.failed', type: 'error' },
  { name: 'empty message', type: 'custom', message: '', metadata: { a: 'b' } },
  { name: 'quote"name', type: 'warning', message: 'line\nbreak ☃', spanId: '00f067aa0ba902b700f067aa0ba902b7', timestamp: T0 + 1 },
];

interface Encoded {
  direct: Record<WireFormat, Uint8Array>;
  objects: Array<WireSpan | WireEvent>;
  /** msgpack bytes of each item, cut out of the direct batch. */
  items: Uint8Array[];
}

/** Records `inputs`, then encodes each record as an object (records.ts) and straight into a batch of each format. */
function encodeBoth(type: 'trace' | 'event', inputs: Array<SpanInput | EventInput>, batchId: string): Encoded {
  const sab = createRingBuffer(1 << 20);
  const rec = createRecorder(sab);
  for (const input of inputs) {
    const ok = type === 'trace' ? recordSpanInput(rec, input as SpanInput) : recordEventInput(rec, input as EventInput);
    assert.equal(ok, true);
  }
  const reader = createRingReader(sab);
  const clock = createWallClock(performance.timeOrigin);
  const batches = { msgpack: createItemBatch('msgpack', { type, slug: SLUG, resource: RESOURCE }), json: createItemBatch('json', { type, slug: SLUG, resource: RESOURCE }) };
  const objects: Array<WireSpan | WireEvent> = [];
  const items: Uint8Array[] = [];
  drainRecords(reader, (kindAndFlags, pos) => {
    const span = (kindAndFlags & 0xff) === KIND_SPAN;
    assert.equal(kindAndFlags & 0xff, span ? KIND_SPAN : KIND_EVENT);
    objects.push(span ? decodeSpan(reader, pos, kindAndFlags, clock) : decodeEvent(reader, pos, kindAndFlags, clock));
    for (const batch of [batches.msgpack, batches.json]) {
      const before = batch.out.pos;
      (span ? encodeSpan : encodeEvent)(batch.writer, batch.out, batch.count++, reader, pos, kindAndFlags, clock);
      if (batch === batches.msgpack) items.push(Uint8Array.from(batch.out.buf.subarray(before, batch.out.pos)));
    }
    return false;
  });
  return { direct: { msgpack: Uint8Array.from(finishItemBatch(batches.msgpack, batchId)), json: Uint8Array.from(finishItemBatch(batches.json, batchId)) }, objects, items };
}

function referenceBatch(type: 'trace' | 'event', objects: Array<WireSpan | WireEvent>, batchId: string) {
  return type === 'trace'
    ? { type, project_slug: SLUG, batch_id: batchId, resource: RESOURCE, spans: objects as WireSpan[] }
    : { type, project_slug: SLUG, batch_id: batchId, resource: RESOURCE, events: objects as WireEvent[] };
}

for (const [type, inputs] of [['trace', SPANS], ['event', EVENTS]] as const) {
  test(`${type} records written directly as JSON are byte for byte what JSON.stringify writes`, () => {
    const batchId = newBatchId();
    const { direct, objects } = encodeBoth(type, inputs, batchId);
    assert.equal(objects.length, inputs.length);
    const expected = encodeBatch(referenceBatch(type, objects, batchId), 'json');
    assert.equal(Buffer.from(direct.json).toString('utf8'), expected.toString('utf8'));
  });

  test(`${type} records written directly as msgpack decode to the same batch, item by item`, () => {
    const batchId = newBatchId();
    const { direct, objects, items } = encodeBoth(type, inputs, batchId);
    assert.deepEqual(decodeBatch(direct.msgpack), referenceBatch(type, objects, batchId));
    objects.forEach((object, i) => {
      assert.deepEqual(unpack(items[i]!), object, `item ${i}`);
      // msgpackr gives every object a map16 header; the direct writer uses the smallest one.
      assert.ok(items[i]!.length <= encodeWireValue(object, 'msgpack').length, `item ${i} is no longer than msgpackr's`);
    });
  });
}

test('a lone surrogate is written as U+FFFD in msgpack (valid UTF-8) and as \\udxxx in JSON, like JSON.stringify', () => {
  const batchId = newBatchId();
  const input: SpanInput = { workflow: 'w', startedAt: T0, durationMs: 1, errorType: 'E', errorMessage: `cut \ud83d here, and \udc00 alone, pair \ud83d\ude80 kept`, metadata: { end: 'tail\ud800' } };
  const { direct, objects } = encodeBoth('trace', [input], batchId);
  assert.equal(Buffer.from(direct.json).toString('utf8'), encodeBatch(referenceBatch('trace', objects, batchId), 'json').toString('utf8'));
  const span = (decodeBatch(direct.msgpack) as { spans: WireSpan[] }).spans[0]!;
  assert.equal(span.error_message, 'cut \ufffd here, and \ufffd alone, pair \ud83d\ude80 kept');
  assert.equal(span.metadata.end, 'tail\ufffd');
});

test('a reused batch starts empty, with its own batch_id and item count', () => {
  for (const format of ['msgpack', 'json'] as const) {
    const sab = createRingBuffer(1 << 16);
    const rec = createRecorder(sab);
    const reader = createRingReader(sab);
    const clock = createWallClock(performance.timeOrigin);
    const batch: ItemBatch = createItemBatch(format, { type: 'trace', slug: SLUG, resource: RESOURCE });
    const ids: string[] = [];
    for (const count of [3, 1]) {
      for (let i = 0; i < count; i++) recordSpanInput(rec, { workflow: 'w', startedAt: T0 + i, durationMs: i });
      drainRecords(reader, (kindAndFlags, pos) => {
        encodeSpan(batch.writer, batch.out, batch.count++, reader, pos, kindAndFlags, clock);
        return false;
      });
      const id = newBatchId();
      ids.push(id);
      const decoded = decodeBatch(finishItemBatch(batch, id)) as { batch_id: string; spans: WireSpan[] };
      assert.equal(decoded.batch_id, id);
      assert.deepEqual(decoded.spans.map((s) => s.started_at), Array.from({ length: count }, (_, i) => T0 + i));
      resetItemBatch(batch);
    }
    assert.notEqual(ids[0], ids[1]);
  }
});

test('JSON numbers are written as JSON.stringify writes them, integers digit by digit included', () => {
  const out = createOutBuffer(8);
  const edges = [0, -0, 1, 9, 10, -1, -10, 99, 100, T0, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53, 1.5, -0.25, 1e21, 5e-7, Number.NaN, Number.POSITIVE_INFINITY];
  // A fixed spread of magnitudes rather than random ones, so a failure names the same value every run.
  const spread = Array.from({ length: 54 }, (_, bits) => [2 ** bits - 1, -(2 ** bits) + 3, Math.floor(2 ** bits / 3)]).flat();
  for (const value of [...edges, ...spread]) {
    out.pos = 0;
    jsonWriter.number(out, value);
    assert.equal(out.buf.toString('latin1', 0, out.pos), JSON.stringify(value), `the number ${value}`);
  }
});

test('started_at and timestamp are msgpack integers (uint64), as SPEC §3 has them, not float64', () => {
  const batchId = newBatchId();
  for (const [type, inputs, key] of [['trace', [SPANS[0]!], 'started_at'], ['event', [EVENTS[0]!], 'timestamp']] as const) {
    const { items } = encodeBoth(type, [...inputs], batchId);
    const item = Buffer.from(items[0]!);
    const at = item.indexOf(encodeWireValue(key, 'msgpack')) + key.length + 1;
    assert.equal(item[at], 0xcf, `${key} is a uint64`);
    assert.equal(item.readBigUInt64BE(at + 1), BigInt(T0));
  }
});
