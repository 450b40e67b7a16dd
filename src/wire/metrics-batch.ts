/**
 * The protobuf `MetricsBatch` sent to `POST /api/ingest`, encoded and decoded by hand: two small
 * messages do not justify a protobuf runtime, and the hand-written form is byte-exact with the
 * Python reference (`test/fixtures/vectors/envelope.json`).
 *
 *   message MetricsBatch {
 *     repeated MetricsEntry entries = 1;
 *     string sdk_version = 2;
 *     string runtime_version = 3;
 *     string service = 4;        // extension of this project: which service sent the batch
 *     string host = 5;           // extension of this project: the host it runs on
 *   }
 *
 * MetricsEntry (all varint uint64 unless noted):
 *
 *   | #  | field          | unit / meaning                                        |
 *   |----|----------------|-------------------------------------------------------|
 *   | 1  | timestamp      | unix ms                                               |
 *   | 2  | heap_total     | bytes (V8)                                            |
 *   | 3  | heap_used      | bytes (V8)                                            |
 *   | 4  | rss            | bytes                                                 |
 *   | 5  | external       | bytes (V8)                                            |
 *   | 6  | array_buffers  | bytes (V8)                                            |
 *   | 7  | cpu_usage_pct  | basis points, 0-10000                                 |
 *   | 8  | event_loop_lag | µs, the longest event-loop delay since the last sample |
 *   |    | -- extensions of this project; readers of the base schema skip them --  |
 *   | 9  | uss            | bytes, unique set size                                |
 *   | 10 | pss            | bytes, proportional set size                          |
 *   | 11 | vms            | bytes, virtual memory size                            |
 *   | 12 | swap           | bytes                                                 |
 *   | 13 | pid            | process id                                            |
 *   | 14 | threads        | OS thread count                                       |
 *   | 15 | event_loop_p50 | µs, event-loop delay median                           |
 *   | 16 | event_loop_p99 | µs, event-loop delay 99th percentile                  |
 *   | 17 | ppid           | parent process id                                     |
 *   | 18 | command        | string: process name (for sidecar-sampled children)   |
 *   |    | -- the agent's own health, on its own process's entry only; counts since  |
 *   |    |    the agent started (cumulative, so a lost batch loses no drop); proto3  |
 *   |    |    `optional` (explicit presence): 0 is written, absent = not reported    |
 *   | 19 | dropped_ring_full   | spans/events dropped: the ring was full          |
 *   | 20 | dropped_send_failed | spans/events given up after retries or refused   |
 *   | 21 | send_retries        | POSTs retried (any kind of batch)                |
 *   | 22 | metrics_dropped     | metrics entries given up after retries or refused|
 *   | 23 | spooled             | spans/events written to the spool, not sent      |
 *   | 24 | replayed            | spans/events sent from the spool                 |
 *   | 25 | dropped_spool_full  | spans/events deleted from a full spool           |
 *   | 26 | spool_bytes         | bytes in the spool directory (a gauge)           |
 *
 * proto3 rules: zero numbers and empty strings are not written, so they decode as 0 / ''
 * (base fields) or as absent (extensions); fields 19-26 are the exception above. Numbers are JS numbers, exact up to 2^53; the varint
 * code uses division rather than 32-bit bitwise operators so large values (e.g. an 8 GiB rss)
 * survive. On encode, a value that is not a non-negative integer is coerced rather than thrown:
 * metrics come from sampling and one odd reading must not lose the batch. NaN and -Infinity
 * become 0, negatives become 0, fractions are rounded, and anything at or above 2^64 becomes the
 * largest double below 2^64.
 */
import { TeracronWireError } from '../errors';

export interface MetricsEntry {
  timestamp: number;
  heap_total: number;
  heap_used: number;
  rss: number;
  external: number;
  array_buffers: number;
  cpu_usage_pct: number;
  event_loop_lag: number;
  uss?: number;
  pss?: number;
  vms?: number;
  swap?: number;
  pid?: number;
  threads?: number;
  event_loop_p50?: number;
  event_loop_p99?: number;
  ppid?: number;
  command?: string;
  dropped_ring_full?: number;
  dropped_send_failed?: number;
  send_retries?: number;
  metrics_dropped?: number;
  spooled?: number;
  replayed?: number;
  dropped_spool_full?: number;
  spool_bytes?: number;
}

export interface MetricsBatch {
  entries: MetricsEntry[];
  sdk_version: string;
  runtime_version: string;
  /** Extension (field 4): the sending service, so a collector can chart per service. */
  service?: string;
  /** Extension (field 5): the host name. */
  host?: string;
}

/** Batch-level string fields by number; 1 (entries) is the repeated message. */
const BATCH_STRING_FIELDS = { 2: 'sdk_version', 3: 'runtime_version', 4: 'service', 5: 'host' } as const;

type NumericField = Exclude<keyof MetricsEntry, 'command'>;

