/**
 * The receiving end of bench/pipeline.ts: a loopback HTTP server in its own process (forked,
 * with an IPC channel), so that the CPU it spends opening batches is not taken from the
 * producer's threads. It does what a real receiver must do before it can count:
 *
 *   teracron  open the envelope (RSA-OAEP + AES-256-GCM) with the vector project's private key,
 *             decode the msgpack / JSON batch, count its spans, answer 202
 *   otlp      parse the OTLP/HTTP JSON body, count the spans of every resource and scope, answer 200
 *
 * The parent sends `{ type: 'reset' }` before a run and `{ type: 'count' }` after it; both are
 * answered with a SinkCount. Times are unix milliseconds with sub-millisecond resolution
 * (timeOrigin + performance.now()), comparable with the producer's.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { decodeBatch } from '../src/wire/batch-codec';
import { loadPrivateKey, openEnvelope } from '../src/wire/envelope';
import { envelopeVectors } from '../test/helpers/vectors';

export type SinkFormat = 'teracron' | 'otlp';

export interface SinkCount {
  type: 'count';
  spans: number;
  requests: number;
  bytes: number;
  /** Requests that could not be opened or parsed (answered 400). */
  errors: number;
  /** When the first and the last counted span arrived; 0 when none did. */
  firstAt: number;
  lastAt: number;
  /** CPU (user + system) this process spent since the last reset. */
  cpuMs: number;
}

export type SinkRequest = { type: 'reset' } | { type: 'count' };
export type SinkMessage = { type: 'ready'; url: string } | SinkCount;

interface OtlpBody {
  resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: unknown[] }> }>;
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

function startSink(format: SinkFormat): void {
  const privateKey = format === 'teracron' ? loadPrivateKey(envelopeVectors().private_key_pem) : null;
  let count: SinkCount;
  let cpuBase = process.cpuUsage();
  const reset = (): void => {
    count = { type: 'count', spans: 0, requests: 0, bytes: 0, errors: 0, firstAt: 0, lastAt: 0, cpuMs: 0 };
    cpuBase = process.cpuUsage();
  };
  reset();

  const spansIn = (body: Buffer): number => {
    if (privateKey !== null) {
      const batch = decodeBatch(openEnvelope(body, privateKey));
      return batch.type === 'trace' ? batch.spans.length : 0;
    }
    const parsed = JSON.parse(body.toString('utf8')) as OtlpBody;
    let spans = 0;
    for (const resource of parsed.resourceSpans ?? []) for (const scope of resource.scopeSpans ?? []) spans += scope.spans?.length ?? 0;
    return spans;
  };

  const handle = (res: ServerResponse, body: Buffer): void => {
    count.requests++;
    count.bytes += body.byteLength;
    let spans: number;
    try {
      spans = spansIn(body);
    } catch (err) {
      count.errors++;
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (err as Error).message }));
      return;
    }
    if (spans > 0) {
      const at = now();
      if (count.spans === 0) count.firstAt = at;
      count.lastAt = at;
      count.spans += spans;
    }
    if (privateKey !== null) res.writeHead(202).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(res, Buffer.concat(chunks)));
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
  const format = process.argv[2];
  if (format !== 'teracron' && format !== 'otlp') throw new Error(`counting-sink: format must be teracron or otlp, not ${String(format)}`);
  if (process.send === undefined) throw new Error('counting-sink: start it with child_process.fork (it reports over IPC)');
  startSink(format);
}
