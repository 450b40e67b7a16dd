/**
 * From a sealed body to what the store writes: the envelope opened with the project's key, the
 * plaintext decoded within its bounds, other clients' shapes adopted, every record validated and
 * its times checked against the retention window. Pure and synchronous: the collector runs it on
 * its ingest pool (ingest-worker.ts), so the RSA decryption (3–8 ms) and the decoding of a
 * large batch never hold the event loop that answers every other request.
 */
import type { KeyObject } from 'node:crypto';
import { TeracronEnvelopeError, TeracronWireError } from '../errors';
import { decodeBatch, INGEST_PATHS } from '../wire/batch-codec';
import { openEnvelope } from '../wire/envelope';
import { decodeMetricsBatch } from '../wire/metrics-batch';
import type { StructureBounds } from '../wire/structure-bounds';
import { packBatch } from './batch-packing';
import type { BatchPacking } from './batch-packing';
import { adoptForeignShapes } from './foreign-shapes';
import { logOccurrences, spanOccurrences } from './issues/occurrences';
import type { IngestInput } from './store/types';
import { checkTimeWindow, LIMITS, validateMetricsBatch, validateTelemetryBatch } from './validate';
import type { TimeWindow } from './validate';

export type IngestKind = 'metrics' | 'trace' | 'event' | 'log';

export interface OpenTask {
  slug: string;
  kind: IngestKind;
  body: Uint8Array;
  window: TimeWindow;
}

export type OpenResult =
  | { ok: true; input: IngestInput; items: number }
  | {
      ok: false;
      status: number;
      error: string;
      hint: string;
      /** The envelope did not open: nothing shows the sender holds the project's key. */
      beforeAuth: boolean;
    };

/** What crosses back from the pool: the batch packed for the store's writer (batch-packing.ts). */
export type PackedOpenResult =
  | Exclude<OpenResult, { ok: true }>
  | { ok: true; packed: Uint8Array; items: number };

export function packOpened(result: OpenResult, packing: BatchPacking, slug: string): PackedOpenResult {
  if (!result.ok) return result;
  return { ok: true, packed: packBatch(packing, slug, result.input), items: result.items };
}

/**
 * What a SPEC batch can hold, checked before decoding: records are maps of a dozen keys with
 * metadata of at most LIMITS.attributeKeys, a few levels deep; the one long array is the records.
 */
const DECODE_BOUNDS: StructureBounds = {
  maxArray: LIMITS.batchItems,
  maxMapKeys: 2 * LIMITS.attributeKeys,
  maxDepth: 8,
  maxValues: 4_000_000,
};

function refused(status: number, error: string, hint: string, beforeAuth = false): OpenResult {
  return { ok: false, status, error, hint, beforeAuth };
}

export function openBatch(task: OpenTask, privateKey: KeyObject): OpenResult {
  const { slug, kind, body, window } = task;
  let plaintext: Buffer;
  try {
    plaintext = openEnvelope(body, privateKey);
  } catch (err) {
    if (!(err instanceof TeracronEnvelopeError)) throw err;
    if (err.reason === 'too-short') return refused(400, err.message, 'the body must be an envelope: 512-byte wrapped key, 12-byte IV, 16-byte tag, ciphertext', true);
    return refused(401, err.message, `seal batches with project ${slug}'s public key (the one in its TERACRON_API_KEY)`, true);
  }
  try {
    return kind === 'metrics' ? openMetrics(plaintext, window) : openTelemetry(plaintext, kind, slug, window);
  } catch (err) {
    if (err instanceof TeracronWireError) return refused(400, err.message, 'the plaintext must be a protobuf MetricsBatch (/api/ingest) or a JSON/msgpack batch of SPEC §3');
    throw err;
  }
}

function openMetrics(plaintext: Buffer, window: TimeWindow): OpenResult {
  const batch = decodeMetricsBatch(plaintext, LIMITS.metricsEntries);
  const check = validateMetricsBatch(batch);
  if (!check.ok) return refused(400, check.error, check.hint);
  const inWindow = checkTimeWindow(batch, window);
  if (!inWindow.ok) return refused(400, inWindow.error, inWindow.hint);
  const input: IngestInput = {
    kind: 'metrics',
    batchId: null,
    entries: batch.entries,
    sdkVersion: batch.sdk_version,
    runtimeVersion: batch.runtime_version,
    service: batch.service || null,
    host: batch.host || null,
  };
  return { ok: true, input, items: batch.entries.length };
}

function openTelemetry(plaintext: Buffer, kind: Exclude<IngestKind, 'metrics'>, slug: string, window: TimeWindow): OpenResult {
  const batch = decodeBatch(plaintext, DECODE_BOUNDS);
  adoptForeignShapes(batch);
  if (batch.type !== kind) {
    return refused(400, `a ${batch.type} batch was sent to the ${kind} endpoint`, `POST ${batch.type} batches to ${INGEST_PATHS[batch.type]}`);
  }
  const check = validateTelemetryBatch(batch, slug);
  if (!check.ok) return refused(400, check.error, check.hint);
  const inWindow = checkTimeWindow(batch, window);
  if (!inWindow.ok) return refused(400, inWindow.error, inWindow.hint);
  const batchId = batch.batch_id ?? null;
  const resource = batch.resource ?? null;
  // Errors are fingerprinted here, on the pool: hashing and normalising is CPU work the
  // store's writer should not do.
  let input: IngestInput;
  switch (batch.type) {
    case 'trace':
      input = { kind: 'trace', batchId, resource, spans: batch.spans, occurrences: spanOccurrences(batch.spans) };
      break;
    case 'event':
      input = { kind: 'event', batchId, resource, events: batch.events };
      break;
    case 'log':
      input = { kind: 'log', batchId, resource, logs: batch.logs, ...logOccurrences(batch.logs) };
      break;
  }
  return { ok: true, input, items: check.items };
}
