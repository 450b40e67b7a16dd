/**
 * A loopback receiver built on src/wire, standing in for the collector in agent tests: it opens
 * every envelope with the project's private key, decodes the batch and keeps what arrived.
 * `respond` scripts the answers (503, 429 with Retry-After, …) request by request.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KeyObject } from 'node:crypto';
import { openEnvelope } from '../../src/wire/envelope';
import { decodeBatch } from '../../src/wire/batch-codec';
import type { TelemetryBatch, WireEvent, WireLog, WireSpan } from '../../src/wire/batch-codec';
import { decodeMetricsBatch } from '../../src/wire/metrics-batch';
import type { MetricsBatch, MetricsEntry } from '../../src/wire/metrics-batch';
import { waitFor } from './wait';

const METRICS_PATH = '/api/ingest';

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Answer this long after the request arrived and was stored: a slow endpoint. Its spans count on arrival. */
  delayMs?: number;
}

export interface ReceivedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  at: number;
  status: number;
  /** The decrypted plaintext, for tests that search the raw bytes. */
  plaintext: Buffer | null;
  batch: TelemetryBatch | null;
}

export interface Receiver {
  url: string;
  port: number;
  /** Trace, event and log requests (what `respond` scripts), in arrival order. */
  requests: ReceivedRequest[];
  /** MetricsBatch requests to /api/ingest, kept apart so scripted answers stay about traces. */
  metricsRequests: Array<{ at: number; status: number; batch: MetricsBatch | null }>;
  /** Entries of metrics batches answered 2xx, in arrival order. */
  metrics: MetricsEntry[];
  /** Spans, events and logs from batches answered 2xx, in arrival order. */
  spans: WireSpan[];
  events: WireEvent[];
  logs: WireLog[];
  batchIds: string[];
  close(): Promise<void>;
  /** Resolves once `count` spans were accepted, or rejects after `timeoutMs` (default: waitFor's). */
  waitForSpans(count: number, timeoutMs?: number): Promise<void>;
}

export async function startReceiver(privateKey: KeyObject, respond?: (index: number, req: IncomingMessage) => Reply): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const spans: WireSpan[] = [];
  const events: WireEvent[] = [];
  const logs: WireLog[] = [];
  const batchIds: string[] = [];
  const metricsRequests: Receiver['metricsRequests'] = [];
  const metrics: MetricsEntry[] = [];
  const delayed = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  });
  function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    if (req.url === METRICS_PATH) return handleMetrics(res, body);
    const index = requests.length;
    const reply = respond?.(index, req) ?? { status: 202 };
    let plaintext: Buffer | null = null;
    let batch: TelemetryBatch | null = null;
    let status = reply.status;
    try {
      plaintext = openEnvelope(body, privateKey);
      batch = decodeBatch(plaintext);
    } catch (err) {
      status = 400;
      reply.body = JSON.stringify({ error: (err as Error).message });
    }
    requests.push({ path: req.url ?? '', headers: req.headers, at: Date.now(), status, plaintext, batch });
    if (status >= 200 && status < 300 && batch !== null) {
      if (batch.batch_id !== undefined) batchIds.push(batch.batch_id);
      if (batch.type === 'trace') spans.push(...batch.spans);
      if (batch.type === 'event') events.push(...batch.events);
      if (batch.type === 'log') logs.push(...batch.logs);
    }
    const answer = (): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body ?? JSON.stringify({ accepted: batch === null ? 0 : 1 }));
    };
    if (reply.delayMs === undefined) return answer();
    const timer = setTimeout(() => {
      delayed.delete(timer);
      answer();
    }, reply.delayMs);
    delayed.add(timer);
  }
  function handleMetrics(res: ServerResponse, body: Buffer): void {
    let batch: MetricsBatch | null = null;
    let status = 202;
    try {
      batch = decodeMetricsBatch(openEnvelope(body, privateKey));
      metrics.push(...batch.entries);
    } catch {
      status = 400;
    }
    metricsRequests.push({ at: Date.now(), status, batch });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ accepted: batch === null ? 0 : batch.entries.length }));
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    metricsRequests,
    metrics,
    spans,
    events,
    logs,
    batchIds,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of delayed) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    waitForSpans: async (count, timeoutMs) => {
      await waitFor(`${count} spans at the receiver`, () => spans.length >= count, { ...(timeoutMs === undefined ? {} : { timeoutMs }), seen: () => `${spans.length} spans in ${requests.length} requests` });
    },
  };
}
