/**
 * The service of bench/http.ts: Fastify hello world (`GET /` → `{ hello: 'world' }`), forked
 * with an IPC channel under whatever the bench preloads (nothing, teracron/auto, or
 * OpenTelemetry through bench/http-otel-setup.js). Fastify comes from bench/node_modules.
 *
 *   → { type: 'cpu' }   ← { type: 'cpu', us }       CPU of the whole process (every thread) so far
 *   → { type: 'stop' }  ← { type: 'stopped', us, otelSpans }, then process.exit(0), which runs
 *                         the agents' exit paths (teracron ships what it holds before exiting)
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { OtelCounter } from './http-otel-setup';

export type ServerRequest = { type: 'cpu' } | { type: 'stop' };
export type ServerMessage =
  | { type: 'ready'; port: number }
  | { type: 'cpu'; us: number }
  /** otelSpans: spans OpenTelemetry exported, or null when it was not loaded. */
  | { type: 'stopped'; us: number; otelSpans: number | null };

interface FastifyApp {
  get(path: string, handler: () => Promise<unknown>): void;
  listen(options: { port: number; host: string }): Promise<string>;
  close(): Promise<void>;
  server: { address(): AddressInfo | string | null };
}

/** What bench/http-otel-setup.js left on its global symbol when it was preloaded, else null. */
function otelCounter(): OtelCounter | null {
  return ((globalThis as Record<symbol, unknown>)[Symbol.for('teracron.bench.http.otel')] as OtelCounter | undefined) ?? null;
}

function cpuUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

async function main(): Promise<void> {
  const requirePeer = createRequire(join(__dirname, '..', '..', 'bench', 'package.json'));
  const fastify = requirePeer('fastify') as (options: { logger: boolean }) => FastifyApp;
  const app = fastify({ logger: false });
  app.get('/', async () => ({ hello: 'world' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const send = (message: ServerMessage, then: () => void = () => {}): void => void process.send!(message, then);
  send({ type: 'ready', port: (app.server.address() as AddressInfo).port });

  process.on('message', (message: ServerRequest) => {
    switch (message.type) {
      case 'cpu':
        send({ type: 'cpu', us: cpuUs() });
        break;
      case 'stop':
        void (async () => {
          await app.close();
          const otel = otelCounter();
          if (otel !== null) await otel.flush();
          send({ type: 'stopped', us: cpuUs(), otelSpans: otel === null ? null : otel.exported() }, () => process.exit(0));
        })();
        break;
      default:
        throw new Error(`http-server: unknown message ${JSON.stringify(message satisfies never)}`);
    }
  });
}

if (require.main === module) {
  if (process.send === undefined) throw new Error('http-server: start it with child_process.fork (it reports over IPC)');
  void main();
}
