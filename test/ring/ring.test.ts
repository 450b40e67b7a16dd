/**
 * The shared ring in one thread: the recorder writes, the worker's reader and decoders read the
 * same SharedArrayBuffer. Deterministic, and it pins the byte layout both sides agree on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import {
  HEAD,
  KIND_EVENT,
  KIND_PAD,
  KIND_SPAN,
  KIND_STRING,
  KIND_STRINGS_RESET,
  MAX_INTERNED_STRINGS,
  MAX_NAME_CHARS,
  STATUS_SUCCEEDED,
  TAIL,
  createRingBuffer,
  ringViews,
} from '../../src/ring/layout';
import { createRingReader, drainRecords, pendingBytes } from '../../src/ring/reader';
import type { RingReader } from '../../src/ring/reader';
import { createRingWriter, intern, publish, stringsAt } from '../../src/ring/writer';
import type { RingWriter } from '../../src/ring/writer';
import { idWordsFrom, idWordsToHex, newIdWords } from '../../src/recorder/ids';
import type { IdWords } from '../../src/recorder/ids';
import { createRecorder, recordEventInput, recordSpanInput } from '../../src/recorder/recorder';
import type { Recorder, SpanInput } from '../../src/recorder/recorder';
import { writeSpan } from '../../src/recorder/span-writer';
import type { SpanFields } from '../../src/recorder/span-writer';
import { decodeEvent, decodeSpan } from '../../src/worker/records';
import { createWallClock } from '../../src/worker/wall-clock';
import type { WallClock } from '../../src/worker/wall-clock';
import type { WireEvent, WireSpan } from '../../src/wire/batch-codec';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const T0 = 1_721_500_000_000;
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b700f067aa0ba902b7';
const PARENT = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const HEX32 = /^[0-9a-f]{32}$/;

interface Ring {
  sab: SharedArrayBuffer;
  rec: Recorder;
  reader: RingReader;
  clock: WallClock;
}

function setup(capacity = 4096): Ring {
  const sab = createRingBuffer(capacity);
  return { sab, rec: createRecorder(sab), reader: createRingReader(sab), clock: createWallClock(performance.timeOrigin) };
}

function drainSpans({ reader, clock }: Ring, stopAt?: number): WireSpan[] {
  const spans: WireSpan[] = [];
  drainRecords(reader, (kindAndFlags, pos) => {
    assert.equal(kindAndFlags & 0xff, KIND_SPAN);
    spans.push(decodeSpan(reader, pos, kindAndFlags, clock));
    return false;
  }, stopAt);
  return spans;
}

function drainEvents({ reader, clock }: Ring): WireEvent[] {
  const events: WireEvent[] = [];
  drainRecords(reader, (kindAndFlags, pos) => {
    assert.equal(kindAndFlags & 0xff, KIND_EVENT);
    events.push(decodeEvent(reader, pos, kindAndFlags, clock));
    return false;
  });
  return events;
}

function onlySpan(ring: Ring, input: SpanInput): WireSpan {
  assert.equal(recordSpanInput(ring.rec, input), true);
  const spans = drainSpans(ring);
  assert.equal(spans.length, 1);
  return spans[0]!;
}

function metadataOf(ring: Ring, metadata: Record<string, unknown>): WireSpan['metadata'] {
  return onlySpan(ring, { workflow: 'w', startedAt: T0, metadata }).metadata;
}

/** The published, unread records, PAD and string bookkeeping included: kind and position. */
function pendingRecords(sab: SharedArrayBuffer): Array<{ kind: number; pos: number }> {
  const { ctrl, i32, mask } = ringViews(sab);
  const head = Atomics.load(ctrl, HEAD);
  let tail = Atomics.load(ctrl, TAIL);
  const records: Array<{ kind: number; pos: number }> = [];
  while (((head - tail) | 0) > 0) {
    const pos = tail & mask;
    records.push({ kind: i32[(pos >> 2) + 1]! & 0xff, pos });
    tail = (tail + i32[pos >> 2]!) | 0;
  }
  return records;
}

function pendingKinds(sab: SharedArrayBuffer): number[] {
  return pendingRecords(sab).map((record) => record.kind);
}

/** Interns throwaway strings until the producer's table holds `size`, draining as it goes. */
function fillStringTable(ring: Ring, size: number): void {
  const w: RingWriter = ring.rec.writer;
  for (let i = 0; w.strings.size < size; i++) {
    assert.ok(intern(w, `filler-${i}`, MAX_NAME_CHARS) >= 0);
    publish(w);
    if (i % 64 === 63) drainRecords(ring.reader, () => false);
  }
  drainRecords(ring.reader, () => false);
}

