/**
 * OpenTelemetry auto-instrumentation for bench/http-server.js, preloaded with `--require`: the
 * setup its docs give for a Fastify service (NodeTracerProvider, HttpInstrumentation, and
 * @fastify/otel registered on Fastify's initialization), with a BatchSpanProcessor at its
 * defaults into an exporter that counts and discards, so that the figures are the
 * instrumentation's cost in the service without any network. Loaded from bench/node_modules.
 *
 * The server reads the exporter's count through a global symbol and imports nothing from here
 * but types, so that without the preload none of this runs.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

export interface OtelCounter {
  exported(): number;
  flush(): Promise<void>;
}

type Constructor = new (...args: any[]) => any;

const requirePeer = createRequire(join(__dirname, '..', '..', 'bench', 'package.json'));
const { NodeTracerProvider } = requirePeer('@opentelemetry/sdk-trace-node') as { NodeTracerProvider: Constructor };
const { BatchSpanProcessor } = requirePeer('@opentelemetry/sdk-trace-base') as { BatchSpanProcessor: Constructor };
const { registerInstrumentations } = requirePeer('@opentelemetry/instrumentation') as { registerInstrumentations(options: unknown): void };
const { HttpInstrumentation } = requirePeer('@opentelemetry/instrumentation-http') as { HttpInstrumentation: Constructor };
const { FastifyOtelInstrumentation } = requirePeer('@fastify/otel') as { FastifyOtelInstrumentation: Constructor };

let exported = 0;
const discard = {
  export(spans: unknown[], done: (result: { code: number }) => void): void {
    exported += spans.length;
    done({ code: 0 });
  },
  shutdown: async (): Promise<void> => {},
};
const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(discard)] });
provider.register();
registerInstrumentations({
  tracerProvider: provider,
  instrumentations: [new HttpInstrumentation(), new FastifyOtelInstrumentation({ registerOnInitialization: true })],
});
const counter: OtelCounter = { exported: () => exported, flush: () => provider.forceFlush() };
(globalThis as Record<symbol, unknown>)[Symbol.for('teracron.bench.http.otel')] = counter;
