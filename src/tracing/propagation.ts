/**
 * The propagation header: `X-Teracron-Trace: <trace_id>` or `<trace_id>:<span_id>`, 32 hex
 * characters each. Anything malformed is ignored (null), never thrown: a header is input from
 * another process, and a bad one must not break the request it came with.
 */
import { idWordsFrom, idWordsToHex } from '../recorder/ids';
import type { IdWords } from '../recorder/ids';

export const TRACE_HEADER = 'x-teracron-trace';

export interface RemoteParent {
  traceId: IdWords;
  /** The caller's span, parent of the spans started here; null when only the trace was sent. */
  spanId: IdWords | null;
}

const HEADER = /^\s*([0-9a-fA-F]{32})(?::([0-9a-fA-F]{32}))?\s*$/;

export function parseTraceHeader(value: unknown): RemoteParent | null {
  if (Array.isArray(value)) value = value[0];
  if (typeof value !== 'string' || value.length > 100) return null;
  const match = HEADER.exec(value);
  if (match === null) return null;
  const traceId = idWordsFrom(match[1]!.toLowerCase());
  if (traceId === null) return null;
  const spanId = match[2] === undefined ? null : idWordsFrom(match[2].toLowerCase());
  if (match[2] !== undefined && spanId === null) return null;
  return { traceId, spanId };
}

export function formatTraceHeader(traceId: IdWords, spanId: IdWords | null): string {
  return spanId === null ? idWordsToHex(traceId) : `${idWordsToHex(traceId)}:${idWordsToHex(spanId)}`;
}
