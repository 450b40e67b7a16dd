/**
 * The query API's parameters, read and checked before any lookup: a bad one is a BadParameter,
 * answered 400 with what was wrong (the value) and what to send instead.
 */
import { isQueryId } from './validate';

export class BadParameter extends Error {
  override name = 'BadParameter';

  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

/**
 * A segment whose percent-escapes are not UTF-8 (`%ZZ`, `%E0%A4%A`) is kept as sent: it is no
 * id either way, and checkId answers 400 naming it, where decodeURIComponent's URIError was a 500.
 */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function checkId(id: string, what: string): string {
  if (!isQueryId(id)) throw new BadParameter(`${what} ${JSON.stringify(id.slice(0, 80))} is not lowercase hex of at most 64 characters`, 'ids are the 32-hex trace_id / span_id fields of the spans');
  return id;
}

export function readLimit(params: URLSearchParams, fallback: number, max = 1000): number {
  const raw = params.get('limit');
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new BadParameter(`limit=${JSON.stringify(raw.slice(0, 40))} is not a number`, `use a whole number from 1 to ${max}`);
  return Math.min(max, Math.max(1, Math.trunc(value)));
}

export function readSince(params: URLSearchParams): number | undefined {
  const raw = params.get('since');
  if (raw === null || raw === '') return undefined;
  const time = Date.parse(raw);
  if (Number.isNaN(time) || !/^\d{4}-\d{2}-\d{2}/.test(raw)) throw new BadParameter(`since=${JSON.stringify(raw.slice(0, 40))} is not an ISO 8601 time`, 'use e.g. since=2026-11-21T10:00:00Z');
  return time;
}

export function readTime(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  if (/^\d+$/.test(raw)) return Number(raw);
  const time = Date.parse(raw);
  if (Number.isNaN(time)) throw new BadParameter(`${name}=${JSON.stringify(raw.slice(0, 40))} is neither unix milliseconds nor an ISO 8601 time`, `use e.g. ${name}=${Date.now()}`);
  return time;
}

export function readInteger(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^\d{1,10}$/.test(raw)) throw new BadParameter(`${name}=${JSON.stringify(raw.slice(0, 40))} is not a whole number`, `use e.g. ${name}=1234`);
  return Number(raw);
}
