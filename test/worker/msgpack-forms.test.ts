/**
 * The msgpack forms the worker writes: integers beyond 32 bits as uint64/int64 (SPEC §3 has
 * timestamps as integers, msgpackr writes float64), every number read back unchanged by the
 * collector's decoder; and items made as objects (lifecycle events) in the same forms.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBatch, encodeWireValue } from '../../src/wire/batch-codec';
import type { WireSpan } from '../../src/wire/batch-codec';
import { createOutBuffer } from '../../src/worker/item-writer';
import type { OutBuffer } from '../../src/worker/item-writer';
import { lifecycleEvents } from '../../src/worker/lifecycle-events';
import { writeNumber } from '../../src/worker/msgpack-forms';
import { writeMsgpackValue } from '../../src/worker/msgpack-value';
import { msgpackWriter } from '../../src/worker/msgpack-writer';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(30_000);

const T0 = 1_721_500_000_000;

function written(write: (o: OutBuffer) => void): Buffer {
  const out = createOutBuffer(4);
  write(out);
  return Buffer.from(out.buf.subarray(0, out.pos));
}

/** `value` inside a one-log batch, read by the collector's decoder (batch-codec.ts decodeBatch). */
function readByCollector(valueBytes: Uint8Array): unknown {
  const batch = Buffer.concat([
    encodeWireValue({ type: 'log', project_slug: 'vivid-kudu-655', logs: [] }, 'msgpack').subarray(0, -1),
    Buffer.from([0x91, 0x81]),
    encodeWireValue('timestamp', 'msgpack'),
    valueBytes,
  ]);
  return (decodeBatch(batch) as { logs: Array<{ timestamp: unknown }> }).logs[0]!.timestamp;
}

test('a number is written in the smallest exact form, integers beyond 32 bits as uint64/int64', () => {
  const cases: Array<[number, number, number]> = [
    // value, first byte, total bytes
    [0, 0x00, 1], [-0, 0x00, 1], [127, 0x7f, 1], [128, 0xcc, 2], [-32, 0xe0, 1], [-33, 0xd0, 2],
    [2 ** 32 - 1, 0xce, 5], [-(2 ** 31), 0xd2, 5],
    [2 ** 32, 0xcf, 9], [2 ** 32 + 1, 0xcf, 9], [T0, 0xcf, 9], [Number.MAX_SAFE_INTEGER, 0xcf, 9],
    [-(2 ** 31) - 1, 0xd3, 9], [-(2 ** 32) - 1, 0xd3, 9], [-T0, 0xd3, 9], [Number.MIN_SAFE_INTEGER, 0xd3, 9],
    [2 ** 53, 0xcb, 9], [-(2 ** 53), 0xcb, 9], [1e300, 0xcb, 9], [0.5, 0xcb, 9], [T0 + 0.5, 0xcb, 9], [5e-324, 0xcb, 9],
    [Number.NaN, 0xcb, 9], [Number.POSITIVE_INFINITY, 0xcb, 9], [Number.NEGATIVE_INFINITY, 0xcb, 9],
  ];
  for (const [value, first, length] of cases) {
    const bytes = written((o) => writeNumber(o, value));
    assert.equal(bytes[0], first, `first byte for ${value}: 0x${bytes[0]!.toString(16)}`);
    assert.equal(bytes.length, length, `length for ${value}`);
    // -0 is written as 0, as msgpackr (and JSON) write it.
    assert.equal(readByCollector(bytes), Object.is(value, -0) ? 0 : value, `the collector reads back ${value}`);
  }
});

const beyond32Bits = (value: number): boolean => Number.isSafeInteger(value) && (value > 0xffff_ffff || value < -0x8000_0000);

test('uint64 and int64 carry the exact value across the 32-bit word boundary', () => {
  for (let bits = 32; bits <= 53; bits++) {
    for (const value of [2 ** bits - 1, 2 ** bits - 2 ** 31, -(2 ** bits) + 1, -(2 ** bits) - 2 ** 31 + 7].filter(beyond32Bits)) {
      const bytes = written((o) => writeNumber(o, value));
      const expected = BigInt.asUintN(64, BigInt(value));
      assert.equal(bytes.readBigUInt64BE(1), expected, `the 64 bits of ${value}`);
      assert.equal(readByCollector(bytes), value);
    }
  }
});

test('lifecycle events made as objects are written in the forms of the records: integer timestamps', () => {
  const span: WireSpan = {
    trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b700f067aa0ba902b7', parent_span_id: null,
    workflow: 'checkout ☕', operation: 'pay', status: 'failed', started_at: T0, duration_ms: 12.345,
    error_type: 'CardDeclined', error_message: `declined \ud83d alone, 🚀 kept ${'x'.repeat(300)}`, metadata: {}, captured_params: {},
  };
  for (const event of lifecycleEvents(span)) {
    const bytes = written((o) => msgpackWriter.value(o, event));
    const timestampAt = bytes.indexOf(encodeWireValue('timestamp', 'msgpack')) + 'timestamp'.length + 1;
    assert.equal(bytes[timestampAt], 0xcf, 'the timestamp is a uint64');
    const batch = Buffer.concat([
      encodeWireValue({ type: 'event', project_slug: 'vivid-kudu-655', events: [] }, 'msgpack').subarray(0, -1),
      Buffer.from([0x91]),
      bytes,
    ]);
    const read = (decodeBatch(batch) as { events: unknown[] }).events[0];
    // What msgpackr would have given, with a lone surrogate as U+FFFD (valid UTF-8, as the record writer writes it).
    const expected = { ...event, message: event.message === null ? null : event.message.replace('\ud83d ', '\ufffd ') };
    assert.deepEqual(read, expected);
  }
});

test('a value of any wire shape decodes as msgpackr would encode it', () => {
  // Strings below and above the length where the writer stops encoding them itself, lone surrogates at their ends.
  const mixed = (units: number): string => 'a\ud83d é€\u07ff\u0800🚀\udc00 \ude80\ud83d'.repeat(units).slice(0, units);
  const value = {
    a: [1, -1, 2 ** 40, 0.25, 'é', true, false, null], b: { nested: { deep: 'x'.repeat(40) } }, u: undefined, long: '€'.repeat(30_000), list: Array.from({ length: 20 }, (_, i) => i),
    strings: [0, 1, 2, 10, 31, 32, 63, 64, 65, 200].map(mixed), [mixed(11)]: 'key with lone surrogates',
  };
  const bytes = written((o) => writeMsgpackValue(o, value));
  const batch = Buffer.concat([encodeWireValue({ type: 'log', project_slug: 's', logs: [] }, 'msgpack').subarray(0, -1), Buffer.from([0x91]), bytes]);
  const wellFormed = (text: string): string => Buffer.from(text, 'utf8').toString('utf8');
  const { [mixed(11)]: keyed, ...rest } = value;
  assert.deepEqual((decodeBatch(batch) as { logs: unknown[] }).logs[0], { ...rest, u: null, strings: value.strings.map(wellFormed), [wellFormed(mixed(11))]: keyed });
  assert.throws(() => writeMsgpackValue(createOutBuffer(4), { f: Symbol('s') }), /not a symbol/);
});