function spanFields(overrides: Partial<SpanFields> & { traceWords?: IdWords; spanWords?: IdWords; parentWords?: IdWords | null }): SpanFields {
  const { traceWords = newIdWords(), spanWords = newIdWords(), parentWords = null, ...rest } = overrides;
  return {
    ...spanWords, trace: traceWords, parent: parentWords,
    workflow: 'w', operation: 'w', status: STATUS_SUCCEEDED, start: T0, end: T0, wallClock: true,
    errorType: null, errorMessage: null, metadata: null, capturedParams: null, ...rest,
  };
}

// --- spans: every field ---------------------------------------------------------------------

test('a failed span with ids, wall-clock start, error, metadata and captured params decodes to the exact wire span', () => {
  const span = onlySpan(setup(), {
    workflow: 'payment', operation: 'charge', traceId: TRACE, spanId: SPAN, parentSpanId: PARENT,
    status: 'failed', startedAt: T0, durationMs: 142.5, errorType: 'CardError', errorMessage: 'card declined',
    metadata: { region: 'us-east', retries: 2, ratio: 0.1, big: Number.MAX_VALUE, neg: -1.5, cached: false, live: true },
    capturedParams: { amount: 42.5, currency: 'EUR', vip: true },
  });
  assert.deepEqual(span, {
    trace_id: TRACE, span_id: SPAN, parent_span_id: PARENT, workflow: 'payment', operation: 'charge',
    status: 'failed', started_at: T0, duration_ms: 142.5, error_type: 'CardError', error_message: 'card declined',
    metadata: { region: 'us-east', retries: 2, ratio: 0.1, big: Number.MAX_VALUE, neg: -1.5, cached: false, live: true },
    captured_params: { amount: 42.5, currency: 'EUR', vip: true },
  });
});

test('a minimal span defaults operation to the workflow, status to succeeded, and carries no error, metadata or parent', () => {
  const span = onlySpan(setup(), { workflow: 'checkout', traceId: TRACE, spanId: SPAN, startedAt: T0, durationMs: 3 });
  assert.deepEqual(span, {
    trace_id: TRACE, span_id: SPAN, parent_span_id: null, workflow: 'checkout', operation: 'checkout',
    status: 'succeeded', started_at: T0, duration_ms: 3, error_type: null, error_message: null,
    metadata: {}, captured_params: {},
  });
});

test('a failed span with an error message and no error type gets error_type "Error"', () => {
  const span = onlySpan(setup(), { workflow: 'w', status: 'failed', startedAt: T0, errorMessage: 'boom' });
  assert.equal(span.error_type, 'Error');
  assert.equal(span.error_message, 'boom');
});

test('a started span decodes with status started and duration 0', () => {
  const span = onlySpan(setup(), { workflow: 'w', status: 'started', startedAt: T0, durationMs: 50 });
  assert.equal(span.status, 'started');
  assert.equal(span.duration_ms, 0);
});

test('the duration is rounded to the microsecond', () => {
  assert.equal(onlySpan(setup(), { workflow: 'w', startedAt: T0, durationMs: 0.1231234 }).duration_ms, 0.123);
});

test('performance.now() start and end become unix ms through the wall clock', () => {
  const ring = setup();
  const span = onlySpan(ring, { workflow: 'w', startTime: 1000.25, endTime: 1012.75 });
  assert.equal(span.started_at, Math.round(ring.clock.producerOrigin + 1000.25 + ring.clock.offset));
  assert.equal(span.duration_ms, 12.5);
});

// --- ids -----------------------------------------------------------------------------------

test('ids from newIdWords decode to the hex idWordsToHex gives', () => {
  const ring = setup();
  const traceId = newIdWords();
  const spanId = newIdWords();
  const parentId = newIdWords();
  assert.equal(writeSpan(ring.rec.writer, spanFields({ traceWords: traceId, spanWords: spanId, parentWords: parentId })), true);
  const span = drainSpans(ring)[0]!;
  assert.equal(span.trace_id, idWordsToHex(traceId));
  assert.equal(span.span_id, idWordsToHex(spanId));
  assert.equal(span.parent_span_id, idWordsToHex(parentId));
  assert.match(span.trace_id, HEX32);
});

test('ids given as 16 raw bytes decode to their hex', () => {
  const span = onlySpan(setup(), {
    workflow: 'w', startedAt: T0, traceId: Buffer.from(TRACE, 'hex'), spanId: new Uint8Array(Buffer.from(SPAN, 'hex')),
    parentSpanId: Buffer.from(PARENT, 'hex'),
  });
  assert.deepEqual([span.trace_id, span.span_id, span.parent_span_id], [TRACE, SPAN, PARENT]);
});

test('uppercase hex ids decode to the same id in lowercase', () => {
  const span = onlySpan(setup(), { workflow: 'w', startedAt: T0, traceId: TRACE.toUpperCase(), parentSpanId: PARENT.toUpperCase() });
  assert.equal(span.trace_id, TRACE);
  assert.equal(span.parent_span_id, PARENT);
});

