/**
 * Direct encoding (record-encoder.ts) against the reference path, on random records: each seed
 * records spans and events with the real recorder (every optional part, strings at their caps in
 * every UTF-16 shape, numbers at the edges of each form; test/helpers/random-records.ts), then
 * every record is decoded to an object (records.ts) and written straight into a batch of each
 * format. What the collector reads from each batch must deep-equal the objects, as the reference
 * codec carries them: through JSON.stringify/JSON.parse for JSON, and through msgpackr for
 * msgpack after a lone surrogate became U+FFFD (msgpack-writer.ts writes valid UTF-8 only).
 *
 * A failure names its seed; TERACRON_PROPERTY_SEED=<seed> runs that seed alone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { performance } from 'node:perf_hooks';
import { Unpackr } from 'msgpackr';
import { KIND_SPAN, MAX_KEY_CHARS, createRingBuffer } from '../../src/ring/layout';
import { createRingReader, drainRecords } from '../../src/ring/reader';
import { createRecorder, recordEventInput, recordSpanInput } from '../../src/recorder/recorder';
import { decodeBatch, encodeWireValue, newBatchId } from '../../src/wire/batch-codec';
import type { WireEvent, WireFormat, WireResource, WireSpan } from '../../src/wire/batch-codec';
import { createItemBatch, finishItemBatch, resetItemBatch } from '../../src/worker/item-batch';
import type { ItemBatch } from '../../src/worker/item-batch';
import { encodeEvent, encodeSpan } from '../../src/worker/record-encoder';
import { decodeEvent, decodeSpan } from '../../src/worker/records';
import { createWallClock } from '../../src/worker/wall-clock';
import { fileTimeout } from '../helpers/file-timeout';
import { randomEventInput, randomSpanInput } from '../helpers/random-records';
import { seededRandom } from '../helpers/seeded-random';
import type { Random } from '../helpers/seeded-random';

fileTimeout(180_000);

const SEEDS = process.env['TERACRON_PROPERTY_SEED'] !== undefined ? [Number(process.env['TERACRON_PROPERTY_SEED'])] : [1, 2, 3, 4, 0x5eed];
const RECORDS_PER_SEED = 800;
/**
 * Records per drain, each drain a batch. The ring is small enough to wrap many times in a seed,
 * so the bytes after a record's strings are left over from earlier records (a writer that reads
 * one unit too far sees them), and large enough for the largest records of a drain.
 */
const RECORDS_PER_BATCH = 10;
const RING_BYTES = 1 << 21;
const FORMATS: readonly WireFormat[] = ['msgpack', 'json'];

const SLUG = 'vivid-kudu-655';
const RESOURCE: WireResource = {
  service: 'prop', environment: 'test', host: 'h', pid: 1,
  sdk: { name: 'teracron-node', version: '0.1.0' }, runtime: { name: 'node', version: process.versions.node },
};

const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number' });

/** Through UTF-8 and back: a lone surrogate becomes U+FFFD (String#toWellFormed is not in this TypeScript lib). */
function toWellFormed(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/** Every string of a wire value, keys included, with lone surrogates as U+FFFD. */
function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return toWellFormed(value);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) Object.defineProperty(out, toWellFormed(key), { value: wellFormed(item), enumerable: true, writable: true, configurable: true });
  return out;
}

/** The reference path's value of an object in `format`: the objects through the reference codec. */
function throughReference(object: WireSpan | WireEvent, format: WireFormat): unknown {
  if (format === 'json') return JSON.parse(JSON.stringify(object));
  return unpackr.unpack(encodeWireValue(wellFormed(object), 'msgpack'));
}

interface Batches {
  trace: ItemBatch;
  event: ItemBatch;
}

function readBack(bytes: Uint8Array, format: WireFormat): Record<string, unknown> {
  return (format === 'json' ? JSON.parse(Buffer.from(bytes).toString('utf8')) : decodeBatch(bytes)) as Record<string, unknown>;
}

const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

/**
 * Whether JSON.stringify of the object writes its maps' entries as the record holds them: not
 * when two keys became one at the key cap, nor when an array-index key was moved first.
 */
function stringifiesInRecordOrder(object: WireSpan | WireEvent): boolean {
  const maps = 'captured_params' in object ? [object.metadata, object.captured_params] : [object.metadata];
  return maps.every((map) => Object.keys(map).every((key) => key.length < MAX_KEY_CHARS && !ARRAY_INDEX.test(key)));
}

