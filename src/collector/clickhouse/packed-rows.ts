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
 * Events, logs and the errors of logs are keyed by the batch id and their place in the batch
 * (`batchKey:0000012`; `batchKey_0000012` for a log, whose key is its id in the API, which
 * cursors restrict to [0-9A-Za-z_-]), the same at every collector, so copies of a batch written
 * by two collectors collapse (schema.ts). A failed span's occurrence is keyed by the span's ids
 * instead: the span sent again in another batch is one span, so one occurrence, as on SQLite.
 * A trace or log batch brings its issue occurrences along, as rows of a second table in the
 * same packed bytes.
 *
 * Layout of the packed bytes: a tag byte (PACKED_ROWS_TAG), the header's length (u32 LE), the
 * header as JSON ({ batchId, accepted, tables: [[table, rows, bytes], …] }), then each table's
 * rows in that order.
 */
import type { WireResource, WireSpan } from '../../wire/batch-codec';
import type { IngestInput, IssueOccurrence } from '../store/types';

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

export const LOG_COLUMNS = [
  'project', 'log_key', 'timestamp', 'level', 'message', 'module', 'service', 'environment', 'host', 'pid', 'trace_id', 'span_id',
  'extra', 'error_type', 'error_message', 'stack', 'fingerprint', 'day',
] as const;
export const OCCURRENCE_COLUMNS = [
  'project', 'fingerprint', 'occurrence_key', 'timestamp', 'source', 'level', 'type', 'normalized_message', 'frames', 'message',
  'stack', 'service', 'trace_id', 'span_id', 'day',
] as const;

export type RowTable = 'spans' | 'events' | 'metric_samples' | 'logs' | 'issue_occurrences';

