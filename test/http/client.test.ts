/**
 * Outgoing calls (node:http and fetch) through `instrumentHttp()`, in this process, to a second
 * loopback server that records the headers it receives: a child span per call inside a trace,
 * both propagation headers naming it, nothing outside a trace.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { get, request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, test } from 'node:test';
import { getClient, withSpan } from '../../src/index';
import type { TeracronOptions } from '../../src/index';
import type { WireSpan } from '../../src/wire/batch-codec';
import { closedPort } from '../helpers/ports';
import { reply, send, serve } from '../helpers/http';
import type { TestServer } from '../helpers/http';
import { recordedSpans } from '../helpers/recorded';
import type { Receiver } from '../helpers/receiver';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const received: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
let downstream: TestServer;

before(async () => {
  downstream = await serve((req, res) => {
    received.push({ path: req.url!, headers: req.headers });
    const status = Number(new URL(req.url!, 'http://x').searchParams.get('status') ?? 200);
    reply(res, status, {});
  });
});

after(() => downstream.close());

function recorded(options: TeracronOptions, work: (receiver: Receiver) => Promise<void>): Promise<WireSpan[]> {
  received.length = 0;
  return recordedSpans(options, work);
}

function httpGet(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    }).on('error', reject);
  });
}

async function fetchStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(url, { headers });
  await response.arrayBuffer();
  return response.status;
}

const CALLERS = [
  ['http.get', httpGet],
  ['fetch', fetchStatus],
] as const;

for (const [via, call] of CALLERS) {
  test(`${via} inside a span: a child span "GET host" with http metadata, and both headers at the server name it`, async () => {
    const spans = await recorded({}, () => withSpan('checkout', { operation: 'charge' }, async () => {
      assert.equal(await call(`${downstream.url}/charge?card=tok_1`), 200);
    }));
    const charge = spans.find((span) => span.operation === 'charge')!;
    const client = spans.find((span) => span.parent_span_id === charge.span_id)!;
    assert.ok(client, JSON.stringify(spans));
    assert.equal(client.workflow, 'checkout', 'the parent\'s workflow');
    assert.equal(client.operation, `GET 127.0.0.1:${downstream.port}`);
    assert.equal(client.trace_id, charge.trace_id);
    assert.equal(client.status, 'succeeded');
    assert.deepEqual(client.metadata, {
      'http.method': 'GET',
      'http.url': `${downstream.url}/charge`,
      'http.host': `127.0.0.1:${downstream.port}`,
      'http.status_code': 200,
    });
    assert.equal(received.length, 1);
    assert.equal(received[0]!.headers['x-teracron-trace'], `${client.trace_id}:${client.span_id}`);
    assert.equal(received[0]!.headers.traceparent, `00-${client.trace_id}-${client.span_id.slice(16)}-01`);
    // The downstream server runs in this process, instrumented too: its span is the client span's child.
    const server = spans.find((span) => span.operation === 'GET /charge')!;
    assert.equal(server.parent_span_id, client.span_id);
  });

  test(`${via} outside any trace: no span and no headers`, async () => {
    const spans = await recorded({}, async () => {
      assert.equal(await call(`${downstream.url}/plain`), 200);
    });
    assert.equal(received[0]!.headers['x-teracron-trace'], undefined);
    assert.equal(received[0]!.headers.traceparent, undefined);
    assert.deepEqual(spans.map((span) => [span.operation, span.parent_span_id]), [['GET /plain', null]], 'only the downstream server\'s own root');
  });

  test(`${via}: a refused connection fails the span with the error code`, async () => {
    const port = await closedPort();
    const spans = await recorded({}, () => withSpan('checkout', async () => {
      await assert.rejects(call(`http://127.0.0.1:${port}/x`));
    }));
    const client = spans.find((span) => span.operation === `GET 127.0.0.1:${port}`)!;
    assert.ok(client, JSON.stringify(spans));
    assert.equal(client.status, 'failed');
    assert.equal(client.error_type, 'ECONNREFUSED');
    assert.match(client.error_message ?? '', /ECONNREFUSED/);
  });

  test(`${via}: a 5xx answer fails the span`, async () => {
    const spans = await recorded({}, () => withSpan('checkout', async () => {
      assert.equal(await call(`${downstream.url}/x?status=503`), 503);
    }));
    const client = spans.find((span) => span.operation === `GET 127.0.0.1:${downstream.port}`)!;
    assert.deepEqual([client.status, client.error_type, client.error_message, client.metadata['http.status_code']], ['failed', 'HTTPError', '503 Service Unavailable', 503]);
  });

  test(`${via}: a traceparent the app set is kept; X-Teracron-Trace names the client span`, async () => {
    const theirs = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
    const spans = await recorded({}, () => withSpan('checkout', async () => {
      await call(`${downstream.url}/x`, { traceparent: theirs });
    }));
    const client = spans.find((span) => span.operation === `GET 127.0.0.1:${downstream.port}`)!;
    assert.equal(received[0]!.headers.traceparent, theirs);
    assert.equal(received[0]!.headers['x-teracron-trace'], `${client.trace_id}:${client.span_id}`);
  });

  test(`${via} to the agent's endpoint is not traced, even inside a trace`, async () => {
    let headers: IncomingHttpHeaders | undefined;
    const spans = await recorded({}, (receiver) => withSpan('checkout', async () => {
      await call(`${receiver.url}/api/v1/traces`);
      headers = receiver.requests.at(-1)!.headers;
    }));
    assert.equal(headers!['x-teracron-trace'], undefined);
    assert.equal(headers!.traceparent, undefined);
    // The receiver runs in this process, so its server span is here: a root of its own.
    assert.deepEqual(spans.map((span) => [span.operation, span.parent_span_id]).sort(), [['GET /api/v1/traces', null], ['checkout', null]]);
  });

  test(`${via} in an unsampled trace: nothing recorded, the headers still go with flag 00`, async () => {
    let trace: string | null = null;
    const spans = await recorded({ traceSampleRate: 0 }, () => withSpan('checkout', async () => {
      await call(`${downstream.url}/x`);
    }));
    assert.deepEqual(spans, []);
    trace = received[0]!.headers['x-teracron-trace'] as string;
    assert.match(trace, /^[0-9a-f]{32}$/);
    assert.match(received[0]!.headers.traceparent as string, new RegExp(`^00-${trace}-(?!0{16})[0-9a-f]{16}-00$`));
  });
}

test('an unsampled request continued from a traceparent passes the caller\'s parent-id on', async () => {
  const upstream = await serve(async (_req, res) => {
    await fetchStatus(`${downstream.url}/next`);
    reply(res, 200, {});
  });
  try {
    const spans = await recorded({}, async () => {
      await send(upstream.url, { headers: { traceparent: `00-${'c'.repeat(32)}-${'d'.repeat(16)}-00` } });
    });
    assert.deepEqual(spans, []);
  } finally {
    await upstream.close();
  }
  const next = received.find((entry) => entry.path === '/next')!;
  assert.equal(next.headers.traceparent, `00-${'c'.repeat(32)}-${'d'.repeat(16)}-00`);
  assert.equal(next.headers['x-teracron-trace'], `${'c'.repeat(32)}:${'0'.repeat(16)}${'d'.repeat(16)}`);
});

test('a node:http request whose head is built in its constructor (raw header array) gets its span, without our headers', async () => {
  const spans = await recorded({}, () => withSpan('checkout', () => new Promise<void>((resolve, reject) => {
    request(`${downstream.url}/raw`, { headers: ['Host', `127.0.0.1:${downstream.port}`, 'x-app', '1'] }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    }).on('error', reject).end();
  })));
  const client = spans.find((span) => span.operation === `GET 127.0.0.1:${downstream.port}`)!;
  assert.ok(client, JSON.stringify(spans));
  assert.equal(client.metadata['http.status_code'], 200);
  assert.equal(received[0]!.headers['x-app'], '1');
  assert.equal(received[0]!.headers['x-teracron-trace'], undefined);
});

test('the agent\'s deliveries go out from its worker thread: this thread\'s client channels never see them', async () => {
  const seen: string[] = [];
  const onUndici = (message: unknown): void => void seen.push(`undici ${(message as { request: { path: string } }).request.path}`);
  const onHttp = (message: unknown): void => void seen.push(`http ${(message as { request: { path: string } }).request.path}`);
  subscribe('undici:request:create', onUndici);
  subscribe('http.client.request.start', onHttp);
  let deliveries = 0;
  try {
    await recorded({}, async (receiver) => {
      for (let i = 0; i < 3; i++) withSpan('batch', () => undefined);
      await getClient()!.flush();
      deliveries = receiver.requests.length;
    });
  } finally {
    unsubscribe('undici:request:create', onUndici);
    unsubscribe('http.client.request.start', onHttp);
  }
  assert.ok(deliveries > 0, 'the agent delivered');
  assert.deepEqual(seen, []);
});