test('idWordsFrom and idWordsToHex round-trip a hex id', () => {
  assert.equal(idWordsToHex(idWordsFrom(TRACE)!), TRACE);
});

test('a malformed trace id gives a fresh random trace id, different for each span', () => {
  const ring = setup();
  for (const traceId of ['not-hex', TRACE.slice(1), `${TRACE}0`, '0'.repeat(32), 'g'.repeat(32)]) {
    assert.equal(recordSpanInput(ring.rec, { workflow: 'w', startedAt: T0, traceId }), true);
    assert.equal(recordSpanInput(ring.rec, { workflow: 'w', startedAt: T0, traceId }), true);
  }
  const ids = drainSpans(ring).map((span) => span.trace_id);
  assert.equal(ids.length, 10);
  for (const id of ids) {
    assert.match(id, HEX32);
    assert.notEqual(id, '0'.repeat(32));
  }
  assert.equal(new Set(ids).size, 10);
});

test('a malformed span id gives a fresh random span id', () => {
  const span = onlySpan(setup(), { workflow: 'w', startedAt: T0, spanId: 'xyz' });
  assert.match(span.span_id, HEX32);
  assert.notEqual(span.span_id, '0'.repeat(32));
});

test('a malformed or all-zero parent id gives a root span', () => {
  const ring = setup();
  for (const parentSpanId of ['nope', PARENT.slice(2), '0'.repeat(32), new Uint8Array(8), null]) {
    assert.equal(recordSpanInput(ring.rec, { workflow: 'w', startedAt: T0, parentSpanId }), true);
  }
  assert.deepEqual(drainSpans(ring).map((span) => span.parent_span_id), [null, null, null, null, null]);
});

// --- wrap-around and a full ring -----------------------------------------------------------

/** A deterministic spread of note lengths: a quarter of them 0-23 units, the rest 0-300. */
function noteLength(i: number): number {
  const hash = (seed: number): number => Math.imul(i ^ seed, 0x9e3779b1) >>> 16;
  return hash(7) % 4 === 0 ? hash(3) % 24 : hash(1) % 301;
}

function wrapSpan(i: number): SpanInput {
  return {
    workflow: `wf-${i % 13}`, operation: `op-${i % 11}`, startedAt: T0 + i, durationMs: i % 100,
    metadata: { seq: i, note: 'n'.repeat(noteLength(i)), even: i % 2 === 0 },
  };
}

test('thousands of spans of varying size wrap around a 4096-byte ring and decode in order', () => {
  const ring = setup(4096);
  const TOTAL = 10_000;
  const spanStarts = new Set<number>();
  let pads = 0;
  let exactFits = 0;
  let next = 0;
  for (let i = 0; i < TOTAL; i++) {
    assert.equal(recordSpanInput(ring.rec, wrapSpan(i)), true, `span ${i}`);
    if (i % 3 !== 2 && i !== TOTAL - 1) continue;
    pads += pendingKinds(ring.sab).filter((kind) => kind === KIND_PAD).length;
    drainRecords(ring.reader, (kindAndFlags, pos) => {
      spanStarts.add(pos);
      if (pos + ringViews(ring.sab).i32[pos >> 2]! === 4096) exactFits++;
      const span = decodeSpan(ring.reader, pos, kindAndFlags, ring.clock);
      const input = wrapSpan(next);
      assert.equal(span.workflow, input.workflow, `span ${next}`);
      assert.equal(span.operation, input.operation, `span ${next}`);
      assert.equal(span.started_at, T0 + next, `span ${next}`);
      assert.equal(span.duration_ms, next % 100, `span ${next}`);
      assert.deepEqual(span.metadata, input.metadata, `span ${next}`);
      next++;
      return false;
    });
  }
  assert.equal(next, TOTAL);
  assert.equal(ring.rec.produced, TOTAL);
  assert.equal(ring.rec.droppedRingFull, 0);
  assert.equal(pendingBytes(ring.reader), 0);
  // The smallest of these spans takes 128 bytes (80 + 4 + 20 + 12 + 8, padded), so a span can start
  // at 0 or anywhere from 128 to 4096 - 128; every one of those 8-byte offsets was used.
  const feasible = [0];
  for (let pos = 128; pos <= 4096 - 128; pos += 8) feasible.push(pos);
  assert.deepEqual(feasible.filter((pos) => !spanStarts.has(pos)), []);
  // Both ways of reaching the end occurred: a PAD record, and a span ending exactly at it.
  assert.ok(pads > 500, `${pads} PAD records`);
  assert.ok(exactFits > 0, `${exactFits} exact fits`);
});

