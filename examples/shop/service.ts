/**
 * What the shop and the payments service share: the agent, the port, the `listening <port>`
 * line the demo waits for, a traced request wrapper, stats over IPC, and a clean stop that
 * ships what is buffered before the process ends.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { continueTrace, down, TRACE_HEADER, up, withSpan } from 'teracron';
import type { TeracronClient, TeracronStats } from 'teracron';
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
  let client: TeracronClient;
  try {
    // The key and the collector's address come from TERACRON_API_KEY and TERACRON_DOMAIN.
    client = up({ service: name });
  } catch (error) {
    console.error(`${name}: ${(error as Error).message}`);
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
 * Answers one request inside a root span `operation` of `workflow` (or a child of the caller's
 * span, when the request carries X-Teracron-Trace). A thrown error is answered with its status
 * and fails the span, which records its type and message.
 */
export async function serveTraced(workflow: string, operation: string, req: IncomingMessage, res: ServerResponse, work: () => Promise<unknown>): Promise<void> {
  try {
    await continueTrace(req.headers[TRACE_HEADER], () =>
      withSpan(workflow, { operation }, async (span) => {
        span.setMetadata({ 'http.method': req.method ?? 'GET', 'http.route': operation.slice(operation.indexOf(' ') + 1) });
        let body: unknown;
        try {
          body = await work();
        } catch (error) {
          const status = statusFor(error);
          span.setMetadata({ 'http.status_code': status });
          sendJson(res, status, errorBody(error));
          throw error;
        }
        span.setMetadata({ 'http.status_code': 200 });
        sendJson(res, 200, body);
      }),
    );
  } catch (error) {
    // Already answered; the span holds the error. Only the unexpected ones are worth a log line.
    if (statusFor(error) === 500) console.error(`${operation}: ${(error as Error).stack ?? String(error)}`);
  }
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
