/**
 * Throughput of a Fastify hello world with no agent, under `node -r teracron/auto` (automatic
 * HTTP server spans, shipped to a loopback sink that answers 202) and under OpenTelemetry
 * auto-instrumentation (http + @fastify/otel, batch processor into an exporter that discards):
 * each a fresh child process, loaded by autocannon from a third process, interleaved by rep.
 *
 * Placement, on 2 cores: the service's main thread and autocannon take about a core each, and
 * whatever an agent runs besides (teracron's worker, V8's GC threads) competes with both, which
 * is part of its cost. autocannon runs in its own process rather than in this one because this
 * process answers teracron's uploads during its runs, and a load generator sharing that event
 * loop would be slower in the teracron runs only. Sealed bodies are kept with their path and
 * opened after each run, untimed, as the collector would open them (trace batches, and the
 * metrics batch the agent sends at exit), so the sink costs a 202 during the run and the spans
 * are still counted: a run whose agent delivered no span (or OpenTelemetry exported none), or
 * sent a body that cannot be read, fails the bench rather than measure an agent that is off.
 */
import type { KeyObject } from 'node:crypto';
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { summaryRows } from './harness';
import type { Bench, BenchContext, BenchRow } from './harness';
import type { LoadResult, LoadRun } from './http-load';
import type { ServerMessage, ServerRequest } from './http-server';
import { METRICS_PATH, TRACE_PATH, describeTally, describeUnreadable, itemsAt, readTeracronBody, tallyBody } from './ingest-reader';
import type { Tally } from './ingest-reader';
import { benchProject } from './project';
import { formatRow, summarize } from './stats';

type System = 'baseline' | 'teracron' | 'opentelemetry';
const SYSTEMS: System[] = ['baseline', 'teracron', 'opentelemetry'];
const LABELS: Record<System, string> = { baseline: 'no agent', teracron: 'teracron/auto', opentelemetry: 'OpenTelemetry' };
// With 100 connections autocannon, one core of its own, became the limit (the service used about
// half a core); with 10 the service is the busier side and runs near a full core.
const CONNECTIONS = 10;

const AUTO = join(__dirname, '..', 'src', 'auto.js');
const OTEL_SETUP = join(__dirname, 'http-otel-setup.js');
const SERVER = join(__dirname, 'http-server.js');
const LOAD = join(__dirname, 'http-load.js');
/** What the service, the OpenTelemetry setup and the load generator load from bench/node_modules. */
const PEERS = ['fastify', 'autocannon', '@fastify/otel', '@opentelemetry/instrumentation-http', '@opentelemetry/sdk-trace-node'];

