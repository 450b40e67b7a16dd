/**
 * One producer run of bench/pipeline.ts, as its own process so that the agent under test owns a
 * process the way it would in an application (its worker thread, its sockets, its exit path).
 * The run is described by one JSON argument (ProducerConfig) and ends with one JSON line on
 * stdout (ProducerResult).
 *
 * It records `spans` spans, each its own trace, in one of three ways:
 *   rate > 0              paced: every 1 ms tick records what the rate owes since the start
 *                         (1,000 at a time, letting pending I/O run in between, when behind)
 *   rate = 0, window > 0  as fast as the pipeline takes them: never more than `window` spans
 *                         recorded and not yet accounted for (delivered or dropped)
 *   rate = 0, window = 0  as fast as the thread can, whatever the pipeline does
 * then ships everything that is left (flush / forceFlush, then stop / shutdown) and reports.
 *
 *   teracron       new TeracronClient({ apiKey, domain }) with the default ring and batching
 *   opentelemetry  BasicTracerProvider, BatchSpanProcessor (defaults but maxQueueSize), OTLP/HTTP
 *                  JSON exporter (defaults); the workflow name goes in one attribute
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { TeracronClient } from '../src/client';

export interface ProducerConfig {
  system: 'teracron' | 'opentelemetry';
  /** Base URL of the receiver (counting sink or collector). */
  url: string;
  /** The bench project's key (bench/project.ts), for teracron. */
  apiKey: string;
  spans: number;
  /** Spans per second; 0 for as fast as possible. */
  rate: number;
  /** With rate 0: the most spans recorded and not yet accounted for; 0 for no limit. */
  window: number;
  workflow: string;
  /** OpenTelemetry's BatchSpanProcessor queue. */
  otelMaxQueueSize: number;
}

export interface ProducerResult {
  produced: number;
  /** Accepted by the receiver, as the agent counts it. */
  sent: number;
  /** Lost before leaving the process (teracron: ring full; OpenTelemetry: queue full). */
  droppedFull: number;
  /** Lost on the way (retries exhausted, refused, or still pending when the agent stopped). */
  droppedSend: number;
  /** Requests that carried spans and were accepted. */
  batches: number;
  /** Unix ms (sub-ms resolution) of the first and the last record, and when everything was shipped. */
  firstAt: number;
  lastRecordAt: number;
  flushedAt: number;
  /** CPU (user + system, all threads) of this process from the first record to the flush. */
  cpuMs: number;
  /** Its system (kernel) part: socket writes, page faults, thread wake-ups. */
  cpuSystemMs: number;
}

/** What the two agents look like to the loop. */
interface Agent {
  record(workflow: string, operation: string, start: number, end: number): void;
  /** Delivered or dropped so far (for the window). */
  accounted(): number;
  /** Resolves when everything recorded is delivered or given up. */
  flush(): Promise<void>;
  close(): Promise<void>;
  result(): Pick<ProducerResult, 'sent' | 'droppedFull' | 'droppedSend' | 'batches'>;
}

/** BatchSpanProcessor's default maxExportBatchSize. */
const OTEL_BATCH = 512;
/** No export finished for this long: the processor's queue holds less than a batch. */
const OTEL_QUIET_MS = 250;
/** Spans recorded between two looks at the clock / the window, and between yields. */
const CHUNK = 1000;

function now(): number {
  return performance.timeOrigin + performance.now();
}

async function teracronAgent(config: ProducerConfig): Promise<Agent> {
  const client = new TeracronClient({ apiKey: config.apiKey, domain: config.url }).start();
  // One round trip to the worker, so the run starts with the worker up, as in a running app.
  await client.flush();
  let produced = 0;
  return {
    record(workflow, operation, startTime, endTime) {
      produced++;
      client.recordSpan({ workflow, operation, startTime, endTime });
    },
    accounted() {
      const s = client.stats();
      return s.sent + s.droppedRingFull + s.droppedSendFailed;
    },
    flush: () => client.flush(),
    close: () => client.stop(),
    result() {
      const s = client.stats();
      if (s.produced !== produced) throw new Error(`teracron counted ${s.produced} spans produced, the loop ${produced}`);
      return { sent: s.sent, droppedFull: s.droppedRingFull, droppedSend: s.droppedSendFailed + s.pending, batches: s.batches };
    },
  };
}

