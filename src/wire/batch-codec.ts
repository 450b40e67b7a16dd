/**
 * Trace, event and log batches: the plaintexts of `/api/v1/traces`, `/api/v1/events` and
 * `/api/v1/logs`. Two encodings share one shape: JSON (what the hosted platform reads) and
 * msgpack (smaller and faster to write; the default towards this project's own collector).
 * A receiver tells them apart by the first byte: `{` is JSON, a msgpack map header is msgpack.
 *
 * msgpack is written as plain maps (no msgpackr record extension) so any msgpack reader can
 * decode it. msgpackr writes integers beyond 32 bits (unix-ms timestamps) as float64, where
 * SPEC §3 has integers; the agent does not send through `encodeBatch`: its worker writes batches
 * itself (src/worker/item-batch.ts), with those integers as uint64/int64. `decodeBatch` reads
 * both forms as the same number.
 */
import { randomBytes } from 'node:crypto';
import { Packr } from 'msgpackr';
import { TeracronWireError } from '../errors';
import { quoteNonFiniteTokens } from './json-non-finite';
import { checkJsonBounds, checkMsgpackBounds } from './structure-bounds';
import type { StructureBounds } from './structure-bounds';

export type WireFormat = 'json' | 'msgpack';

export type WireValue = string | number | boolean;
export type WireAttributes = Record<string, WireValue>;

export interface WireSpan {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  workflow: string;
  operation: string;
  status: 'succeeded' | 'failed' | 'started';
  started_at: number;
  duration_ms: number;
  error_type: string | null;
  error_message: string | null;
  metadata: WireAttributes;
  captured_params: WireAttributes;
}

export interface WireEvent {
  trace_id: string | null;
  span_id: string | null;
  workflow: string | null;
  event_type: string;
  name: string;
  message: string | null;
  severity: string;
  timestamp: number;
  metadata: WireAttributes;
}

/** Log levels, lowest first (SPEC §5). The agent's ring stores a level as its index here. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface WireLog {
  timestamp: number;
  level: string;
  message: string;
  module: string | null;
  trace_id: string | null;
  span_id: string | null;
  extra: WireAttributes;
  error_type: string | null;
  error_message: string | null;
  stack: string | null;
}

export interface WireResource {
  service: string;
  environment: string;
  host: string;
  pid: number;
  sdk: { name: string; version: string };
  runtime: { name: string; version: string };
}

interface BatchHeader {
  project_slug: string;
  /** 32 hex; lets a receiver store a batch once when a retry follows a lost 202. Absent in some senders' batches. */
  batch_id?: string;
  resource?: WireResource;
}

export interface TraceBatch extends BatchHeader {
  type: 'trace';
  spans: WireSpan[];
}

export interface EventBatch extends BatchHeader {
  type: 'event';
  events: WireEvent[];
}

export interface LogBatch extends BatchHeader {
  type: 'log';
  logs: WireLog[];
}

export type TelemetryBatch = TraceBatch | EventBatch | LogBatch;
export type BatchType = TelemetryBatch['type'];

export const INGEST_PATHS = {
  metrics: '/api/ingest',
  trace: '/api/v1/traces',
  event: '/api/v1/events',
  log: '/api/v1/logs',
} as const;

const ITEMS_KEY = { trace: 'spans', event: 'events', log: 'logs' } as const;

const JSON_OPEN_BRACE = 0x7b;

const packr = new Packr({
  useRecords: false,
  moreTypes: false,
  // msgpackr's default for undefined is a fixext that other readers reject. (Its skipValues
  // option would drop the key like JSON.stringify, but costs ~15% on every object written.)
  encodeUndefinedAsNil: true,
  // Other languages write unix-ms timestamps as uint64; a number is what the types promise.
  int64AsType: 'number',
});

export function newBatchId(): string {
  return randomBytes(16).toString('hex');
}

