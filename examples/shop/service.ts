/**
 * What the shop and the payments service share: the port, the `listening <port>` line the demo
 * waits for, answering a request (and telling the agent about a failed one), stats over IPC,
 * and a clean stop that ships what is buffered before the process ends.
 *
 * The services hold no agent set-up and no request spans: they run under
 * `node -r teracron/auto`, which starts the agent from TERACRON_* variables and records a span
 * per request (continuing the caller's trace from its headers) with the handler's own spans
 * below it.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { down, getClient, recordServerError } from 'teracron';
import type { TeracronStats } from 'teracron';
import { BadRequestError, statusFor } from './errors';

/** demo → service over IPC. */
export interface StatsRequest {
  type: 'stats';
  id: number;
}

/** service → demo: the answer to a StatsRequest, and once more (`final`) after the agent stopped. */
export type ServiceMessage = { type: 'stats'; id: number; stats: TeracronStats } | { type: 'final'; stats: TeracronStats };

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

const MAX_BODY_BYTES = 64 * 1024;
const CLOSE_GRACE_MS = 2000;

/** `--port <n>` or PORT; 0 (the default) takes any free port. */
export function portFrom(raw: string | undefined, name: string): number {
  const text = raw ?? process.env.PORT ?? '0';
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    console.error(`${name}: the port ${JSON.stringify(text)} is not a whole number from 0 to 65535 (give it with --port or PORT)`);
    process.exit(2);
  }
  return port;
}

export function runService(name: string, port: number, handler: Handler): void {
  const client = getClient();
  if (client === null) {
    // teracron/auto has said why on stderr.
    console.error(`${name}: the agent is not running; start the service with node -r teracron/auto and TERACRON_API_KEY set`);
    process.exit(1);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    handler(req, res, url).catch((error: unknown) => {
      console.error(`${req.method} ${url.pathname}: ${(error as Error).stack ?? String(error)}`);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 10_000;
  server.listen(port, '127.0.0.1', () => {
    console.log(`listening ${(server.address() as AddressInfo).port}`);
  });

  process.on('message', (message: StatsRequest) => {
    if (message?.type === 'stats' && process.connected) process.send!({ type: 'stats', id: message.id, stats: client.stats() } satisfies ServiceMessage);
  });

  let stopping = false;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.error(`${why}: closing the server and shipping buffered telemetry`);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
    await closed;
    await down();
    const stats = client.stats();
    console.error(`stopped; telemetry: ${stats.produced} produced, ${stats.sent} sent, ${stats.droppedRingFull + stats.droppedSendFailed} dropped`);
    if (process.connected) process.send!({ type: 'final', stats } satisfies ServiceMessage, () => {
        if (process.connected) process.disconnect();
      });
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // Under the demo, Ctrl-C reaches every process of the terminal's group: the demo stops its
  // load first and then this service (SIGTERM), so the service leaves SIGINT to it.
  process.on('SIGINT', () => {
    if (!process.connected) void stop('SIGINT');
  });
  process.on('disconnect', () => void stop('the demo went away'));
}

/**
 * Answers one request with what `work` returns, or with the status of what it throws. A thrown
 * error is recorded on the request's span; it fails the span unless the request itself was wrong
 * (400, 404), since a declined card or an empty shelf is a failed checkout worth seeing.
 */
export async function serve(req: IncomingMessage, res: ServerResponse, work: () => Promise<unknown>): Promise<void> {
  let body: unknown;
  try {
    body = await work();
  } catch (error) {
    const status = statusFor(error);
    recordServerError(req, error, status !== 400 && status !== 404);
    sendJson(res, status, errorBody(error));
    // The span holds the error; only the unexpected ones are worth a log line.
    if (status === 500) console.error(`${req.method} ${req.url}: ${(error as Error).stack ?? String(error)}`);
    return;
  }
  sendJson(res, 200, body);
}

function errorBody(error: unknown): Record<string, unknown> {
  const { name, message, declineCode } = error as { name?: string; message?: string; declineCode?: string };
  return { error: name ?? 'Error', message: message ?? String(error), ...(declineCode === undefined ? {} : { decline_code: declineCode }) };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BadRequestError(`the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BadRequestError('the body is not JSON');
  }
}
