/**
 * teracron and OpenTelemetry JS in one trace, with real processes over loopback: a service under
 * `node -r teracron/auto` shipping to a real collector, and the same plain service under
 * OpenTelemetry (NodeTracerProvider + HttpInstrumentation, W3C propagation) printing its spans.
 *
 * The mapping checked: trace ids are the same 32 hex on both sides; an outgoing `traceparent`
 * carries the last 16 hex of our span id as parent-id; an incoming parent-id X becomes our
 * parent_span_id '0000000000000000' + X; an incoming sampled flag 0 means nothing is recorded.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { baseChildEnv, exitBudgetEnv, fixturePath } from '../helpers/child';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import type { CollectorProcess } from '../helpers/collector';
import { envelopeVectors } from '../helpers/vectors';
import { waitFor } from '../helpers/wait';
import { repoRoot } from '../../support/repo-root';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const vectors = envelopeVectors();
const ZERO16 = '0'.repeat(16);
/** SpanKind in @opentelemetry/api. */
const SERVER = 1;
const CLIENT = 2;

interface OtelSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  traceFlags: number;
  parentSpanId: string | null;
}

interface OurSpan {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  workflow: string;
  operation: string;
  status: string;
  metadata: Record<string, unknown>;
}

interface Service {
  url: string;
  /** stdout as JSON lines, as they come. */
  lines: Array<Record<string, unknown>>;
  stderr(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Starts test/fixtures/http-service.js under `preload` and resolves once it listens. */
function startService(preload: string[], env: Record<string, string>): Promise<Service> {
  const child = spawn(process.execPath, [...preload, fixturePath('http-service')], {
    cwd: repoRoot(),
    env: { ...baseChildEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not listen within 15 s: ${stderr}`)), 15_000);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      let newline: number;
      while ((newline = stdout.indexOf('\n')) >= 0) {
        const line = JSON.parse(stdout.slice(0, newline)) as Record<string, unknown>;
        stdout = stdout.slice(newline + 1);
        lines.push(line);
        if (typeof line.listening === 'number') {
          clearTimeout(timer);
          resolve({
            url: `http://127.0.0.1:${line.listening}`,
            lines,
            stderr: () => stderr,
            exited,
            stop: async () => {
              if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
              await exited;
            },
          });
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the service exited (${code}) before listening: ${stderr}`));
    });
  });
}

function otelSpans(service: Service): OtelSpan[] {
  return service.lines.filter((line) => 'span' in line).map((line) => line.span as OtelSpan);
}

/** Our spans of a trace, once the collector holds at least `count` of them. */
function ourTrace(traceId: string, count: number): Promise<OurSpan[]> {
  return waitFor(`${count} span(s) of trace ${traceId} in the collector`, async () => {
    const { status, body } = await query(collector.url, `/api/v1/traces/${traceId}`);
    return status === 200 && body.spans.length >= count ? (body.spans as OurSpan[]) : undefined;
  }, { intervalMs: 100 });
}

function parseTraceparent(value: unknown): { traceId: string; parentId: string; flags: string } {
  assert.equal(typeof value, 'string', 'the callee received a traceparent header');
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value as string);
  assert.ok(match, `a well-formed W3C traceparent: ${String(value)}`);
  return { traceId: match[1]!, parentId: match[2]!, flags: match[3]! };
}

async function getJson(url: string, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const response = await fetch(url, { headers });
  assert.equal(response.status, 200, url);
  return (await response.json()) as Record<string, unknown>;
}

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

let collector: CollectorProcess;
let ours: Service;
let otel: Service;
const started: Service[] = [];

function startOurs(): Promise<Service> {
  return startService(['-r', 'teracron/auto'], {
    TERACRON_API_KEY: vectors.api_key,
    TERACRON_DOMAIN: collector.url,
    TERACRON_TRACE_FLUSH_INTERVAL: '1',
    TERACRON_SERVICE: 'interop',
    ...exitBudgetEnv,
  }).then((service) => (started.push(service), service));
}

before(async () => {
  collector = await startCollectorProcess(vectorDataDir());
  ours = await startOurs();
  otel = await startService(['--require', fixturePath('otel-setup')], {});
  started.push(otel);
});

after(async () => {
  await Promise.all(started.map((service) => service.stop()));
  await collector.stop();
});

test('a request from an OpenTelemetry service continues its trace: our request span has its trace id and its client span as parent', async () => {
  const { traceparent } = await getJson(`${otel.url}/call?url=${encodeURIComponent(`${ours.url}/hello`)}`);
  const sent = parseTraceparent(traceparent);
  assert.equal(sent.flags, '01');
  const client = await waitFor('the OpenTelemetry client span', () => otelSpans(otel).find((s) => s.kind === CLIENT && s.traceId === sent.traceId));
  assert.equal(client.spanId, sent.parentId, 'OpenTelemetry sent its client span as parent-id');

  const spans = await ourTrace(client.traceId, 1);
  assert.equal(spans.length, 1, `one request span, nothing else: ${JSON.stringify(spans)}\n${ours.stderr()}`);
  const request = spans[0]!;
  assert.equal(request.trace_id, client.traceId);
  assert.equal(request.parent_span_id, ZERO16 + client.spanId);
  assert.match(request.span_id, /^[0-9a-f]{32}$/);
  assert.notEqual(request.span_id.slice(16), client.spanId, 'our span has an id of its own');
});

for (const via of ['http', 'fetch'] as const) {
  test(`a call made with ${via === 'http' ? 'node:http' : 'fetch'} from our request handler: the OpenTelemetry server span continues our trace, under our client span`, async () => {
    const { traceparent } = await getJson(`${ours.url}/call?via=${via}&url=${encodeURIComponent(`${otel.url}/hello`)}`);
    const received = parseTraceparent(traceparent);
    assert.equal(received.flags, '01', 'our trace is sampled, and says so');
    const server = await waitFor('the OpenTelemetry server span', () => otelSpans(otel).find((s) => s.kind === SERVER && s.traceId === received.traceId));
    assert.equal(server.parentSpanId, received.parentId);

    const spans = await ourTrace(server.traceId, 2);
    const roots = spans.filter((s) => s.parent_span_id === null);
    assert.equal(roots.length, 1, `our trace has one root (the request to /call): ${JSON.stringify(spans)}`);
    const outbound = spans.filter((s) => s.span_id.slice(16) === server.parentSpanId);
    assert.equal(outbound.length, 1, `one of our spans ends with the OpenTelemetry parent-id ${server.parentSpanId}: ${JSON.stringify(spans)}`);
    assert.equal(outbound[0]!.trace_id, server.traceId);
    assert.notEqual(outbound[0], roots[0], 'the parent is our client span, not the request span');
    assert.equal(outbound[0]!.parent_span_id, roots[0]!.span_id, 'our client span is a child of our request span');
  });
}

test('a traceparent with sampled=00 from an OpenTelemetry service: our service records nothing for that request', async () => {
  const quiet = await startOurs();
  const unsampledTrace = hex(16);
  const sampledTrace = hex(16);
  const through = (traceId: string, flags: string): Promise<Record<string, unknown>> =>
    getJson(`${otel.url}/call?url=${encodeURIComponent(`${quiet.url}/hello`)}`, { traceparent: `00-${traceId}-${hex(8)}-${flags}` });

  const unsampled = parseTraceparent((await through(unsampledTrace, '00')).traceparent);
  assert.equal(unsampled.traceId, unsampledTrace);
  assert.equal(unsampled.flags, '00', 'OpenTelemetry passed the decision on');
  // A sampled request after it, to show that this service does record and ship.
  const sampled = parseTraceparent((await through(sampledTrace, '01')).traceparent);
  assert.equal(sampled.flags, '01');

  const exit = await fetch(`${quiet.url}/exit`, { method: 'POST' });
  assert.equal(exit.status, 200);
  assert.equal(await quiet.exited, 0, quiet.stderr());
  const shipped = await ourTrace(sampledTrace, 1);
  assert.deepEqual(shipped.map((s) => s.parent_span_id), [ZERO16 + sampled.parentId]);
  const nothing = await query(collector.url, `/api/v1/traces/${unsampledTrace}`);
  assert.equal(nothing.status, 404, `no span of the unsampled trace: ${JSON.stringify(nothing.body)}`);
});