test('HEAD and TAIL keep working when they overflow int32', () => {
  const sab = createRingBuffer(4096);
  const { ctrl } = ringViews(sab);
  Atomics.store(ctrl, HEAD, 0x7fffff00);
  Atomics.store(ctrl, TAIL, 0x7fffff00);
  const ring: Ring = { sab, rec: createRecorder(sab), reader: createRingReader(sab), clock: createWallClock(performance.timeOrigin) };
  const decoded: WireSpan[] = [];
  for (let i = 0; i < 100; i++) {
    assert.equal(recordSpanInput(ring.rec, wrapSpan(i)), true);
    decoded.push(...drainSpans(ring));
  }
  assert.ok(Atomics.load(ctrl, HEAD) < 0);
  assert.equal(Atomics.load(ctrl, TAIL), Atomics.load(ctrl, HEAD));
  assert.deepEqual(decoded.map((span) => span.metadata), Array.from({ length: 100 }, (_, i) => wrapSpan(i).metadata));
});

test('without draining, writes start failing, and droppedRingFull counts exactly the failures', () => {
  const ring = setup(4096);
  const results: boolean[] = [];
  for (let i = 0; i < 100; i++) results.push(recordSpanInput(ring.rec, { workflow: 'fill', startedAt: T0, metadata: { i, pad: 'p'.repeat(100) } }));
  // Strings 'fill', 'i', 'pad' take 24 + 16 + 24 bytes; each span 80 + 4 + 20 + 212 = 316, padded to 320.
  // (4096 - 64) / 320 = 12.6, so the first 12 fit and everything after them is dropped.
  assert.deepEqual(results, Array.from({ length: 100 }, (_, i) => i < 12));
  assert.equal(ring.rec.droppedRingFull, 88);
  assert.equal(ring.rec.produced, 100);
  const spans = drainSpans(ring);
  assert.deepEqual(spans.map((span) => span.metadata['i']), Array.from({ length: 12 }, (_, i) => i));
  assert.equal(ring.rec.produced, spans.length + ring.rec.droppedRingFull);
});

test('once drained, a full ring accepts spans again', () => {
  const ring = setup(4096);
  while (recordSpanInput(ring.rec, { workflow: 'fill', startedAt: T0, metadata: { pad: 'p'.repeat(200) } }));
  drainSpans(ring);
  assert.equal(recordSpanInput(ring.rec, { workflow: 'after', startedAt: T0 }), true);
  assert.deepEqual(drainSpans(ring).map((span) => span.workflow), ['after']);
});

test('a string interned for a span that did not fit still crosses, so a later span using it decodes', () => {
  const ring = setup(4096);
  // 'w' takes 24 bytes and each bare span 80: 24 + 50 × 80 = 4024, leaving 72 bytes.
  for (let i = 0; i < 50; i++) assert.equal(recordSpanInput(ring.rec, { workflow: 'w', startedAt: T0 }), true);
  // 'late' (24 bytes) fits in the 72, its span (80) does not.
  assert.equal(recordSpanInput(ring.rec, { workflow: 'late', startedAt: T0 }), false);
  assert.deepEqual(pendingKinds(ring.sab), [KIND_STRING, ...Array<number>(50).fill(KIND_SPAN), KIND_STRING]);
  assert.equal(drainSpans(ring).length, 50);
  assert.equal(recordSpanInput(ring.rec, { workflow: 'late', startedAt: T0 }), true);
  assert.deepEqual(pendingKinds(ring.sab), [KIND_PAD, KIND_SPAN]);
  assert.deepEqual(drainSpans(ring).map((span) => span.workflow), ['late']);
});

// --- string interning ----------------------------------------------------------------------

test('the same workflow written twice crosses as one STRING record', () => {
  const ring = setup();
  recordSpanInput(ring.rec, { workflow: 'checkout', startedAt: T0 });
  recordSpanInput(ring.rec, { workflow: 'checkout', startedAt: T0 });
  assert.deepEqual(pendingKinds(ring.sab), [KIND_STRING, KIND_SPAN, KIND_SPAN]);
  // 'checkout': 8 header + 4 id + 4 length + 16 units = 32 bytes; each span 80.
  assert.equal(pendingBytes(ring.reader), 32 + 80 + 80);
  assert.deepEqual(drainSpans(ring).map((span) => span.workflow), ['checkout', 'checkout']);
});

test('a metadata key is interned once across spans', () => {
  const ring = setup();
  recordSpanInput(ring.rec, { workflow: 'w', operation: 'op', startedAt: T0, metadata: { region: 'eu' } });
  recordSpanInput(ring.rec, { workflow: 'w', operation: 'op', startedAt: T0, metadata: { region: 'us' } });
  assert.deepEqual(pendingKinds(ring.sab), [KIND_STRING, KIND_STRING, KIND_STRING, KIND_SPAN, KIND_SPAN]);
  assert.deepEqual(drainSpans(ring).map((span) => span.metadata), [{ region: 'eu' }, { region: 'us' }]);
});

