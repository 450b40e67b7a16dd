/**
 * A validated batch as the rows of the ClickHouse tables (schema.ts), already in ClickHouse's
 * TabSeparated text, made on the ingest pool's thread (open-batch.ts) so that the collector's
 * event loop only concatenates bytes and streams them to ClickHouse.
 *
 * Why TabSeparated and not JSONEachRow objects: at 5,000-span batches, building row objects and
 * JSON-encoding them on the main thread cost about 12 µs a span, and ClickHouse parses JSON rows
 * several times slower than tab-separated ones; together they held ingest near 60k spans/s on 2
 * cores. (@clickhouse/client streams raw formats as they are; RowBinary it does not take.)
 *
 * Within a batch, a span id sent twice keeps one record as SQLite's ingest does: the first,
 * unless it was `started` and a finished one follows.
 *
 * Layout of the packed bytes: a tag byte (PACKED_ROWS_TAG), the header's length (u32 LE), the
 * header as JSON ({ batchId, accepted, tables: [[table, rows, bytes], …] }), then each table's
 * rows in that order.
 */
import type { WireSpan } from '../../wire/batch-codec';
import type { IngestInput } from '../store/types';

/** Distinct from batch-transfer.ts's tags (0 msgpack, 1 structured clone), so a mix-up fails loudly. */
export const PACKED_ROWS_TAG = 2;

const DAY_MS = 86_400_000;

export const SPAN_COLUMNS = [
  'project', 'trace_id', 'span_id', 'parent_span_id', 'workflow', 'operation', 'status', 'started_at', 'duration_ms',
  'error_type', 'error_message', 'metadata', 'captured_params', 'service', 'environment', 'host', 'pid', 'version', 'day',
] as const;
export const EVENT_COLUMNS = [
  'project', 'event_key', 'trace_id', 'span_id', 'workflow', 'event_type', 'name', 'message', 'severity', 'timestamp',
  'metadata', 'service', 'environment', 'host', 'pid', 'day',
] as const;
export const SAMPLE_COLUMNS = [
  'project', 'sample_key', 'timestamp', 'heap_total', 'heap_used', 'rss', 'external', 'array_buffers', 'cpu_usage_pct',
  'event_loop_lag', 'uss', 'pss', 'vms', 'swap', 'pid', 'threads', 'event_loop_p50', 'event_loop_p99', 'ppid', 'command',
  'sdk_version', 'runtime_version', 'service', 'host', 'dropped_ring_full', 'dropped_send_failed', 'send_retries',
  'metrics_dropped', 'spooled', 'replayed', 'dropped_spool_full', 'spool_bytes', 'day',
] as const;

export type RowTable = 'spans' | 'events' | 'metric_samples';

export const COLUMNS: Record<RowTable, readonly string[]> = { spans: SPAN_COLUMNS, events: EVENT_COLUMNS, metric_samples: SAMPLE_COLUMNS };

export interface PackedRows {
  batchId: string | null;
  /** What the batch's answer reports as accepted. */
  accepted: number;
  /** Each table's rows, TabSeparated, one per line; only tables the batch has rows for. */
  tables: Array<{ table: RowTable; rows: number; text: Uint8Array }>;
}

export function dayOf(time: number): number {
  return Math.floor(Math.max(time, 0) / DAY_MS);
}

