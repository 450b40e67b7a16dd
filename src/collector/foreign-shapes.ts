/**
 * Shapes other Teracron clients send that SPEC §3 words differently, brought to SPEC form before
 * validation, so that a batch the hosted platform accepts is not refused here. Each rule names
 * the client and what it sends (audited against the published Python SDK 0.6.1, which drops a
 * batch answered anything but 202 and never retries it):
 *
 * - ids taken from a propagation header are only checked as 32 hex of any case: lowercased;
 * - `operation` is the request's method and whole URL path in its web middleware: clipped to
 *   LIMITS.name code points (a clipped name groups like its prefix; a refused batch is lost);
 * - event batches are typed "events", their records carry `type` (not `event_type`), no `name`
 *   but the span's `operation`, and `error_type` / `error_message` beside them: mapped to
 *   event_type, name (the operation, else the type), message and metadata.error_type;
 * - an event's empty trace_id / span_id means none.
 *
 * `metadata: null` / `captured_params: null` (sent whenever nothing was captured) are accepted by
 * the validator itself as "none". Everything here works in place and only on values that would
 * otherwise be refused, so a SPEC batch passes through untouched.
 */
import type { TelemetryBatch } from '../wire/batch-codec';
import { LIMITS } from './validate';

const HEX32_WITH_UPPER = /^(?=.*[A-F])[0-9a-fA-F]{32}$/;

export function adoptForeignShapes(batch: TelemetryBatch): void {
  const items = (batch.type === 'trace' ? batch.spans : batch.type === 'event' ? batch.events : batch.logs) as unknown;
  if (!Array.isArray(items)) return;
  for (const item of items) {
    if (typeof item !== 'object' || item === null) continue;
    const record = item as Record<string, unknown>;
    lowercaseId(record, 'trace_id');
    lowercaseId(record, 'span_id');
    lowercaseId(record, 'parent_span_id');
    if (batch.type === 'trace') clipName(record, 'operation');
    else if (batch.type === 'event') adoptEventShape(record);
  }
}

function lowercaseId(record: Record<string, unknown>, key: string): void {
  const value = record[key];
  if (typeof value === 'string' && HEX32_WITH_UPPER.test(value)) record[key] = value.toLowerCase();
}

function clipName(record: Record<string, unknown>, key: string): void {
  const value = record[key];
  if (typeof value !== 'string' || value.length <= LIMITS.name) return;
  // Clipped at a code point boundary: LIMITS.name code points, as the validator counts them.
  let end = 0;
  for (let points = 0; points < LIMITS.name && end < value.length; points++) {
    const c = value.charCodeAt(end);
    end += c >= 0xd800 && c <= 0xdbff && end + 1 < value.length && (value.charCodeAt(end + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
  }
  if (end < value.length) record[key] = value.slice(0, end);
}

function adoptEventShape(event: Record<string, unknown>): void {
  if (event['event_type'] === undefined && typeof event['type'] === 'string') {
    event['event_type'] = event['type'];
    delete event['type'];
  }
  if (event['name'] === undefined) {
    const operation = event['operation'];
    event['name'] = typeof operation === 'string' && operation !== '' ? operation : event['event_type'];
    delete event['operation'];
    clipName(event, 'name');
  }
  const errorMessage = event['error_message'];
  if (event['message'] === undefined && typeof errorMessage === 'string') {
    event['message'] = errorMessage;
    delete event['error_message'];
  }
  const errorType = event['error_type'];
  if (typeof errorType === 'string') {
    const metadata = event['metadata'];
    if (metadata === undefined || metadata === null) event['metadata'] = { error_type: errorType };
    else if (typeof metadata === 'object' && !Array.isArray(metadata) && !('error_type' in metadata) && Object.keys(metadata).length < LIMITS.attributeKeys) {
      (metadata as Record<string, unknown>)['error_type'] = errorType;
    }
    delete event['error_type'];
  }
  for (const key of ['trace_id', 'span_id']) {
    if (event[key] === '') event[key] = null;
  }
}
