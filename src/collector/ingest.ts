/**
 * The ingest endpoints of SPEC §3. Checks run cheapest first, and nothing is stored from a batch
 * that fails any of them:
 *
 *   size (Content-Length) → the client address's refusals → known slug → upload admission
 *   (buffered-bytes budget, the project's uploads in flight) → body (size, budget, idle
 *   timeout) → on the ingest pool: envelope (a failed GCM tag or a key that is not this
 *   project's: 401), decode (protobuf, JSON or msgpack, its structure bounded first),
 *   validation of every record and of its times → the project's rate limit → the store's
 *   writer, which stores it (with whatever other batches are waiting) before the 202
 *
 * The slug is public, so nothing before the envelope opens is charged to the project: a request
 * refused before then (unknown slug, a body that never comes, an envelope that does not open) is
 * charged to its client address, and an address over its refusal budget is answered 429 before
 * any work. The project's budget is spent only by batches that decrypt.
 *
 * A batch_id seen before is answered 202 again with nothing stored, so a sender retrying after
 * a lost 202 does not duplicate data.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { INGEST_PATHS } from '../wire/batch-codec';
import { BodyIdle, BodyOverBudget, BodyTooLarge, readBody } from './body-reader';
import { sendError, sendJson } from './http-util';
import type { BatchOpener } from './ingest-pool';
import type { IngestKind } from './open-batch';
import type { ProjectKeys } from './keys';
import type { RateLimiter } from './rate-limit';
import type { IngestResult } from './store';
import { retentionCutoff } from './store/retention';
import { StoreWriteError } from './store-backend';
import type { BatchStore } from './store-backend';
import { UPLOAD_OVERHEAD_BYTES } from './upload-admission';
import type { Upload, UploadAdmission } from './upload-admission';
import type { TimeWindow } from './validate';

export interface IngestContext {
  projects: Map<string, ProjectKeys>;
  /** Stores batches, several at a time (SQLite: store-writer.ts; ClickHouse: clickhouse/writer.ts). */
  writer: BatchStore;
  /** Batches per project, charged once a batch's envelope opens. */
  limiter: RateLimiter;
  /** Requests refused before authentication, per client address. */
  refusalLimiter: RateLimiter;
  admission: UploadAdmission;
  /** Opens, decodes and validates bodies off the event loop (ingest-pool.ts). */
  opener: BatchOpener;
  maxBodyBytes: number;
  /** Records older than this many days are refused: the retention sweep would delete them. */
  retentionDays: number;
  log: (line: string) => void;
  /** Counters for the collector's own log line and tests. */
  stats: { accepted: number; rejected: number; duplicates: number };
}

const KIND_BY_PATH: Record<string, IngestKind> = {
  [INGEST_PATHS.metrics]: 'metrics',
  [INGEST_PATHS.trace]: 'trace',
  [INGEST_PATHS.event]: 'event',
  [INGEST_PATHS.log]: 'log',
  // Builds of the Python SDK 0.6.1 post here, without the /api prefix.
  '/v1/traces': 'trace',
  '/v1/events': 'event',
};

export function ingestKind(path: string): IngestKind | undefined {
  return KIND_BY_PATH[path];
}