interface OtelSpan {
  end(endTime?: number): void;
}
interface OtelTracer {
  startSpan(name: string, options: { root: boolean; startTime: number; attributes: Record<string, string> }): OtelSpan;
}
interface OtelProvider {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
  getTracer(name: string): OtelTracer;
}
interface OtelExporter {
  export(spans: unknown[], done: (result: { code: number; error?: Error }) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

function otelAgent(config: ProducerConfig): Agent {
  const requirePeer = createRequire(join(__dirname, '..', '..', 'bench', 'package.json'));
  let base: {
    BasicTracerProvider: new (config: unknown) => OtelProvider;
    BatchSpanProcessor: new (exporter: unknown, config: unknown) => unknown;
  };
  let otlp: { OTLPTraceExporter: new (config: unknown) => OtelExporter };
  try {
    base = requirePeer('@opentelemetry/sdk-trace-base') as typeof base;
    otlp = requirePeer('@opentelemetry/exporter-trace-otlp-http') as typeof otlp;
  } catch (err) {
    throw new Error(`OpenTelemetry is not installed for the benchmarks: run \`npm ci --prefix bench\` (or \`npm run bench\`, which does). ${(err as Error).message}`);
  }
  const exporter = new otlp.OTLPTraceExporter({ url: `${config.url}/v1/traces` });
  let exported = 0;
  let failed = 0;
  let batches = 0;
  // Counts what the exporter reports, to know what is accounted for; changes nothing else.
  const counting: OtelExporter = {
    export(spans, done) {
      exporter.export(spans, (result) => {
        if (result.code === 0) {
          exported += spans.length;
          batches++;
        } else {
          failed += spans.length;
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
  const processor = new base.BatchSpanProcessor(counting, { maxQueueSize: config.otelMaxQueueSize });
  const provider = new base.BasicTracerProvider({ spanProcessors: [processor] });
  const tracer = provider.getTracer('pipeline-bench');
  let produced = 0;
  return {
    record(workflow, operation, startTime, endTime) {
      produced++;
      tracer.startSpan(operation, { root: true, startTime, attributes: { workflow } }).end(endTime);
    },
    accounted: () => exported + failed,
    async flush() {
      // forceFlush exports the whole queue at once, and the exporter refuses more than 30
      // requests in flight ('Concurrent export limit reached'): let the processor drain the
      // queue its usual way, one batch after another, and force only the last partial batch.
      // Spans it dropped are never exported, so "drained" is also: no export finished lately.
      let seen = exported + failed;
      let quietSince = performance.now();
      while (produced - exported - failed > OTEL_BATCH && performance.now() - quietSince < OTEL_QUIET_MS) {
        await sleep(1);
        if (exported + failed !== seen) {
          seen = exported + failed;
          quietSince = performance.now();
        }
      }
      await provider.forceFlush();
    },
    close: () => provider.shutdown(),
    result: () => ({ sent: exported, droppedFull: produced - exported - failed, droppedSend: failed, batches }),
  };
}

async function produce(agent: Agent, config: ProducerConfig): Promise<{ firstAt: number; lastRecordAt: number }> {
  const { spans: total, rate, window, workflow } = config;
  const operation = `${workflow}-op`;
  let produced = 0;
  const t0 = performance.now();
  const firstAt = performance.timeOrigin + t0;
  let lastRecordAt = firstAt;
  while (produced < total) {
    const owed = Math.min(total, rate > 0 ? Math.ceil((rate * (performance.now() - t0)) / 1000) : window > 0 ? agent.accounted() + window : total);
    const target = Math.min(owed, produced + CHUNK);
    if (target > produced) {
      // One clock reading per chunk: what is timed is the pipeline, not performance.now().
      const end = performance.now();
      const start = end - 0.25;
      for (; produced < target; produced++) agent.record(workflow, operation, start, end);
      lastRecordAt = performance.timeOrigin + end;
    }
    if (produced >= total) break;
    // Still owing (behind the rate, or the window is open): go on once pending I/O has run, which
    // OpenTelemetry needs to export at all. Otherwise wait for the next tick.
    if (produced < owed) await yieldToLoop();
    else await sleep(1);
  }
  return { firstAt, lastRecordAt };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as ProducerConfig;
  const agent = config.system === 'teracron' ? await teracronAgent(config) : otelAgent(config);
  const cpuBase = process.cpuUsage();
  const { firstAt, lastRecordAt } = await produce(agent, config);
  await agent.flush();
  const flushedAt = now();
  const cpu = process.cpuUsage(cpuBase);
  await agent.close();
  const result: ProducerResult = { produced: config.spans, ...agent.result(), firstAt, lastRecordAt, flushedAt, cpuMs: (cpu.user + cpu.system) / 1000, cpuSystemMs: cpu.system / 1000 };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`pipeline-producer: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
