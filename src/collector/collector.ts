/**
 * The collector: the keys of every project in `<data>/keys/`, a store (SQLite in
 * `<data>/teracron.db` by default, or ClickHouse, which several collectors can share: see
 * store-location.ts), and one HTTP(S) server for ingest and queries. Threads: the event loop
 * (HTTP, admission, queries), the ingest pool (opening and checking bodies) and, with SQLite,
 * the store's writer (every write, the retention sweep). Bound to 127.0.0.1 unless told
 * otherwise. `close()` stops accepting, lets requests in flight finish, then closes the store
 * (after it has written what it was sent), which is what SIGINT/SIGTERM do.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serveDashboard } from './dashboard';
import { sendError } from './http-util';
import { handleIngest, ingestKind } from './ingest';
import { createBatchOpener, defaultIngestThreads } from './ingest-pool';
import type { IngestContext } from './ingest';
import { loadProjectKeys } from './keys';
import { handleQuery, handleQueryPatch } from './query-api';
import type { QueryContext } from './query-api';
import { RateLimiter } from './rate-limit';
import type { QueryStore } from './store-backend';
import { openStore } from './store-location';
import { DEFAULT_UPLOAD_LIMITS, UploadAdmission } from './upload-admission';
import type { UploadLimits } from './upload-admission';

export interface CollectorOptions {
  dataDir: string;
  /** Where the data goes: `sqlite` (the default, in dataDir) or `clickhouse://user:pass@host:8123/db`. */
  store?: string;
  host?: string;
  /** 0 picks a free port (tests). */
  port?: number;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  maxBodyBytes?: number;
  /** What request bodies may hold of memory: upload-admission.ts. */
  uploadLimits?: UploadLimits;
  retentionDays?: number;
  /** Sustained batches per second per project, and the burst above it. */
  ingestRatePerSecond?: number;
  ingestBurst?: number;
  queryRatePerSecond?: number;
  queryBurst?: number;
  /** Requests refused before authentication, per client address: sustained per second, and burst. */
  refusalRatePerSecond?: number;
  refusalBurst?: number;
  /** Threads that open, decode and validate bodies; 0 opens them on the event loop. */
  ingestThreads?: number;
  log?: (line: string) => void;
}

export interface RunningCollector {
  url: string;
  port: number;
  store: QueryStore;
  /** Which store, without credentials. */
  storeDescription: string;
  ingestStats: IngestContext['stats'];
  close(): Promise<void>;
}

export const DEFAULT_PORT = 7777;
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
export const DEFAULT_RETENTION_DAYS = 7;
const RETENTION_SWEEP_MS = 60 * 60 * 1000;

export async function startCollector(options: CollectorOptions): Promise<RunningCollector> {
  const log = options.log ?? (() => {});
  const projects = loadProjectKeys(options.dataDir);
  const backend = await openStore(options.store, options.dataDir, log);
  const writer = backend.writer;
  const ingest: IngestContext = {
    projects,
    writer,
    log,
    limiter: new RateLimiter({ ratePerSecond: options.ingestRatePerSecond ?? 500, burst: options.ingestBurst ?? 1000 }),
    // A refused request costs up to one RSA decryption (~4 ms): 20 a second is under a tenth of
    // a core per address, and a burst of 100 leaves room for a fleet restarted with a stale key.
    refusalLimiter: new RateLimiter({ ratePerSecond: options.refusalRatePerSecond ?? 20, burst: options.refusalBurst ?? 100 }),
    admission: new UploadAdmission(options.uploadLimits ?? DEFAULT_UPLOAD_LIMITS),
    opener: createBatchOpener(projects, options.ingestThreads ?? defaultIngestThreads(), backend.packing),
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    retentionDays: options.retentionDays ?? DEFAULT_RETENTION_DAYS,
    stats: { accepted: 0, rejected: 0, duplicates: 0 },
  };
  const query: QueryContext = {
    projects,
    store: backend.queries,
    limiter: new RateLimiter({ ratePerSecond: options.queryRatePerSecond ?? 50, burst: options.queryBurst ?? 200 }),
  };

  const retentionDays = ingest.retentionDays;
  let sweeping: Promise<void> | null = null;
  const sweep = (): void => {
    if (sweeping !== null) return;
    sweeping = writer
      .sweep(retentionDays, Date.now())
      .then(
        (deleted) => {
          if (deleted > 0) log(`retention: deleted ${deleted} rows older than ${retentionDays} days`);
        },
        (err: unknown) => log(`retention sweep failed (it runs again in an hour): ${err instanceof Error ? err.message : String(err)}`),
      )
      .finally(() => (sweeping = null));
  };
  sweep();
  const retentionTimer = setInterval(sweep, RETENTION_SWEEP_MS);
  retentionTimer.unref();

  let inFlight = 0;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    inFlight++;
    res.on('close', () => inFlight--);
    route(ingest, query, req, res).catch((err: unknown) => {
      log(`internal error on ${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (!res.headersSent) sendError(res, 500, 'internal error in the collector', 'see the collector\'s log; the batch was not stored, so the sender may retry');
      else res.destroy();
    });
  };

  const secure = options.tlsCertFile !== undefined || options.tlsKeyFile !== undefined;
  if (secure && (options.tlsCertFile === undefined || options.tlsKeyFile === undefined)) {
    throw new Error('TLS needs both --tls-cert and --tls-key (`teracron keygen --dir <dir> --tls` writes a pair for localhost)');
  }
  const server: Server = secure ? createHttpsServer({ cert: readFileSync(options.tlsCertFile!), key: readFileSync(options.tlsKeyFile!) }, handler) : createHttpServer(handler);
  server.keepAliveTimeout = 60_000;
  const host = options.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? DEFAULT_PORT, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    // Port taken, say: nothing was served, so release the database and the sweep at once.
    clearInterval(retentionTimer);
    await backend.close();
    await (sweeping as Promise<void> | null);
    await ingest.opener.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const url = `${secure ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      clearInterval(retentionTimer);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Requests in flight finish; a connection that stays busy is cut after a grace period.
      const deadline = Date.now() + 5000;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      server.closeAllConnections();
      await closed;
      await ingest.opener.close();
      // Ends a sweep at its next chunk; every batch answered 202 was stored before its answer.
      await backend.close();
      await (sweeping as Promise<void> | null);
    })());

  return { url, port, store: backend.queries, storeDescription: backend.description, ingestStats: ingest.stats, close };
}

async function route(ingest: IngestContext, query: QueryContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://collector');
  const path = url.pathname;
  if (req.method === 'POST') {
    const kind = ingestKind(path);
    if (kind !== undefined) return handleIngest(ingest, kind, req, res);
  }
  if (req.method === 'GET' && (await handleQuery(query, path, url, req, res))) return;
  if (req.method === 'PATCH' && (await handleQueryPatch(query, path, req, res))) return;
  if ((req.method === 'GET' || req.method === 'HEAD') && (await serveDashboard(path, req, res))) return;
  sendError(
    res,
    req.method === 'GET' || req.method === 'POST' || req.method === 'PATCH' ? 404 : 405,
    `no ${req.method} ${path} here`,
    'ingest: POST /api/ingest, /api/v1/traces, /api/v1/events, /api/v1/logs; queries: GET /v1/auth/whoami, /api/v1/events, /api/v1/workflows, ' +
      '/api/v1/traces/:id, /api/v1/spans/:id, /api/v1/metrics, /api/v1/recorded-events, /api/v1/logs, /api/v1/issues, /api/v1/issues/:fingerprint; ' +
      'PATCH /api/v1/issues/:fingerprint {"status": …}',
  );
}