test('past MAX_INTERNED_STRINGS distinct names, one STRINGS_RESET crosses and every name still decodes', () => {
  const ring = setup(4096);
  const TOTAL = MAX_INTERNED_STRINGS + 100;
  let resets = 0;
  let next = 0;
  for (let i = 0; i < TOTAL; i++) {
    assert.equal(recordSpanInput(ring.rec, { workflow: `workflow-${i}`, startedAt: T0 }), true);
    if (i % 16 !== 15 && i !== TOTAL - 1) continue;
    resets += pendingKinds(ring.sab).filter((kind) => kind === KIND_STRINGS_RESET).length;
    for (const span of drainSpans(ring)) {
      assert.equal(span.workflow, `workflow-${next}`);
      assert.equal(span.operation, `workflow-${next}`);
      next++;
    }
  }
  assert.equal(next, TOTAL);
  assert.equal(resets, 1);
  assert.equal(ring.rec.writer.strings.size, 100);
  assert.equal(ring.reader.strings.length, 100);
});

test('a reader that takes over at TAIL with the producer\'s stringsAt decodes what is left, across a pending STRINGS_RESET', () => {
  const ring = setup(1 << 20);
  fillStringTable(ring, MAX_INTERNED_STRINGS - 1);
  // Left in the ring by a reader that is gone: a span using a string that reader had read, new
  // strings that force a reset, and spans of the new generation (one re-interning an old name).
  assert.equal(recordSpanInput(ring.rec, { workflow: 'filler-0', operation: 'filler-1', startedAt: T0 }), true);
  assert.equal(recordSpanInput(ring.rec, { workflow: 'fresh-a', operation: 'fresh-b', startedAt: T0 }), true);
  assert.equal(recordSpanInput(ring.rec, { workflow: 'filler-0', operation: 'fresh-b', startedAt: T0 }), true);
  assert.equal(pendingKinds(ring.sab).filter((kind) => kind === KIND_STRINGS_RESET).length, 1);

  const tail = Atomics.load(ring.rec.writer.views.ctrl, TAIL);
  assert.throws(() => drainSpans({ ...ring, reader: createRingReader(ring.sab) }), /unknown string id/, 'a reader with an empty table cannot take over');
  Atomics.store(ring.rec.writer.views.ctrl, TAIL, tail);
  const spans = drainSpans({ ...ring, reader: createRingReader(ring.sab, stringsAt(ring.rec.writer, tail)) });
  assert.deepEqual(spans.map((span) => [span.workflow, span.operation]), [['filler-0', 'filler-1'], ['fresh-a', 'fresh-b'], ['filler-0', 'fresh-b']]);
  // Read past the reset, the table handed over is the new generation's.
  assert.equal(recordSpanInput(ring.rec, { workflow: 'fresh-a', startedAt: T0 }), true);
  assert.deepEqual(stringsAt(ring.rec.writer, Atomics.load(ring.rec.writer.views.ctrl, TAIL)), ring.rec.writer.names);
});

test('a reset forced by a metadata key does not change the workflow and operation of the same span', () => {
  const ring = setup(4096);
  assert.equal(recordSpanInput(ring.rec, { workflow: 'wf', operation: 'op', startedAt: T0 }), true);
  drainSpans(ring);
  fillStringTable(ring, MAX_INTERNED_STRINGS);
  // 'wf' and 'op' are known; the new key 'k1' resets the table and takes id 0, 'k2' id 1.
  assert.equal(recordSpanInput(ring.rec, { workflow: 'wf', operation: 'op', startedAt: T0, metadata: { k1: 1, k2: 2 } }), true);
  const span = drainSpans(ring)[0]!;
  assert.deepEqual([span.workflow, span.operation, span.metadata], ['wf', 'op', { k1: 1, k2: 2 }]);
});

test('a reset forced by the operation name does not lose the workflow interned just before it', () => {
  const ring = setup(4096);
  fillStringTable(ring, MAX_INTERNED_STRINGS - 1);
  // 'fresh-wf' takes the last id (8191); 'fresh-op' resets the table and takes id 0.
  assert.equal(recordSpanInput(ring.rec, { workflow: 'fresh-wf', operation: 'fresh-op', startedAt: T0 }), true);
  const span = drainSpans(ring)[0]!;
  assert.deepEqual([span.workflow, span.operation], ['fresh-wf', 'fresh-op']);
});

