/** The structure scan that refuses decode bombs before JSON.parse or msgpackr builds them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Packr } from 'msgpackr';
import { decodeBatch, encodeBatch } from '../../src/wire/batch-codec';
import type { WireSpan } from '../../src/wire/batch-codec';
import { decodeMetricsBatch, encodeMetricsBatch } from '../../src/wire/metrics-batch';
import { checkJsonBounds, checkMsgpackBounds } from '../../src/wire/structure-bounds';
import type { StructureBounds } from '../../src/wire/structure-bounds';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const BOUNDS: StructureBounds = { maxArray: 100_000, maxMapKeys: 64, maxDepth: 8, maxValues: 4_000_000 };
const packr = new Packr({ useRecords: false, variableMapSize: true });

function span(i: number): WireSpan {
  const metadata: Record<string, string | number | boolean> = {};
  for (let k = 0; k < 32; k++) metadata[`key-${k}`] = k % 3 === 0 ? `v{,}[${k}]"` : k % 3 === 1 ? k * 1.5 : true;
  return {
    trace_id: i.toString(16).padStart(32, '0'), span_id: (i + 1).toString(16).padStart(32, '0'), parent_span_id: null,
    workflow: 'w', operation: 'o', status: 'succeeded', started_at: 1_764_000_000_000 + i, duration_ms: 1.25,
    error_type: null, error_message: null, metadata, captured_params: { ...metadata },
  };
}

test('SPEC batches at their limits pass, JSON and msgpack, and decode as before', () => {
  const batch = { type: 'trace' as const, project_slug: 'p', batch_id: 'a'.repeat(32), resource: { service: 's', environment: 'prod', host: 'h', pid: 1, sdk: { name: 'n', version: '1' }, runtime: { name: 'node', version: '20' } }, spans: Array.from({ length: 2000 }, (_, i) => span(i)) };
  for (const format of ['json', 'msgpack'] as const) {
    const bytes = encodeBatch(batch, format);
    assert.deepEqual(decodeBatch(bytes, BOUNDS), decodeBatch(bytes), format);
  }
});

test('a msgpack map of a million keys is refused with its size, before decoding', () => {
  const bomb: Record<string, number> = {};
  for (let i = 0; i < 1_000_000; i++) bomb[`k${i}`] = i;
  const bytes = packr.pack({ type: 'trace', project_slug: 'p', spans: [{ metadata: bomb }] });
  assert.throws(() => checkMsgpackBounds(bytes, BOUNDS), /holds a map of 1000000 entries: no SPEC batch has more than 64/);
  assert.throws(() => decodeBatch(bytes, BOUNDS), /holds a map of 1000000 entries/);
});

test('a JSON object of a million keys is refused at its 65th key; braces and commas inside strings do not count', () => {
  const keys = Array.from({ length: 1_000_000 }, (_, i) => `"k${i}":1`).join(',');
  const text = `{"type":"trace","project_slug":"p","spans":[{"metadata":{${keys}}}]}`;
  assert.throws(() => checkJsonBounds(text, BOUNDS), /holds an object of 65 entries: no SPEC batch has more than 64/);
  const tricky = `{"a":"{[,,,,]}\\"{,,,}","b":[1,2,3],"c":{"d":"}}}]]],,,"}}`;
  checkJsonBounds(tricky, { ...BOUNDS, maxMapKeys: 3, maxArray: 3 });
  assert.throws(() => checkJsonBounds(tricky, { ...BOUNDS, maxMapKeys: 2 }), /an object of 3 entries/);
});

test('arrays past the record limit, nesting past the depth and too many values are refused', () => {
  assert.throws(() => checkMsgpackBounds(packr.pack({ spans: new Array(100_001).fill(0) }), BOUNDS), /an array of 100001 entries: no SPEC batch has more than 100000/);
  assert.throws(() => checkJsonBounds(`{"spans":[${new Array(100_001).fill(0).join(',')}]}`, BOUNDS), /an array of 100001 entries/);
  let deep: unknown = 1;
  for (let i = 0; i < 8; i++) deep = [deep];
  assert.throws(() => checkMsgpackBounds(packr.pack({ spans: deep }), BOUNDS), /nests containers more than 8 deep/);
  assert.throws(() => checkJsonBounds(JSON.stringify({ spans: deep }), BOUNDS), /nests containers more than 8 deep/);
  checkMsgpackBounds(packr.pack({ spans: [[[[[[1]]]]]] }), BOUNDS);
  const wide = { spans: Array.from({ length: 1000 }, () => Array.from({ length: 1000 }, () => 0)) };
  assert.throws(() => checkMsgpackBounds(packr.pack(wide), { ...BOUNDS, maxValues: 500_000 }), /more than 500000 values/);
  assert.throws(() => checkJsonBounds(JSON.stringify(wide), { ...BOUNDS, maxValues: 500_000 }), /more than 500000 values/);
});

test('a truncated msgpack body is left to the decoder to report', () => {
  const bytes = packr.pack({ type: 'trace', project_slug: 'p', spans: [span(1)] });
  checkMsgpackBounds(bytes.subarray(0, bytes.length - 10), BOUNDS);
  assert.throws(() => decodeBatch(bytes.subarray(0, bytes.length - 10), BOUNDS), /not valid msgpack/);
});

test('a MetricsBatch past maxEntries is refused at the first entry over', () => {
  const entry = { timestamp: 1_764_000_000_000, heap_total: 1, heap_used: 1, rss: 1, external: 0, array_buffers: 0, cpu_usage_pct: 0, event_loop_lag: 0 };
  const bytes = encodeMetricsBatch({ entries: new Array(11).fill(entry), sdk_version: '1', runtime_version: '20' });
  assert.equal(decodeMetricsBatch(bytes, 11).entries.length, 11);
  assert.throws(() => decodeMetricsBatch(bytes, 10), /holds more than 10 entries/);
});