/** Says which peer is missing here, rather than let a child process die on it mid-run. */
function checkPeers(): void {
  const requirePeer = createRequire(join(__dirname, '..', '..', 'bench', 'package.json'));
  const missing = PEERS.filter((name) => {
    try {
      requirePeer.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) throw new Error(`${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not installed for the benchmarks: run \`npm ci --prefix bench\` (or \`npm run bench\`, which does)`);
}

interface Upload {
  path: string;
  body: Buffer;
}

/** Answers every upload 202 at once and keeps it, with its path, to be opened after the run. */
async function startUploadSink(): Promise<{ url: string; take(): Upload[]; close(): Promise<void> }> {
  let uploads: Upload[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      uploads.push({ path: new URL(req.url ?? '/', 'http://sink').pathname, body: Buffer.concat(chunks) });
      res.writeHead(202).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    take: () => {
      const taken = uploads;
      uploads = [];
      return taken;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Opens one run's uploads by path; throws, naming the endpoint and the reason, when any cannot be read. */
function readUploads(uploads: Upload[], privateKey: KeyObject): Tally {
  const tally: Tally = {};
  for (const { path, body } of uploads) tallyBody(tally, path, () => readTeracronBody(path, body, privateKey));
  const unreadable = describeUnreadable(tally);
  if (unreadable !== null) throw new Error(`teracron/auto sent bodies the collector could not read: ${unreadable}`);
  return tally;
}

/** The next IPC message of `child` that `accept` takes, or a rejection when the child exits first. */
function nextMessage<T>(child: ChildProcess, accept: (message: unknown) => message is T, what: string, stderr: () => string = () => ''): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      if (!accept(message)) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message);
    };
    const onExit = (code: number | null): void => {
      child.off('message', onMessage);
      reject(new Error(`${what}: the process exited (${code}) first\n${stderr()}`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

const isType =
  <K extends string>(type: K) =>
  <M extends { type: string }>(message: unknown): message is Extract<M, { type: K }> =>
    typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;

interface Service {
  url: string;
  cpuUs(): Promise<number>;
  /** Stops the service and waits for its exit (and so for its agent's exit path). */
  stop(): Promise<{ cpuUs: number; otelSpans: number | null; stderr: string }>;
}

async function startService(system: System, sinkUrl: string, apiKey: string): Promise<Service> {
  const execArgv = system === 'teracron' ? ['-r', AUTO] : system === 'opentelemetry' ? ['--require', OTEL_SETUP] : [];
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('TERACRON_') || name.startsWith('OTEL_')) delete env[name];
  if (system === 'teracron') Object.assign(env, { TERACRON_API_KEY: apiKey, TERACRON_DOMAIN: sinkUrl });
  const child = fork(SERVER, [], { execArgv, env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await nextMessage(child, isType('ready')<ServerMessage>, `the ${system} service`, () => stderr);
  const request = (message: ServerRequest): boolean => child.send(message);
  return {
    url: `http://127.0.0.1:${ready.port}/`,
    cpuUs: async () => {
      const reply = nextMessage(child, isType('cpu')<ServerMessage>, `the ${system} service`, () => stderr);
      request({ type: 'cpu' });
      return (await reply).us;
    },
    stop: async () => {
      const reply = nextMessage(child, isType('stopped')<ServerMessage>, `the ${system} service`, () => stderr);
      request({ type: 'stop' });
      const stopped = await reply;
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0) throw new Error(`the ${system} service exited with ${code}\n${stderr}`);
      return { cpuUs: stopped.us, otelSpans: stopped.otelSpans, stderr };
    },
  };
}

function startLoad(): { run(url: string, seconds: number): Promise<LoadResult>; close(): void } {
  const child = fork(LOAD, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return {
    run: async (url, seconds) => {
      if (!child.connected) throw new Error(`the autocannon process has exited (${child.exitCode ?? child.signalCode}); its stderr is above`);
      const reply = nextMessage(child, isType('result')<LoadResult>, 'autocannon');
      child.send({ type: 'run', url, connections: CONNECTIONS, seconds } satisfies LoadRun);
      const result = await reply;
      if (result.non2xx + result.errors + result.timeouts > 0) {
        throw new Error(`autocannon against ${url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
      }
      return result;
    },
    // The child may have died already (its exit rejects the run that was waiting on it).
    close: () => {
      if (child.connected) child.disconnect();
    },
  };
}

interface Figures {
  rps: number[];
  p99Ms: number[];
  cpuUsPerRequest: number[];
  /** This rep's requests/s over the same rep's baseline. */
  ratio: number[];
  /** Spans delivered (teracron, counted at the sink) or exported (OpenTelemetry), and requests served. */
  spans: number;
  served: number;
}

/** Seconds of autocannon per run, and repetitions (smoke runs each system once). */
const PLAN = {
  smoke: { warmupS: 0.5, measureS: 1, reps: 1 },
  quick: { warmupS: 1, measureS: 4, reps: null },
  full: { warmupS: 2, measureS: 10, reps: null },
} as const;

async function run({ mode, reps: contextReps }: BenchContext): Promise<BenchRow[]> {
  if (!existsSync(AUTO)) throw new Error(`${AUTO} is missing: build first (npm run compile)`);
  checkPeers();
  const { warmupS, measureS } = PLAN[mode];
  const reps = PLAN[mode].reps ?? contextReps;
  const project = await benchProject();
  console.log(`Fastify hello world, autocannon ${CONNECTIONS} connections, ${warmupS} s warm-up + ${measureS} s measured per run, ${reps} interleaved reps`);
  console.log('OpenTelemetry: instrumentation-http + @fastify/otel, BatchSpanProcessor (defaults) into a discarding exporter');
  const sink = await startUploadSink();
  const load = startLoad();
  const figures = new Map<System, Figures>(SYSTEMS.map((system) => [system, { rps: [], p99Ms: [], cpuUsPerRequest: [], ratio: [], spans: 0, served: 0 }]));
  const stderrSeen = new Set<System>();
  let metricsEntries = 0;

  try {
    for (let rep = 0; rep < reps; rep++) {
      // Rotate the order so that no system always runs first (or right after another).
      const order = SYSTEMS.map((_, i) => SYSTEMS[(i + rep) % SYSTEMS.length]!);
      const repRps = new Map<System, number>();
      for (const system of order) {
        sink.take();
        const service = await startService(system, sink.url, project.apiKey);
        const warmup = await load.run(service.url, warmupS);
        const cpuBefore = await service.cpuUs();
        const measured = await load.run(service.url, measureS);
        const cpuAfter = await service.cpuUs();
        const stopped = await service.stop();
        if (stopped.stderr.trim() !== '' && !stderrSeen.has(system)) {
          stderrSeen.add(system);
          console.log(`(${system} service stderr: ${stopped.stderr.trim().slice(0, 500)})`);
        }

        const entry = figures.get(system)!;
        const rps = measured.requests / measured.seconds;
        entry.rps.push(rps);
        entry.p99Ms.push(measured.p99Ms);
        entry.cpuUsPerRequest.push((cpuAfter - cpuBefore) / measured.requests);
        entry.served += warmup.requests + measured.requests;
        repRps.set(system, rps);
        if (system === 'teracron') {
          const tally = readUploads(sink.take(), project.privateKey);
          const spans = itemsAt(tally, TRACE_PATH);
          if (spans === 0) throw new Error(`teracron/auto delivered no span for ${warmup.requests + measured.requests} requests (it sent ${describeTally(tally)}): the agent is off\n${stopped.stderr}`);
          entry.spans += spans;
          metricsEntries += itemsAt(tally, METRICS_PATH);
        } else if (system === 'opentelemetry') {
          if (stopped.otelSpans === null || stopped.otelSpans === 0) throw new Error(`OpenTelemetry exported no span: the setup did not load\n${stopped.stderr}`);
          entry.spans += stopped.otelSpans;
        }
      }
      for (const system of SYSTEMS) figures.get(system)!.ratio.push(repRps.get(system)! / repRps.get('baseline')!);
      console.log(`rep ${rep + 1}/${reps}: ${order.map((system) => `${system} ${Math.round(repRps.get(system)!)}`).join(', ')} req/s`);
    }
  } finally {
    load.close();
    await sink.close();
  }

  console.log(`\n${''.padEnd(44)}${'min'.padStart(10)}${'median'.padStart(10)}${'max'.padStart(10)}`);
  for (const system of SYSTEMS) console.log(formatRow(`requests/s, ${LABELS[system]}`, summarize(figures.get(system)!.rps), 'req/s', 0));
  for (const system of SYSTEMS) console.log(formatRow(`p99 latency, ${LABELS[system]}`, summarize(figures.get(system)!.p99Ms), 'ms', 2));
  for (const system of SYSTEMS) console.log(formatRow(`service CPU per request, ${LABELS[system]}`, summarize(figures.get(system)!.cpuUsPerRequest), 'µs'));
  for (const system of ['teracron', 'opentelemetry'] as const) console.log(formatRow(`${LABELS[system]} / no agent, same rep`, summarize(figures.get(system)!.ratio.map((r) => r * 100)), '%'));
  const median = (system: System): number => summarize(figures.get(system)!.rps).median;
  const ofBaseline = (system: System): number => median(system) / median('baseline');
  console.log(`\nmedians: teracron ${(ofBaseline('teracron') * 100).toFixed(1)}% of no agent, OpenTelemetry ${(ofBaseline('opentelemetry') * 100).toFixed(1)}%`);
  const tc = figures.get('teracron')!;
  const ot = figures.get('opentelemetry')!;
  console.log(`spans per request served: teracron ${(tc.spans / tc.served).toFixed(3)} delivered (${tc.spans} of ${tc.served} requests), OpenTelemetry ${(ot.spans / ot.served).toFixed(3)} exported (${ot.spans} of ${ot.served})`);
  console.log(`teracron/auto also delivered ${metricsEntries} process-metrics entries (/api/ingest)`);

  const rows: BenchRow[] = [];
  for (const system of SYSTEMS) {
    const entry = figures.get(system)!;
    rows.push(...summaryRows('http', system, 'requests_per_s', 'req/s', summarize(entry.rps)));
    rows.push(...summaryRows('http', system, 'p99_latency', 'ms', summarize(entry.p99Ms)));
    rows.push(...summaryRows('http', system, 'cpu_per_request', 'us', summarize(entry.cpuUsPerRequest)));
    if (system !== 'baseline') {
      rows.push(...summaryRows('http', system, 'throughput_of_baseline', 'ratio', summarize(entry.ratio)));
      rows.push({ bench: 'http', system, metric: 'spans_per_request', value: entry.spans / entry.served, unit: 'spans' });
    }
  }
  return rows;
}

export const http: Bench = {
  name: 'http',
  description: 'Fastify hello world under load: no agent, teracron/auto, OpenTelemetry auto-instrumentation',
  run,
};

if (require.main === module) void run({ mode: 'quick', reps: Number(process.env.REPS ?? '5') });