test('a reset forced by an event type does not lose the event name interned just before it', () => {
  const ring = setup(4096);
  fillStringTable(ring, MAX_INTERNED_STRINGS - 1);
  // 'fresh-name' takes the last id (8191); 'retry' resets the table and takes id 0.
  assert.equal(recordEventInput(ring.rec, { name: 'fresh-name', type: 'retry', timestamp: T0 }), true);
  const event = drainEvents(ring)[0]!;
  assert.deepEqual([event.name, event.event_type, event.severity], ['fresh-name', 'retry', 'warning']);
});

// --- limits ----------------------------------------------------------------------------------

const digits = (n: number): string => Array.from({ length: n }, (_, i) => String(i % 10)).join('');

test('metadata with 40 keys keeps the first 32', () => {
  const metadata = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`key${String(i).padStart(2, '0')}`, i]));
  const expected = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`key${String(i).padStart(2, '0')}`, i]));
  assert.deepEqual(metadataOf(setup(), metadata), expected);
});

test('undefined metadata values are skipped and do not count toward the 32 keys', () => {
  const metadata: Record<string, unknown> = { gone: undefined };
  for (let i = 0; i < 32; i++) metadata[`k${i}`] = i;
  const decoded = metadataOf(setup(), metadata);
  assert.equal(Object.keys(decoded).length, 32);
  assert.equal('gone' in decoded, false);
  assert.equal(decoded['k31'], 31);
});

test('a 2000-character metadata string is clipped to its first 1024 characters', () => {
  assert.deepEqual(metadataOf(setup(), { long: digits(2000) }), { long: digits(1024) });
});

test('a 2000-character captured param string is clipped to its first 512 characters', () => {
  const span = onlySpan(setup(), { workflow: 'w', startedAt: T0, capturedParams: { long: digits(2000) } });
  assert.deepEqual(span.captured_params, { long: digits(512) });
});

test('a 200-character metadata key is clipped to its first 128 characters', () => {
  const key = `k${digits(199)}`;
  assert.deepEqual(metadataOf(setup(), { [key]: true }), { [key.slice(0, 128)]: true });
});

test('an error message is clipped to 1024 characters and an error type to 256', () => {
  const span = onlySpan(setup(), { workflow: 'w', status: 'failed', startedAt: T0, errorType: digits(300), errorMessage: digits(2000) });
  assert.equal(span.error_type, digits(256));
  assert.equal(span.error_message, digits(1024));
});

test('workflow and operation names are clipped to 256 characters', () => {
  const span = onlySpan(setup(), { workflow: `w${digits(299)}`, operation: `o${digits(299)}`, startedAt: T0 });
  assert.equal(span.workflow, `w${digits(255)}`);
  assert.equal(span.operation, `o${digits(255)}`);
});

test('non-primitive metadata values cross as short strings', () => {
  const anonymous = [(): number => 0][0]!;
  const decoded = metadataOf(setup(), {
    object: { a: 1, b: [2, 'x'] },
    nan: Number.NaN,
    inf: Number.POSITIVE_INFINITY,
    negInf: Number.NEGATIVE_INFINITY,
    date: new Date(Date.UTC(2024, 6, 20, 18, 26, 40, 123)),
    badDate: new Date(Number.NaN),
    named: function namedFn(): void {},
    anonymous,
    bigint: 12345678901234567890n,
    nested: { n: 5n },
    nul: null,
    symbol: Symbol('s'),
    bytes: new Uint8Array(4),
    error: new TypeError('bad input'),
    skipped: undefined,
  });
  assert.deepEqual(decoded, {
    object: '{"a":1,"b":[2,"x"]}',
    nan: 'NaN',
    inf: 'Infinity',
    negInf: '-Infinity',
    date: '2024-07-20T18:26:40.123Z',
    badDate: 'Invalid Date',
    named: '[Function namedFn]',
    anonymous: '[Function anonymous]',
    bigint: '12345678901234567890',
    nested: '{"n":"5"}',
    nul: 'null',
    symbol: 'Symbol(s)',
    bytes: '[Uint8Array 4 bytes]',
    error: 'TypeError: bad input',
  });
});

test('an object whose JSON is longer than 1024 characters crosses as 1023 characters and an ellipsis', () => {
  const json = JSON.stringify({ s: 'x'.repeat(2000) });
  assert.deepEqual(metadataOf(setup(), { big: { s: 'x'.repeat(2000) } }), { big: `${json.slice(0, 1023)}…` });
});

test('a circular object crosses as its Object.prototype.toString tag', () => {
  const circular: Record<string, unknown> = {};
  circular['self'] = circular;
  assert.deepEqual(metadataOf(setup(), { circular }), { circular: '[object Object]' });
});