export const COLUMNS: Record<RowTable, readonly string[]> = {
  spans: SPAN_COLUMNS,
  events: EVENT_COLUMNS,
  metric_samples: SAMPLE_COLUMNS,
  logs: LOG_COLUMNS,
  issue_occurrences: OCCURRENCE_COLUMNS,
};

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
  const tables: Array<{ table: RowTable; lines: string[] }> = [];
  const head = text(project);
  switch (input.kind) {
    case 'trace': {
      const tail = resourceTail(input.resource);
      const lines: string[] = [];
      for (const s of keptSpans(input.spans)) {
        lines.push(
          `${head}\t${text(s.trace_id)}\t${text(s.span_id)}\t${nullable(s.parent_span_id)}\t${text(s.workflow)}\t${text(s.operation)}\t` +
            `${text(s.status)}\t${s.started_at}\t${s.duration_ms}\t${nullable(s.error_type)}\t${nullable(s.error_message)}\t` +
            `${json(s.metadata)}\t${json(s.captured_params)}\t${tail}\t${s.status === 'started' ? 0 : 1}\t${dayOf(s.started_at)}\n`,
        );
      }
      const occurrences = occurrenceLines(head, input.resource, input.occurrences, (o) => `${o.trace_id ?? ''}:${o.span_id ?? ''}`);
      tables.push({ table: 'spans', lines }, { table: 'issue_occurrences', lines: occurrences });
      break;
    }
    case 'event': {
      const batchKey = batchKeyOf(input.batchId, receivedAt);
      const tail = resourceTail(input.resource);
      const lines = input.events.map(
        (e, i) =>
          `${head}\t${text(`${batchKey}:${String(i).padStart(7, '0')}`)}\t${nullable(e.trace_id)}\t${nullable(e.span_id)}\t` +
          `${nullable(e.workflow)}\t${text(e.event_type)}\t${text(e.name)}\t${nullable(e.message)}\t${text(e.severity)}\t${e.timestamp}\t` +
          `${json(e.metadata)}\t${tail}\t${dayOf(e.timestamp)}\n`,
      );
      tables.push({ table: 'events', lines });
      break;
    }
    case 'log': {
      const batchKey = batchKeyOf(input.batchId, receivedAt);
      const tail = resourceTail(input.resource);
      const lines = input.logs.map(
        (l, i) =>
          `${head}\t${text(logKey(batchKey, i))}\t${l.timestamp}\t${text(l.level)}\t${text(l.message)}\t${nullable(l.module)}\t${tail}\t` +
          `${nullable(l.trace_id)}\t${nullable(l.span_id)}\t${json(l.extra)}\t${nullable(l.error_type)}\t${nullable(l.error_message)}\t` +
          `${nullable(l.stack)}\t${nullable(input.fingerprints[i])}\t${dayOf(l.timestamp)}\n`,
      );
      const occurrences = occurrenceLines(head, input.resource, input.occurrences, (_, i) => logKey(batchKey, i));
      tables.push({ table: 'logs', lines }, { table: 'issue_occurrences', lines: occurrences });
      break;
    }
    case 'metrics': {
      const key = text(`|${input.service ?? ''}|${input.host ?? ''}`);
      const lines = input.entries.map(
        (e) =>
          `${head}\t${e.pid ?? ''}${key}\t${e.timestamp}\t${e.heap_total}\t${e.heap_used}\t${e.rss}\t${e.external}\t` +
          `${e.array_buffers}\t${e.cpu_usage_pct}\t${e.event_loop_lag}\t${number(e.uss)}\t${number(e.pss)}\t${number(e.vms)}\t` +
          `${number(e.swap)}\t${number(e.pid)}\t${number(e.threads)}\t${number(e.event_loop_p50)}\t${number(e.event_loop_p99)}\t` +
          `${number(e.ppid)}\t${nullable(e.command)}\t${text(input.sdkVersion)}\t${text(input.runtimeVersion)}\t` +
          `${nullable(input.service)}\t${nullable(input.host)}\t${number(e.dropped_ring_full)}\t${number(e.dropped_send_failed)}\t` +
          `${number(e.send_retries)}\t${number(e.metrics_dropped)}\t${number(e.spooled)}\t${number(e.replayed)}\t` +
          `${number(e.dropped_spool_full)}\t${number(e.spool_bytes)}\t${dayOf(e.timestamp)}\n`,
      );
      tables.push({ table: 'metric_samples', lines });
      break;
    }
  }
  const bodies = tables.filter((t) => t.lines.length > 0).map((t) => ({ table: t.table, rows: t.lines.length, bytes: Buffer.from(t.lines.join(''), 'utf8') }));
  const header = Buffer.from(
    JSON.stringify({
      batchId: input.batchId,
      // The batch's own records (its first table), not the issue occurrences that come with them.
      accepted: tables[0]!.lines.length,
      tables: bodies.map((b) => [b.table, b.rows, b.bytes.length]),
    }),
    'utf8',
  );
  const bodyLength = bodies.reduce((sum, b) => sum + b.bytes.length, 0);
  // A fresh buffer of its own, so the ingest pool can transfer it rather than copy it.
  const out = new Uint8Array(5 + header.length + bodyLength);
  out[0] = PACKED_ROWS_TAG;
  new DataView(out.buffer).setUint32(1, header.length, true);
  out.set(header, 5);
  let offset = 5 + header.length;
  for (const b of bodies) {
    out.set(b.bytes, offset);
    offset += b.bytes.length;
  }
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

/**
 * The rows' keys start with the batch id; a batch without an id gets a key of its own, so its
 * rows are never taken for another's (and a retry of it is not recognised).
 */
function batchKeyOf(batchId: string | null, receivedAt: number): string {
  return batchId ?? `${receivedAt.toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** A log's key and id: its batch's and its place in the batch, padded so that keys sort in batch order. */
function logKey(batchKey: string, index: number): string {
  return `${batchKey}_${String(index).padStart(7, '0')}`;
}

function resourceTail(r: WireResource | null): string {
  return `${nullable(r?.service)}\t${nullable(r?.environment)}\t${nullable(r?.host)}\t${number(r?.pid)}`;
}

function occurrenceLines(
  head: string, resource: WireResource | null, occurrences: readonly IssueOccurrence[], keyOf: (o: IssueOccurrence, index: number) => string,
): string[] {
  const service = nullable(resource?.service);
  return occurrences.map(
    (o, i) =>
      `${head}\t${text(o.fingerprint)}\t${text(keyOf(o, i))}\t${o.timestamp}\t${text(o.source)}\t${nullable(o.level)}\t` +
      `${text(o.type)}\t${text(o.normalized_message)}\t${text(JSON.stringify(o.frames))}\t${text(o.message)}\t${nullable(o.stack)}\t` +
      `${service}\t${nullable(o.trace_id)}\t${nullable(o.span_id)}\t${dayOf(o.timestamp)}\n`,
  );
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