// Index = field number - 1; null where the field is not a varint (18, command). Fields are
// written in field-number order, as protobuf encoders do.
const NUMERIC_FIELDS: ReadonlyArray<NumericField | null> = [
  'timestamp', 'heap_total', 'heap_used', 'rss', 'external', 'array_buffers', 'cpu_usage_pct',
  'event_loop_lag', 'uss', 'pss', 'vms', 'swap', 'pid', 'threads', 'event_loop_p50',
  'event_loop_p99', 'ppid', null, 'dropped_ring_full', 'dropped_send_failed', 'send_retries',
  'metrics_dropped', 'spooled', 'replayed', 'dropped_spool_full', 'spool_bytes',
];
const COMMAND_FIELD = 18;
/** From this field number on, a set value is written even when it is 0 (proto3 `optional`). */
const FIRST_PRESENCE_FIELD = 19;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

// 2^64 - 2048: the largest double below 2^64, hence the largest uint64 a number can carry.
const MAX_UINT64_DOUBLE = 18446744073709549568;
const MAX_VARINT_BYTES = 10;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: false });

export function encodeMetricsBatch(batch: MetricsBatch): Uint8Array {
  const entries = batch.entries;
  const entryBytes: Uint8Array[] = new Array(entries.length);
  let total = 0;
  for (let i = 0; i < entries.length; i++) {
    const encoded = encodeEntry(entries[i]!);
    entryBytes[i] = encoded;
    total += 1 + varintSize(encoded.length) + encoded.length;
  }
  const strings: Array<[number, Uint8Array]> = [];
  for (const [field, name] of Object.entries(BATCH_STRING_FIELDS)) {
    const bytes = textEncoder.encode(batch[name] ?? '');
    if (bytes.length === 0) continue;
    strings.push([Number(field), bytes]);
    total += 1 + varintSize(bytes.length) + bytes.length;
  }

  const out = new Uint8Array(total);
  let pos = 0;
  for (const encoded of entryBytes) {
    pos = writeBytesField(out, pos, 1, encoded);
  }
  for (const [field, bytes] of strings) pos = writeBytesField(out, pos, field, bytes);
  return out;
}

function encodeEntry(entry: MetricsEntry): Uint8Array {
  // -1: not written (a zero without presence, or not set).
  const values = new Array<number>(NUMERIC_FIELDS.length).fill(-1);
  let size = 0;
  for (let i = 0; i < NUMERIC_FIELDS.length; i++) {
    const name = NUMERIC_FIELDS[i];
    if (name === null || name === undefined) continue;
    const raw = entry[name];
    const value = toUint64(raw);
    if (value === 0 && (raw == null || i + 1 < FIRST_PRESENCE_FIELD)) continue;
    values[i] = value;
    size += tagSize(i + 1) + varintSize(value);
  }
  const command = entry.command ? textEncoder.encode(entry.command) : undefined;
  const hasCommand = command !== undefined && command.length > 0;
  if (hasCommand) size += tagSize(COMMAND_FIELD) + varintSize(command.length) + command.length;

  const out = new Uint8Array(size);
  let pos = 0;
  for (let i = 0; i < values.length; i++) {
    if (hasCommand && i + 1 === COMMAND_FIELD) pos = writeBytesField(out, pos, COMMAND_FIELD, command);
    const value = values[i]!;
    if (value < 0) continue;
    pos = writeVarint(out, pos, ((i + 1) << 3) | WIRE_VARINT);
    pos = writeVarint(out, pos, value);
  }
  return out;
}

function toUint64(value: number | undefined): number {
  if (value === undefined || !(value > 0)) return 0;
  if (value >= MAX_UINT64_DOUBLE) return MAX_UINT64_DOUBLE;
  return Math.round(value);
}

function tagSize(fieldNumber: number): number {
  return varintSize(fieldNumber << 3);
}

function varintSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