test('a "__proto__" metadata key stays an own key and leaves the prototype alone', () => {
  const metadata = JSON.parse('{"__proto__": {"isAdmin": true}, "a": 1}') as Record<string, unknown>;
  const decoded = metadataOf(setup(), metadata);
  assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
  assert.deepEqual(Object.keys(decoded), ['__proto__', 'a']);
  assert.equal(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value, '{"isAdmin":true}');
  assert.equal((decoded as Record<string, unknown>)['isAdmin'], undefined);
  assert.equal(decoded['a'], 1);
});

// --- unicode -------------------------------------------------------------------------------

const SHORT_TEXT = 'café ☕ 😀👍🏽 日本語 Ελλάδα';
const LONG_TEXT = `${SHORT_TEXT} / 東京の天気は晴れ 🌞 naïve façade `.repeat(4);

test('short strings with emoji, CJK and accents round-trip exactly', () => {
  assert.ok(SHORT_TEXT.length <= 64);
  const span = onlySpan(setup(), {
    workflow: SHORT_TEXT, operation: `op ${SHORT_TEXT}`, status: 'failed', startedAt: T0, errorType: SHORT_TEXT,
    errorMessage: SHORT_TEXT, metadata: { [SHORT_TEXT]: SHORT_TEXT }, capturedParams: { p: SHORT_TEXT },
  });
  assert.deepEqual(
    [span.workflow, span.operation, span.error_type, span.error_message, span.metadata, span.captured_params],
    [SHORT_TEXT, `op ${SHORT_TEXT}`, SHORT_TEXT, SHORT_TEXT, { [SHORT_TEXT]: SHORT_TEXT }, { p: SHORT_TEXT }],
  );
});

test('long strings with emoji, CJK and accents round-trip exactly', () => {
  assert.ok(LONG_TEXT.length > 64 && LONG_TEXT.length <= 256);
  const span = onlySpan(setup(), {
    workflow: LONG_TEXT, operation: `op ${LONG_TEXT}`, status: 'failed', startedAt: T0, errorType: LONG_TEXT,
    errorMessage: LONG_TEXT, metadata: { text: LONG_TEXT }, capturedParams: { p: LONG_TEXT },
  });
  assert.deepEqual(
    [span.workflow, span.operation, span.error_type, span.error_message, span.metadata, span.captured_params],
    [LONG_TEXT, `op ${LONG_TEXT}`, LONG_TEXT, LONG_TEXT, { text: LONG_TEXT }, { p: LONG_TEXT }],
  );
});

test('a string of exactly 64 and one of 65 UTF-16 units round-trip exactly', () => {
  const at64 = '😀'.repeat(32);
  const at65 = `é${'😀'.repeat(32)}`;
  assert.deepEqual(metadataOf(setup(), { at64, at65 }), { at64, at65 });
});

test('a long string that starts with U+FEFF keeps it', () => {
  const text = `\uFEFF${'x'.repeat(100)}`;
  assert.deepEqual(metadataOf(setup(), { text }), { text });
});

// --- events --------------------------------------------------------------------------------

test('an event with every field decodes to the exact wire event', () => {
  const ring = setup();
  assert.equal(recordEventInput(ring.rec, {
    name: 'charge retried', type: 'retry', message: 'attempt 3 of 5', workflow: 'payment', traceId: TRACE,
    spanId: SPAN, timestamp: T0 + 123, metadata: { attempt: 3, gateway: 'stripe', final: false },
  }), true);
  assert.deepEqual(drainEvents(ring), [{
    trace_id: TRACE, span_id: SPAN, workflow: 'payment', event_type: 'retry', name: 'charge retried',
    message: 'attempt 3 of 5', severity: 'warning', timestamp: T0 + 123,
    metadata: { attempt: 3, gateway: 'stripe', final: false },
  }]);
});

test('an event with only a name decodes with nulls, type custom, severity info and empty metadata', () => {
  const ring = setup();
  recordEventInput(ring.rec, { name: 'ping', timestamp: T0 });
  assert.deepEqual(drainEvents(ring), [{
    trace_id: null, span_id: null, workflow: null, event_type: 'custom', name: 'ping', message: null,
    severity: 'info', timestamp: T0, metadata: {},
  }]);
});

test('event metadata without a message decodes', () => {
  const ring = setup();
  recordEventInput(ring.rec, { name: 'm', timestamp: T0, metadata: { a: 'b', n: 2.5 } });
  assert.deepEqual(drainEvents(ring)[0]!.metadata, { a: 'b', n: 2.5 });
});

test('an event type outside the known set is sent as custom', () => {
  const ring = setup();
  recordEventInput(ring.rec, { name: 'e', type: 'deploy', timestamp: T0 });
  recordEventInput(ring.rec, { name: 'e', type: 'ERROR', timestamp: T0 });
  assert.deepEqual(drainEvents(ring).map((e) => [e.event_type, e.severity]), [['custom', 'info'], ['custom', 'info']]);
});

