/**
 * One batch being written item by item into a reused buffer. The batch's own fields come first
 * in the wire object (type, project_slug, batch_id, resource, then the items array), and only
 * batch_id and the item count change from one batch to the next, so they are written once as a
 * template and patched in place when the batch is finished:
 *
 *   msgpack  map(5) … "batch_id" str8(32)[batch id] … "spans" array32[count] item item …
 *   JSON     {"type":…,"batch_id":"[batch id]",…,"spans":[item,item…]}
 *
 * (msgpack's array32 header has a fixed size; any reader takes it for an array of `count`.)
 */
import { encodeWireValue } from '../wire/batch-codec';
import type { WireFormat, WireResource } from '../wire/batch-codec';
import { createOutBuffer, writeBytes } from './item-writer';
import type { ItemWriter, OutBuffer } from './item-writer';
import { jsonWriter } from './json-writer';
import { msgpackWriter } from './msgpack-writer';

const BATCH_ID_CHARS = 32;
/** Enough for a batch of a few thousand spans without growing. */
const INITIAL_BYTES = 1 << 20;

export interface ItemBatch {
  readonly writer: ItemWriter;
  readonly out: OutBuffer;
  /** Items written since the last reset. */
  count: number;
  readonly template: Uint8Array;
  readonly batchIdAt: number;
  /** Where the msgpack item count goes; -1 for JSON. */
  readonly countAt: number;
  readonly footer: Uint8Array;
}

export interface BatchHeaderFields {
  type: 'trace' | 'event' | 'log';
  slug: string;
  resource: WireResource;
}

export function createItemBatch(format: WireFormat, fields: BatchHeaderFields): ItemBatch {
  const itemsKey = fields.type === 'trace' ? 'spans' : fields.type === 'event' ? 'events' : 'logs';
  const placeholder = '0'.repeat(BATCH_ID_CHARS);
  let template: Buffer;
  let batchIdAt: number;
  let countAt = -1;
  let footer: Buffer;
  if (format === 'msgpack') {
    const before = Buffer.concat([Buffer.from([0x85]), ...['type', fields.type, 'project_slug', fields.slug, 'batch_id'].map((part) => encodeWireValue(part, 'msgpack'))]);
    const batchId = encodeWireValue(placeholder, 'msgpack');
    batchIdAt = before.length + batchId.length - BATCH_ID_CHARS;
    const after = Buffer.concat([encodeWireValue('resource', 'msgpack'), encodeWireValue(fields.resource, 'msgpack'), encodeWireValue(itemsKey, 'msgpack'), Buffer.from([0xdd])]);
    countAt = before.length + batchId.length + after.length;
    template = Buffer.concat([before, batchId, after, Buffer.alloc(4)]);
    footer = Buffer.alloc(0);
  } else {
    const before = `{"type":${JSON.stringify(fields.type)},"project_slug":${JSON.stringify(fields.slug)},"batch_id":"`;
    batchIdAt = Buffer.byteLength(before);
    template = Buffer.from(`${before}${placeholder}","resource":${JSON.stringify(fields.resource)},${JSON.stringify(itemsKey)}:[`, 'utf8');
    footer = Buffer.from(']}');
  }
  const batch: ItemBatch = { writer: format === 'msgpack' ? msgpackWriter : jsonWriter, out: createOutBuffer(INITIAL_BYTES), count: 0, template, batchIdAt, countAt, footer };
  resetItemBatch(batch);
  return batch;
}

export function resetItemBatch(b: ItemBatch): void {
  b.out.pos = 0;
  writeBytes(b.out, b.template);
  b.count = 0;
}

/**
 * Completes the batch and returns its plaintext: a view into the reused buffer, valid until the
 * next reset (sealing copies it).
 */
export function finishItemBatch(b: ItemBatch, batchId: string): Uint8Array {
  if (batchId.length !== BATCH_ID_CHARS) throw new RangeError(`a batch_id is ${BATCH_ID_CHARS} hex characters, got ${JSON.stringify(batchId)}`);
  b.out.buf.write(batchId, b.batchIdAt, 'latin1');
  if (b.countAt >= 0) b.out.buf.writeUInt32BE(b.count, b.countAt);
  writeBytes(b.out, b.footer);
  return b.out.buf.subarray(0, b.out.pos);
}