export function packRows(project: string, input: IngestInput, receivedAt: number): Uint8Array {
  const lines: string[] = [];
  let table: RowTable;
  switch (input.kind) {
    case 'trace': {
      table = 'spans';
      const r = input.resource;
      const tail = `${nullable(r?.service)}\t${nullable(r?.environment)}\t${nullable(r?.host)}\t${number(r?.pid)}`;
      const head = text(project);
      for (const s of keptSpans(input.spans)) {
        lines.push(
          `${head}\t${text(s.trace_id)}\t${text(s.span_id)}\t${nullable(s.parent_span_id)}\t${text(s.workflow)}\t${text(s.operation)}\t` +
            `${text(s.status)}\t${s.started_at}\t${s.duration_ms}\t${nullable(s.error_type)}\t${nullable(s.error_message)}\t` +
            `${json(s.metadata)}\t${json(s.captured_params)}\t${tail}\t${s.status === 'started' ? 0 : 1}\t${dayOf(s.started_at)}\n`,
        );
      }
      break;
    }
    case 'event': {
      table = 'events';
      // The event's place in its batch makes the key; a batch without an id gets a key of its
      // own, so its events are never taken for another's (and a retry of it is not recognised).
      const batchKey = input.batchId ?? `${receivedAt.toString(36)}-${Math.random().toString(36).slice(2)}`;
      const r = input.resource;
      const tail = `${nullable(r?.service)}\t${nullable(r?.environment)}\t${nullable(r?.host)}\t${number(r?.pid)}`;
      input.events.forEach((e, i) => {
        lines.push(
          `${text(project)}\t${text(`${batchKey}:${String(i).padStart(7, '0')}`)}\t${nullable(e.trace_id)}\t${nullable(e.span_id)}\t` +
            `${nullable(e.workflow)}\t${text(e.event_type)}\t${text(e.name)}\t${nullable(e.message)}\t${text(e.severity)}\t${e.timestamp}\t` +
            `${json(e.metadata)}\t${tail}\t${dayOf(e.timestamp)}\n`,
        );
      });
      break;
    }
    case 'metrics': {
      table = 'metric_samples';
      const key = text(`|${input.service ?? ''}|${input.host ?? ''}`);
      for (const e of input.entries) {
        lines.push(
          `${text(project)}\t${e.pid ?? ''}${key}\t${e.timestamp}\t${e.heap_total}\t${e.heap_used}\t${e.rss}\t${e.external}\t` +
            `${e.array_buffers}\t${e.cpu_usage_pct}\t${e.event_loop_lag}\t${number(e.uss)}\t${number(e.pss)}\t${number(e.vms)}\t` +
            `${number(e.swap)}\t${number(e.pid)}\t${number(e.threads)}\t${number(e.event_loop_p50)}\t${number(e.event_loop_p99)}\t` +
            `${number(e.ppid)}\t${nullable(e.command)}\t${text(input.sdkVersion)}\t${text(input.runtimeVersion)}\t` +
            `${nullable(input.service)}\t${nullable(input.host)}\t${number(e.dropped_ring_full)}\t${number(e.dropped_send_failed)}\t` +
            `${number(e.send_retries)}\t${number(e.metrics_dropped)}\t${number(e.spooled)}\t${number(e.replayed)}\t` +
            `${number(e.dropped_spool_full)}\t${number(e.spool_bytes)}\t${dayOf(e.timestamp)}\n`,
        );
      }
      break;
    }
  }
  const body = Buffer.from(lines.join(''), 'utf8');
  const header = Buffer.from(
    JSON.stringify({ batchId: input.batchId, accepted: lines.length, tables: lines.length === 0 ? [] : [[table, lines.length, body.length]] }),
    'utf8',
  );
  // A fresh buffer of its own, so the ingest pool can transfer it rather than copy it.
  const out = new Uint8Array(5 + header.length + body.length);
  out[0] = PACKED_ROWS_TAG;
  new DataView(out.buffer).setUint32(1, header.length, true);
  out.set(header, 5);
  out.set(body, 5 + header.length);
  return out;
}

export function unpackRows(packed: Uint8Array): PackedRows {
  if (packed[0] !== PACKED_ROWS_TAG) {
    throw new Error(`expected rows packed for ClickHouse (tag ${PACKED_ROWS_TAG}), got tag ${packed[0]}: the ingest pool packed for another store`);
  }
  const headerLength = new DataView(packed.buffer, packed.byteOffset, packed.byteLength).getUint32(1, true);
  const header = JSON.parse(Buffer.from(packed.buffer, packed.byteOffset + 5, headerLength).toString('utf8')) as {
    batchId: string | null;
    accepted: number;
    tables: Array<[RowTable, number, number]>;
  };
  let offset = 5 + headerLength;
  const tables = header.tables.map(([table, rows, bytes]) => {
    const text = packed.subarray(offset, offset + bytes);
    offset += bytes;
    return { table, rows, text };
  });
  return { batchId: header.batchId, accepted: header.accepted, tables };
}

/** One record per span id: the first, replaced by a finished one if it was `started`. */
function keptSpans(spans: WireSpan[]): WireSpan[] {
  let seen: Set<string> | null = new Set();
  for (const span of spans) {
    if (seen.has(span.span_id)) {
      seen = null;
      break;
    }
    seen.add(span.span_id);
  }
  // The common case: every id once, nothing to choose.
  if (seen !== null) return spans;
  const kept = new Map<string, WireSpan>();
  for (const span of spans) {
    const earlier = kept.get(span.span_id);
    if (earlier === undefined || (earlier.status === 'started' && span.status !== 'started')) kept.set(span.span_id, span);
  }
  return [...kept.values()];
}

/** TabSeparated escapes: a backslash, tab or line break inside a value would end it. */
const SPECIAL = /[\\\t\n\r\0]/;
const SPECIALS = /[\\\t\n\r\0]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0' };

function text(value: string): string {
  return SPECIAL.test(value) ? value.replace(SPECIALS, (c) => ESCAPES[c]!) : value;
}

function nullable(value: string | null | undefined): string {
  return value == null ? '\\N' : text(value);
}

function number(value: number | null | undefined): string {
  return value == null ? '\\N' : String(value);
}

function json(attributes: Record<string, unknown> | null | undefined): string {
  return attributes == null ? '{}' : text(JSON.stringify(attributes));
}