test('event severity defaults from the type: error and *_failed → error, warning and retry → warning, others → info', () => {
  const ring = setup();
  const types = ['error', 'workflow_failed', 'step_failed', 'warning', 'retry', 'info', 'metric', 'custom', 'workflow_started', 'step_completed'];
  for (const type of types) recordEventInput(ring.rec, { name: 'e', type, timestamp: T0 });
  assert.deepEqual(drainEvents(ring).map((e) => [e.event_type, e.severity]), [
    ['error', 'error'], ['workflow_failed', 'error'], ['step_failed', 'error'], ['warning', 'warning'], ['retry', 'warning'],
    ['info', 'info'], ['metric', 'info'], ['custom', 'info'], ['workflow_started', 'info'], ['step_completed', 'info'],
  ]);
});

test('an explicit event severity is kept whatever the type', () => {
  const ring = setup();
  recordEventInput(ring.rec, { name: 'e', type: 'error', severity: 'critical', timestamp: T0 });
  assert.equal(drainEvents(ring)[0]!.severity, 'critical');
});

test('an event with malformed trace and span ids carries neither', () => {
  const ring = setup();
  recordEventInput(ring.rec, { name: 'e', traceId: 'zz', spanId: '0'.repeat(32), timestamp: T0 });
  const event = drainEvents(ring)[0]!;
  assert.deepEqual([event.trace_id, event.span_id], [null, null]);
});

test('event name, message and metadata with emoji and CJK round-trip exactly, short and long', () => {
  const ring = setup();
  recordEventInput(ring.rec, { name: SHORT_TEXT, message: LONG_TEXT, workflow: LONG_TEXT, timestamp: T0, metadata: { [SHORT_TEXT]: LONG_TEXT } });
  const event = drainEvents(ring)[0]!;
  assert.deepEqual([event.name, event.message, event.workflow, event.metadata], [SHORT_TEXT, LONG_TEXT, LONG_TEXT, { [SHORT_TEXT]: LONG_TEXT }]);
});

test('spans and events interleaved decode in the order they were written', () => {
  const ring = setup();
  recordSpanInput(ring.rec, { workflow: 'a', startedAt: T0 });
  recordEventInput(ring.rec, { name: 'b', timestamp: T0 });
  recordSpanInput(ring.rec, { workflow: 'c', startedAt: T0 });
  const order: string[] = [];
  drainRecords(ring.reader, (kindAndFlags, pos) => {
    if ((kindAndFlags & 0xff) === KIND_SPAN) order.push(`span ${decodeSpan(ring.reader, pos, kindAndFlags, ring.clock).workflow}`);
    else order.push(`event ${decodeEvent(ring.reader, pos, kindAndFlags, ring.clock).name}`);
    return false;
  });
  assert.deepEqual(order, ['span a', 'event b', 'span c']);
});

// --- draining ------------------------------------------------------------------------------

test('drainRecords with stopAt does not read records published after that HEAD', () => {
  const ring = setup();
  recordSpanInput(ring.rec, { workflow: 'before', startedAt: T0 });
  const stopAt = Atomics.load(ringViews(ring.sab).ctrl, HEAD);
  recordSpanInput(ring.rec, { workflow: 'after', startedAt: T0 });
  assert.deepEqual(drainSpans(ring, stopAt).map((span) => span.workflow), ['before']);
  // 'after' (32 bytes of STRING record) and its span (80) are still waiting.
  assert.equal(pendingBytes(ring.reader), 32 + 80);
  assert.deepEqual(drainSpans(ring).map((span) => span.workflow), ['after']);
  assert.equal(pendingBytes(ring.reader), 0);
});

test('a visitor returning true stops the drain after that record and releases only what was read', () => {
  const ring = setup();
  for (const workflow of ['a', 'b', 'c']) recordSpanInput(ring.rec, { workflow, startedAt: T0 });
  const seen: string[] = [];
  const visited = drainRecords(ring.reader, (kindAndFlags, pos) => {
    seen.push(decodeSpan(ring.reader, pos, kindAndFlags, ring.clock).workflow);
    return seen.length === 2;
  });
  assert.equal(visited, 2);
  assert.deepEqual(seen, ['a', 'b']);
  assert.equal(Atomics.load(ringViews(ring.sab).ctrl, TAIL), ring.reader.tail);
  assert.deepEqual(drainSpans(ring).map((span) => span.workflow), ['c']);
});

test('a record header with a length that is not a positive multiple of 8 is reported as corruption', () => {
  const ring = setup();
  recordSpanInput(ring.rec, { workflow: 'w', startedAt: T0 });
  ringViews(ring.sab).i32[0] = 12;
  assert.throws(() => drainRecords(ring.reader, () => false), /teracron ring corrupted: record of 12 bytes at 0/);
});