export async function handleIngest(ctx: IngestContext, kind: IngestKind, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const address = req.socket.remoteAddress ?? 'unknown';
  const reject = (status: number, error: string, hint: string, headers?: Record<string, string>): void => {
    ctx.stats.rejected++;
    if (!req.complete && headers?.connection !== 'close') discardRest(req);
    sendError(res, status, error, hint, headers);
  };
  /** A refusal before the envelope opened: charged to the client's address, never the project. */
  const refuse = (status: number, error: string, hint: string, headers?: Record<string, string>): void => {
    ctx.refusalLimiter.take(address);
    return reject(status, error, hint, headers);
  };

  const declaredHeader = req.headers['content-length'];
  const declared = declaredHeader === undefined ? undefined : Number(declaredHeader);
  if (declared !== undefined && declared > ctx.maxBodyBytes) {
    return reject(413, `the body is ${declared} bytes; this collector accepts at most ${ctx.maxBodyBytes}`, 'send smaller batches (TERACRON_TRACE_BATCH_SIZE), or start the collector with a larger --max-body-bytes');
  }
  const refusals = ctx.refusalLimiter.check(address);
  if (!refusals.ok) {
    return reject(429, `too many refused requests from ${address}`, `requests from this address kept failing before authentication (unknown slug, a body that never came, an envelope that did not open); fix the sender's TERACRON_API_KEY, then retry after ${refusals.retryAfterS} s`, { 'retry-after': String(refusals.retryAfterS) });
  }
  const slugHeader = req.headers['x-project-slug'];
  const slug = typeof slugHeader === 'string' ? slugHeader : '';
  const project = ctx.projects.get(slug);
  if (project === undefined) {
    return refuse(401, `unknown project slug ${JSON.stringify(slug.slice(0, 64))}`, 'the X-Project-Slug header must name a project whose key is in this collector\'s keys/ directory; check TERACRON_API_KEY');
  }

  const admitted = ctx.admission.admit(slug, declared ?? 0);
  if (!admitted.ok) {
    // The body is not read at all (the connection closes after the answer): reading it only to
    // throw it away is what a flood of uploads would want the collector to spend.
    if (admitted.reason === 'project-busy') {
      return reject(429, `project ${slug} already has ${ctx.admission.limits.maxUploadsPerProject} uploads in flight, this collector's limit per project`, 'retry after 1 s; an agent sends one batch at a time, so many at once means many senders share this project', { 'retry-after': '1', connection: 'close' });
    }
    return reject(503, `the collector is holding ${ctx.admission.buffered} bytes for request bodies and this one (${declared ?? 0} bytes, and ${UPLOAD_OVERHEAD_BYTES} for its connection) would pass its budget of ${ctx.admission.limits.maxBufferedBytes}`, 'retry after 1 s, or start the collector with a larger --max-buffered-bytes', { 'retry-after': '1', connection: 'close' });
  }
  const upload = admitted.upload;
  try {
    await receive(ctx, kind, slug, req, res, upload, declared, reject, refuse);
  } finally {
    // Held until the batch is stored: the plaintext and the decoded batch are at least as big.
    upload.release();
  }
}

type Refusal = (status: number, error: string, hint: string, headers?: Record<string, string>) => void;

/** Reads an admitted upload's body, opens it on the pool and stores it, or refuses it. */
async function receive(
  ctx: IngestContext, kind: IngestKind, slug: string, req: IncomingMessage, res: ServerResponse, upload: Upload,
  declared: number | undefined, reject: Refusal, refuse: Refusal,
): Promise<void> {
  let body: Buffer;
  try {
    body = await readBody(req, { maxBytes: ctx.maxBodyBytes, declared, upload, idleMs: ctx.admission.limits.idleMs });
  } catch (err) {
    if (err instanceof BodyTooLarge) return reject(413, `the body exceeds ${ctx.maxBodyBytes} bytes`, 'send smaller batches, or start the collector with a larger --max-body-bytes');
    if (err instanceof BodyOverBudget) return reject(503, `the collector is holding ${ctx.admission.buffered} bytes for request bodies, its budget of ${ctx.admission.limits.maxBufferedBytes}`, 'retry after 1 s, or start the collector with a larger --max-buffered-bytes', { 'retry-after': '1', connection: 'close' });
    if (err instanceof BodyIdle) return refuse(408, err.message, 'send the whole body without pausing; the connection is closed', { connection: 'close' });
    return refuse(400, `the body could not be read: ${(err as Error).message}`, 'resend the batch');
  }

  const opened = await ctx.opener.open({ slug, kind, body, window: timeWindow(ctx) });
  if (!opened.ok && opened.beforeAuth) return refuse(opened.status, opened.error, opened.hint);
  // The envelope opened: the sender holds the project's key, so the project's budget pays.
  const allowed = ctx.limiter.take(slug);
  if (!opened.ok) return reject(opened.status, opened.error, opened.hint);
  if (!allowed.ok) {
    return reject(429, `project ${slug} is sending faster than this collector accepts`, `retry after ${allowed.retryAfterS} s`, { 'retry-after': String(allowed.retryAfterS) });
  }
  let stored: IngestResult;
  try {
    stored = await ctx.writer.insert(slug, opened.packed);
  } catch (err) {
    if (!(err instanceof StoreWriteError)) throw err;
    ctx.log(`could not store a batch of project ${slug}: ${err.message}${err.code === undefined ? '' : ` (${err.code})`}`);
    // Nothing of the batch was stored: the sender keeps it and retries.
    return reject(503, `the collector could not store the batch: ${err.message}`, 'retry after 1 s; nothing of this batch was stored', { 'retry-after': '1' });
  }
  accepted(ctx, res, stored, opened.items);
}

/** How far ahead of the collector's clock a sender's may be: a day. */
const CLOCK_SKEW_MS = 24 * 60 * 60 * 1000;

function timeWindow(ctx: IngestContext): TimeWindow {
  const now = Date.now();
  return {
    earliest: retentionCutoff(ctx.retentionDays, now),
    latest: now + CLOCK_SKEW_MS,
    why: `this collector keeps ${ctx.retentionDays} days (--retention-days) and takes times up to a day ahead of its clock`,
  };
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