/** Encodes a batch for sending; every sent batch carries a `batch_id` (see `newBatchId`). */
export function encodeBatch(batch: TelemetryBatch & { batch_id: string }, format: WireFormat): Buffer {
  if (typeof batch.batch_id !== 'string') {
    throw new TeracronWireError(`A ${batch.type} batch must carry a batch_id (32 hex, from newBatchId()) before it is encoded.`);
  }
  if (format === 'msgpack') return packr.pack(batch);
  if (format === 'json') return Buffer.from(JSON.stringify(batch), 'utf8');
  throw new TeracronWireError(`Unknown wire format ${JSON.stringify(format)}: use "json" or "msgpack".`);
}

/** One value as the batch codec would write it inside a batch (worker/item-writer.ts builds batches piecewise). */
export function encodeWireValue(value: unknown, format: WireFormat): Uint8Array {
  if (format === 'msgpack') return packr.pack(value);
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/**
 * Decodes either encoding and checks only the envelope shape, not every item. With `bounds`, the
 * structure is scanned first (structure-bounds.ts), so a batch built to be expensive to decode
 * is refused before it is.
 */
export function decodeBatch(bytes: Uint8Array, bounds?: StructureBounds): TelemetryBatch {
  if (bytes.byteLength === 0) {
    throw new TeracronWireError('The batch is empty: expected a JSON object or a msgpack map.');
  }
  const first = bytes[0]!;
  let value: unknown;
  if (first === JSON_OPEN_BRACE) {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    if (bounds !== undefined) checkJsonBounds(text, bounds);
    value = parseJson(text);
  } else if (isMsgpackMapHeader(first)) {
    if (bounds !== undefined) checkMsgpackBounds(bytes, bounds);
    try {
      value = packr.unpack(bytes);
    } catch (cause) {
      throw new TeracronWireError(`The batch starts with a msgpack map header but is not valid msgpack: ${(cause as Error).message}.`, { cause });
    }
  } else {
    throw new TeracronWireError(
      `The batch is neither JSON nor msgpack: its first byte is 0x${first.toString(16).padStart(2, '0')}, expected "{" (JSON) or a msgpack map header.`,
    );
  }
  return checkShape(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    const quoted = quoteNonFiniteTokens(text);
    if (quoted !== null) {
      try {
        return JSON.parse(quoted);
      } catch {
        // Not only the tokens: report the original text's error.
      }
    }
    throw new TeracronWireError(`The batch starts with "{" but is not valid JSON: ${(cause as Error).message}.`, { cause });
  }
}

function isMsgpackMapHeader(byte: number): boolean {
  return (byte >= 0x80 && byte <= 0x8f) || byte === 0xde || byte === 0xdf;
}

function checkShape(value: unknown): TelemetryBatch {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TeracronWireError('The batch is not an object with "type", "project_slug" and its items.');
  }
  const record = value as Record<string, unknown>;
  // The Python SDK types its event batches "events" (collector/foreign-shapes.ts maps its records).
  if (record['type'] === 'events') record['type'] = 'event';
  const type = record['type'];
  if (type !== 'trace' && type !== 'event' && type !== 'log') {
    throw new TeracronWireError(`The batch's "type" is ${describe(type)}: expected "trace", "event" or "log".`);
  }
  if (typeof record['project_slug'] !== 'string') {
    throw new TeracronWireError(`The ${type} batch's "project_slug" is ${describe(record['project_slug'])}: expected a string.`);
  }
  if (record['batch_id'] !== undefined && typeof record['batch_id'] !== 'string') {
    throw new TeracronWireError(`The ${type} batch's "batch_id" is ${describe(record['batch_id'])}: expected a string.`);
  }
  const key = ITEMS_KEY[type];
  if (!Array.isArray(record[key])) {
    throw new TeracronWireError(`The ${type} batch has no "${key}" array (found ${describe(record[key])}).`);
  }
  return value as TelemetryBatch;
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 32 ? `${value.slice(0, 32)}…` : value);
  return `a ${typeof value}`;
}

export function batchItemCount(batch: TelemetryBatch): number {
  switch (batch.type) {
    case 'trace':
      return batch.spans.length;
    case 'event':
      return batch.events.length;
    case 'log':
      return batch.logs.length;
  }
}