/** Records `count` random records of `rnd` and checks them a drain at a time. Returns the records checked. */
function checkSeed(rnd: Random, count: number): { checked: number; jsonBytesChecked: number } {
  const sab = createRingBuffer(RING_BYTES);
  const rec = createRecorder(sab);
  const reader = createRingReader(sab);
  const clock = createWallClock(performance.timeOrigin);
  const batches = new Map<WireFormat, Batches>(FORMATS.map((format) => [format, {
    trace: createItemBatch(format, { type: 'trace', slug: SLUG, resource: RESOURCE }),
    event: createItemBatch(format, { type: 'event', slug: SLUG, resource: RESOURCE }),
  }]));
  let checked = 0;
  let jsonBytesChecked = 0;
  for (let first = 0; first < count; first += RECORDS_PER_BATCH) {
    for (let i = first; i < Math.min(count, first + RECORDS_PER_BATCH); i++) {
      const ok = rnd.chance(0.6) ? recordSpanInput(rec, randomSpanInput(rnd)) : recordEventInput(rec, randomEventInput(rnd));
      assert.equal(ok, true, `seed ${rnd.seed}: record ${i} fits the ring`);
    }
    const objects = { trace: [] as WireSpan[], event: [] as WireEvent[] };
    /** Each item's JSON text, cut out of the JSON batches. */
    const jsonItems = { trace: [] as string[], event: [] as string[] };
    drainRecords(reader, (kindAndFlags, pos) => {
      const type = (kindAndFlags & 0xff) === KIND_SPAN ? 'trace' : 'event';
      if (type === 'trace') objects.trace.push(decodeSpan(reader, pos, kindAndFlags, clock));
      else objects.event.push(decodeEvent(reader, pos, kindAndFlags, clock));
      for (const [format, b] of batches) {
        const batch = b[type];
        const before = batch.out.pos;
        (type === 'trace' ? encodeSpan : encodeEvent)(batch.writer, batch.out, batch.count++, reader, pos, kindAndFlags, clock);
        if (format === 'json') jsonItems[type].push(batch.out.buf.toString('utf8', before + (batch.count > 1 ? 1 : 0), batch.out.pos));
      }
      return false;
    });
    for (const [format, b] of batches) {
      for (const type of ['trace', 'event'] as const) {
        const batchId = newBatchId();
        const read = readBack(finishItemBatch(b[type], batchId), format);
        resetItemBatch(b[type]);
        const itemsKey = type === 'trace' ? 'spans' : 'events';
        const where = `seed ${rnd.seed} (TERACRON_PROPERTY_SEED=${rnd.seed}), ${format} ${type} batch of records ${first}..`;
        assert.deepEqual({ ...read, [itemsKey]: undefined }, { type, project_slug: SLUG, batch_id: batchId, resource: RESOURCE, [itemsKey]: undefined }, `${where}: the batch's own fields`);
        const items = read[itemsKey] as unknown[];
        assert.equal(items.length, objects[type].length, `${where}: item count`);
        (objects[type] as Array<WireSpan | WireEvent>).forEach((object, i) => {
          assert.deepEqual(items[i], throughReference(object, format), `${where}, ${itemsKey}[${i}]`);
          // JSON.parse reads \u000c as \f, say; the bytes themselves must be JSON.stringify's.
          if (format === 'json' && stringifiesInRecordOrder(object)) {
            assert.equal(jsonItems[type][i], JSON.stringify(object), `${where}, ${itemsKey}[${i}]: JSON.stringify's bytes`);
            jsonBytesChecked++;
          }
        });
        checked += items.length;
      }
    }
  }
  return { checked: checked / FORMATS.length, jsonBytesChecked };
}

for (const seed of SEEDS) {
  test(`random records (seed ${seed}) written directly read back as the reference path's objects, in msgpack and JSON`, () => {
    const { checked, jsonBytesChecked } = checkSeed(seededRandom(seed), RECORDS_PER_SEED);
    assert.equal(checked, RECORDS_PER_SEED);
    // Most records are also held to JSON.stringify's bytes; a generator change that stopped that would show here.
    assert.ok(jsonBytesChecked > RECORDS_PER_SEED / 2, `only ${jsonBytesChecked} of ${RECORDS_PER_SEED} records were held to JSON.stringify's bytes`);
  });
}
