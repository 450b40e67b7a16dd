/**
 * The receiving end of bench/pipeline.ts: a loopback HTTP server in its own process (forked,
 * with an IPC channel), so that the CPU it spends opening batches is not taken from the
 * producer's threads. It does what a real receiver must do before it can count:
 *
 *   teracron  route by path as the collector does (bench/ingest-reader.ts): open the envelope
 *             (RSA-OAEP + AES-256-GCM) with the bench project's private key, whose path is the
 *             second argument, decode the batch the path names (trace, event, log, or the
 *             protobuf MetricsBatch every agent sends at exit), count spans from trace batches
 *             only, answer 202
 *   otlp      parse the OTLP/HTTP JSON body of /v1/traces, count the spans of every resource and
 *             scope, answer 200
 *
 * Requests are tallied per endpoint; a body that cannot be read is answered 400 and tallied as
 * unreadable with the first reason, so the parent can say which endpoint failed and why.
 *
 * The parent sends `{ type: 'reset' }` before a run and `{ type: 'count' }` after it; both are
 * answered with a SinkCount. Times are unix milliseconds with sub-millisecond resolution
 * (timeOrigin + performance.now()), comparable with the producer's.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { loadPrivateKey } from '../src/wire/envelope';
import { TRACE_PATH, readTeracronBody, tallyBody } from './ingest-reader';
import type { Tally } from './ingest-reader';

export type SinkFormat = 'teracron' | 'otlp';

export interface SinkCount {
  type: 'count';
  /** Spans read from trace batches (teracron) or OTLP trace requests. */
  spans: number;
  requests: number;
  bytes: number;
  /** Per path: requests, items read, and bodies that could not be read (answered 400). */
  endpoints: Tally;
  /** When the first and the last counted span arrived; 0 when none did. */
  firstAt: number;
  lastAt: number;
  /** CPU (user + system) this process spent since the last reset. */
  cpuMs: number;
}

export type SinkRequest = { type: 'reset' } | { type: 'count' };
export type SinkMessage = { type: 'ready'; url: string } | SinkCount;

const OTLP_TRACE_PATH = '/v1/traces';

interface OtlpBody {
  resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: unknown[] }> }>;
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

function otlpSpans(path: string, body: Buffer): number {
  if (path !== OTLP_TRACE_PATH) throw new Error(`${path} is not the OTLP/HTTP traces endpoint (${OTLP_TRACE_PATH})`);
  const parsed = JSON.parse(body.toString('utf8')) as OtlpBody;
  let spans = 0;
  for (const resource of parsed.resourceSpans ?? []) for (const scope of resource.scopeSpans ?? []) spans += scope.spans?.length ?? 0;
  return spans;
}

function startSink(format: SinkFormat, pemPath: string | undefined): void {
  const privateKey = format === 'teracron' ? loadPrivateKey(readFileSync(pemPath!, 'utf8')) : null;
  let count: SinkCount;
  let cpuBase = process.cpuUsage();
  const reset = (): void => {
    count = { type: 'count', spans: 0, requests: 0, bytes: 0, endpoints: {}, firstAt: 0, lastAt: 0, cpuMs: 0 };
    cpuBase = process.cpuUsage();
  };
  reset();

  const read = (path: string, body: Buffer): number => (privateKey !== null ? readTeracronBody(path, body, privateKey) : otlpSpans(path, body));
  const carriesSpans = (path: string): boolean => (privateKey !== null ? path === TRACE_PATH : path === OTLP_TRACE_PATH);

  const handle = (path: string, res: ServerResponse, body: Buffer): void => {
    count.requests++;
    count.bytes += body.byteLength;
    const result = tallyBody(count.endpoints, path, () => read(path, body));
    if (!result.ok) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: result.error }));
      return;
    }
    if (result.items > 0 && carriesSpans(path)) {
      const at = now();
      if (count.spans === 0) count.firstAt = at;
      count.lastAt = at;
      count.spans += result.items;
    }
    if (privateKey !== null) res.writeHead(202).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(new URL(req.url ?? '/', 'http://sink').pathname, res, Buffer.concat(chunks)));
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.send!({ type: 'ready', url: `http://127.0.0.1:${port}` } satisfies SinkMessage);
  });

  process.on('message', (message: SinkRequest) => {
    switch (message.type) {
      case 'reset':
        reset();
        break;
      case 'count':
        break;
      default:
        throw new Error(`counting-sink: unknown message ${JSON.stringify(message satisfies never)}`);
    }
    const cpu = process.cpuUsage(cpuBase);
    process.send!({ ...count, cpuMs: (cpu.user + cpu.system) / 1000 } satisfies SinkMessage);
  });
  // Exit rather than die on the signal, so that --cpu-prof gets to write its profile; the parent
  // going away (even without a kill) ends the sink too.
  process.on('SIGTERM', () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
}

if (require.main === module) {
  const [format, pemPath] = process.argv.slice(2);
  if (format !== 'teracron' && format !== 'otlp') throw new Error(`counting-sink: format must be teracron or otlp, not ${String(format)}`);
  if (format === 'teracron' && pemPath === undefined) throw new Error('counting-sink: teracron needs the path of the project\'s private key (.pem) as its second argument');
  if (process.send === undefined) throw new Error('counting-sink: start it with child_process.fork (it reports over IPC)');
  startSink(format, pemPath);
}
