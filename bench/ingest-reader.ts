/**
 * What a bench receiver does with a body before it can count anything, routed by path as the
 * real collector routes it (src/collector/ingest.ts): open the envelope, then decode a protobuf
 * MetricsBatch on /api/ingest, or a trace / event / log batch on /api/v1/…, of the type the
 * path names. An agent sends all of these (every process ships its metrics at exit), so a
 * receiver that took every body for a trace batch would fail on a healthy agent.
 *
 * A tally keeps, per endpoint, the requests, the items read and the bodies that could not be
 * read, with the first reason, so that a real corruption still fails the bench and says where.
 */
import type { KeyObject } from 'node:crypto';
import { INGEST_PATHS, batchItemCount, decodeBatch } from '../src/wire/batch-codec';
import { openEnvelope } from '../src/wire/envelope';
import { decodeMetricsBatch } from '../src/wire/metrics-batch';

type IngestKind = keyof typeof INGEST_PATHS;

const KIND_BY_PATH = new Map<string, IngestKind>(Object.entries(INGEST_PATHS).map(([kind, path]) => [path, kind as IngestKind]));

export const TRACE_PATH = INGEST_PATHS.trace;
export const METRICS_PATH = INGEST_PATHS.metrics;

/** Items in one teracron body: spans, events, logs or metrics entries, as the path says. Throws when it cannot be read. */
export function readTeracronBody(path: string, body: Uint8Array, privateKey: KeyObject): number {
  const kind = KIND_BY_PATH.get(path);
  if (kind === undefined) throw new Error(`${path} is not an ingest endpoint; the collector takes ${[...KIND_BY_PATH.keys()].join(', ')}`);
  const plaintext = openEnvelope(body, privateKey);
  if (kind === 'metrics') return decodeMetricsBatch(plaintext).entries.length;
  const batch = decodeBatch(plaintext);
  if (batch.type !== kind) throw new Error(`a ${batch.type} batch was sent to ${path}, which takes ${kind} batches`);
  return batchItemCount(batch);
}

export interface EndpointTally {
  requests: number;
  /** Spans, events, logs or metrics entries read. */
  items: number;
  unreadable: number;
  /** The reason the first unreadable body gave. */
  firstError: string | null;
}

export type Tally = Record<string, EndpointTally>;

export type BodyRead = { ok: true; items: number } | { ok: false; error: string };

/** Reads one body into the tally: its items, or why it could not be read. */
export function tallyBody(tally: Tally, path: string, read: () => number): BodyRead {
  const entry = (tally[path] ??= { requests: 0, items: 0, unreadable: 0, firstError: null });
  entry.requests++;
  try {
    const items = read();
    entry.items += items;
    return { ok: true, items };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    entry.unreadable++;
    entry.firstError ??= error;
    return { ok: false, error };
  }
}

export function itemsAt(tally: Tally, path: string): number {
  return tally[path]?.items ?? 0;
}

/** "/api/ingest: 1 of 1 unreadable (first: …)" for every endpoint with an unreadable body; null when there is none. */
export function describeUnreadable(tally: Tally): string | null {
  const parts = Object.entries(tally)
    .filter(([, entry]) => entry.unreadable > 0)
    .map(([path, entry]) => `${path}: ${entry.unreadable} of ${entry.requests} unreadable (first: ${entry.firstError})`);
  return parts.length === 0 ? null : parts.join('; ');
}

/** "/api/v1/traces 4 requests (20000 items), /api/ingest 1 request (1 item)". */
export function describeTally(tally: Tally): string {
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  const parts = Object.entries(tally).map(([path, entry]) => `${path} ${plural(entry.requests, 'request')} (${plural(entry.items, 'item')})`);
  return parts.length === 0 ? 'nothing' : parts.join(', ');
}