function writeVarint(out: Uint8Array, pos: number, value: number): number {
  while (value >= 128) {
    out[pos++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  out[pos++] = value;
  return pos;
}

function writeBytesField(out: Uint8Array, pos: number, fieldNumber: number, bytes: Uint8Array): number {
  pos = writeVarint(out, pos, (fieldNumber << 3) | WIRE_LEN);
  pos = writeVarint(out, pos, bytes.length);
  out.set(bytes, pos);
  return pos + bytes.length;
}

/** Reader state; `where` names the message being read so errors can say where input broke. */
interface Cursor {
  bytes: Uint8Array;
  pos: number;
  end: number;
  where: string;
}

/**
 * Decodes a MetricsBatch. With `maxEntries`, a batch holding more entries is refused as soon as
 * the one past the limit is reached, not after decoding them all.
 */
export function decodeMetricsBatch(bytes: Uint8Array, maxEntries = Number.POSITIVE_INFINITY): MetricsBatch {
  const batch: MetricsBatch = { entries: [], sdk_version: '', runtime_version: '' };
  const cur: Cursor = { bytes, pos: 0, end: bytes.length, where: 'MetricsBatch' };
  while (cur.pos < cur.end) {
    const tagAt = cur.pos;
    const tag = readVarint(cur, 'a field tag');
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field >= 1 && field <= 5) {
      expectWireType(cur, tagAt, field, wireType, WIRE_LEN);
      const length = readLength(cur, tagAt, field);
      if (field === 1) {
        if (batch.entries.length >= maxEntries) {
          throw new TeracronWireError(`The MetricsBatch holds more than ${maxEntries} entries: send at most ${maxEntries} per request.`);
        }
        batch.entries.push(decodeEntry(bytes, cur.pos, cur.pos + length, batch.entries.length));
      } else {
        batch[BATCH_STRING_FIELDS[field as 2 | 3 | 4 | 5]] = textDecoder.decode(bytes.subarray(cur.pos, cur.pos + length));
      }
      cur.pos += length;
    } else {
      skipField(cur, tagAt, field, wireType);
    }
  }
  return batch;
}

function decodeEntry(bytes: Uint8Array, start: number, end: number, index: number): MetricsEntry {
  const entry: MetricsEntry = {
    timestamp: 0, heap_total: 0, heap_used: 0, rss: 0, external: 0, array_buffers: 0,
    cpu_usage_pct: 0, event_loop_lag: 0,
  };
  const cur: Cursor = { bytes, pos: start, end, where: `MetricsBatch.entries[${index}]` };
  while (cur.pos < cur.end) {
    const tagAt = cur.pos;
    const tag = readVarint(cur, 'a field tag');
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    const name = field >= 1 ? NUMERIC_FIELDS[field - 1] : undefined;
    if (name !== undefined && name !== null) {
      expectWireType(cur, tagAt, field, wireType, WIRE_VARINT);
      entry[name] = readVarint(cur, `field ${field} (${name})`);
    } else if (field === COMMAND_FIELD) {
      expectWireType(cur, tagAt, field, wireType, WIRE_LEN);
      const length = readLength(cur, tagAt, field);
      entry.command = textDecoder.decode(bytes.subarray(cur.pos, cur.pos + length));
      cur.pos += length;
    } else {
      skipField(cur, tagAt, field, wireType);
    }
  }
  return entry;
}

function readVarint(cur: Cursor, what: string): number {
  const start = cur.pos;
  let value = 0;
  let scale = 1;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (cur.pos >= cur.end) {
      throw new TeracronWireError(`Truncated protobuf in ${cur.where}: the varint for ${what} starting at byte ${start} runs past the end (byte ${cur.end}).`);
    }
    const byte = cur.bytes[cur.pos++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
    scale *= 128;
  }
  throw new TeracronWireError(`Malformed protobuf in ${cur.where}: the varint for ${what} starting at byte ${start} is longer than ${MAX_VARINT_BYTES} bytes.`);
}

function readLength(cur: Cursor, tagAt: number, field: number): number {
  const length = readVarint(cur, `the length of field ${field}`);
  if (length > cur.end - cur.pos) {
    throw new TeracronWireError(
      `Truncated protobuf in ${cur.where}: field ${field} at byte ${tagAt} declares ${length} bytes but only ${cur.end - cur.pos} remain.`,
    );
  }
  return length;
}

function expectWireType(cur: Cursor, tagAt: number, field: number, actual: number, expected: number): void {
  if (actual !== expected) {
    throw new TeracronWireError(
      `Malformed protobuf in ${cur.where}: field ${field} at byte ${tagAt} has wire type ${actual}, expected ${expected}.`,
    );
  }
}

// Unknown fields are skipped so that newer writers (more extension fields) stay readable.
function skipField(cur: Cursor, tagAt: number, field: number, wireType: number): void {
  if (field === 0) {
    throw new TeracronWireError(`Malformed protobuf in ${cur.where}: field number 0 at byte ${tagAt} is not valid.`);
  }
  let skip: number;
  switch (wireType) {
    case WIRE_VARINT:
      readVarint(cur, `unknown field ${field}`);
      return;
    case WIRE_FIXED64:
      skip = 8;
      break;
    case WIRE_LEN:
      skip = readLength(cur, tagAt, field);
      break;
    case WIRE_FIXED32:
      skip = 4;
      break;
    default:
      throw new TeracronWireError(
        `Malformed protobuf in ${cur.where}: field ${field} at byte ${tagAt} has wire type ${wireType}, which is a deprecated group or not a wire type.`,
      );
  }
  if (skip > cur.end - cur.pos) {
    throw new TeracronWireError(
      `Truncated protobuf in ${cur.where}: unknown field ${field} at byte ${tagAt} needs ${skip} bytes but only ${cur.end - cur.pos} remain.`,
    );
  }
  cur.pos += skip;
}
