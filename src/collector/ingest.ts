/**
 * The ingest endpoints of SPEC §3. Checks run cheapest first, and nothing is stored from a batch
 * that fails any of them:
 *
 *   size (Content-Length, then while reading) → known slug → rate limit → envelope (a failed
 *   GCM tag or a key that is not this project's: 401) → decode (protobuf, JSON or msgpack) →
 *   validation of every record → one transaction
 *
 * A batch_id seen before is answered 202 again with nothing stored, so a sender retrying after
 * a lost 202 does not duplicate data.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TeracronEnvelopeError, TeracronWireError } from '../errors';
import { INGEST_PATHS, decodeBatch } from '../wire/batch-codec';
import type { TelemetryBatch } from '../wire/batch-codec';
import { openEnvelope } from '../wire/envelope';
import { decodeMetricsBatch } from '../wire/metrics-batch';
import { BodyTooLarge, readBody, sendError, sendJson } from './http-util';
import type { ProjectKeys } from './keys';
import type { RateLimiter } from './rate-limit';
import type { CollectorStore } from './store';
import { validateMetricsBatch, validateTelemetryBatch } from './validate';

export interface IngestContext {
  projects: Map<string, ProjectKeys>;
  store: CollectorStore;
  limiter: RateLimiter;
  maxBodyBytes: number;
  /** Counters for the collector's own log line and tests. */
  stats: { accepted: number; rejected: number; duplicates: number };
}

const KIND_BY_PATH: Record<string, 'metrics' | 'trace' | 'event' | 'log'> = {
  [INGEST_PATHS.metrics]: 'metrics',
  [INGEST_PATHS.trace]: 'trace',
  [INGEST_PATHS.event]: 'event',
  [INGEST_PATHS.log]: 'log',
};

export function ingestKind(path: string): 'metrics' | 'trace' | 'event' | 'log' | undefined {
  return KIND_BY_PATH[path];
}

export async function handleIngest(ctx: IngestContext, kind: 'metrics' | 'trace' | 'event' | 'log', req: IncomingMessage, res: ServerResponse): Promise<void> {
  const reject = (status: number, error: string, hint: string, headers?: Record<string, string>): void => {
    ctx.stats.rejected++;
    if (!req.complete) discardRest(req);
    sendError(res, status, error, hint, headers);
  };

  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > ctx.maxBodyBytes) {
    return reject(413, `the body is ${declared} bytes; this collector accepts at most ${ctx.maxBodyBytes}`, 'send smaller batches (TERACRON_TRACE_BATCH_SIZE), or start the collector with a larger --max-body-bytes');
  }
  const slugHeader = req.headers['x-project-slug'];
  const slug = typeof slugHeader === 'string' ? slugHeader : '';
  const project = ctx.projects.get(slug);
  if (project === undefined) {
    return reject(401, `unknown project slug ${JSON.stringify(slug.slice(0, 64))}`, 'the X-Project-Slug header must name a project whose key is in this collector\'s keys/ directory; check TERACRON_API_KEY');
  }
  const allowed = ctx.limiter.take(slug);
  if (!allowed.ok) {
    return reject(429, `project ${slug} is sending faster than this collector accepts`, `retry after ${allowed.retryAfterS} s`, { 'retry-after': String(allowed.retryAfterS) });
  }

  let body: Buffer;
  try {
    body = await readBody(req, ctx.maxBodyBytes);
  } catch (err) {
    if (err instanceof BodyTooLarge) return reject(413, `the body exceeds ${ctx.maxBodyBytes} bytes`, 'send smaller batches, or start the collector with a larger --max-body-bytes');
    return reject(400, `the body could not be read: ${(err as Error).message}`, 'resend the batch');
  }

  let plaintext: Buffer;
  try {
    plaintext = openEnvelope(body, project.privateKey);
  } catch (err) {
    if (err instanceof TeracronEnvelopeError) {
      if (err.reason === 'too-short') return reject(400, err.message, 'the body must be an envelope: 512-byte wrapped key, 12-byte IV, 16-byte tag, ciphertext');
      return reject(401, err.message, `seal batches with project ${slug}'s public key (the one in its TERACRON_API_KEY)`);
    }
    throw err;
  }

  try {
    if (kind === 'metrics') {
      const batch = decodeMetricsBatch(plaintext);
      const check = validateMetricsBatch(batch);
      if (!check.ok) return reject(400, check.error, check.hint);
      const stored = ctx.store.insertBatch(slug, {
        kind: 'metrics',
        batchId: null,
        entries: batch.entries,
        sdkVersion: batch.sdk_version,
        runtimeVersion: batch.runtime_version,
        service: batch.service || null,
        host: batch.host || null,
      });
      return accepted(ctx, res, stored, batch.entries.length);
    }
    const batch: TelemetryBatch = decodeBatch(plaintext);
    if (batch.type !== kind) {
      return reject(400, `a ${batch.type} batch was sent to the ${kind} endpoint`, `POST ${batch.type} batches to ${INGEST_PATHS[batch.type]}`);
    }
    const check = validateTelemetryBatch(batch, slug);
    if (!check.ok) return reject(400, check.error, check.hint);
    const batchId = batch.batch_id ?? null;
    const resource = batch.resource ?? null;
    if (batch.type === 'log') {
      // Accepting and discarding would lose data silently: say plainly that logs are not kept here.
      return reject(501, 'this collector does not store log batches yet', 'the batch was validated but not stored; keep the logs elsewhere until the collector gains a log store');
    }
    const stored =
      batch.type === 'trace'
        ? ctx.store.insertBatch(slug, { kind: 'trace', batchId, resource, spans: batch.spans })
        : ctx.store.insertBatch(slug, { kind: 'event', batchId, resource, events: batch.events });
    return accepted(ctx, res, stored, check.items);
  } catch (err) {
    if (err instanceof TeracronWireError) return reject(400, err.message, 'the plaintext must be a protobuf MetricsBatch (/api/ingest) or a JSON/msgpack batch of SPEC §3');
    throw err;
  }
}

/** Bytes of a refused body read and thrown away so the sender can finish and see the answer. */
const DISCARD_LIMIT = 64 * 1024 * 1024;

/**
 * A refused body is read to its end without being kept, so the sender gets the status instead
 * of a broken pipe (which it would take for a network error and retry); past DISCARD_LIMIT the
 * connection is cut.
 */
function discardRest(req: IncomingMessage): void {
  let discarded = 0;
  req.removeAllListeners('data');
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DISCARD_LIMIT) req.destroy();
  });
  req.resume();
}

function accepted(ctx: IngestContext, res: ServerResponse, stored: { accepted: number; duplicate: boolean }, items: number): void {
  if (stored.duplicate) {
    ctx.stats.duplicates++;
    return sendJson(res, 202, { accepted: 0, dropped: items, duplicate: true });
  }
  ctx.stats.accepted += stored.accepted;
  sendJson(res, 202, { accepted: stored.accepted, dropped: items - stored.accepted });
}
