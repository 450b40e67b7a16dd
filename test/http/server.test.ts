/**
 * Incoming requests through the diagnostics_channel subscribers (`instrumentHttp()`), in this
 * process, over loopback: one root span per request, continued from the propagation headers,
 * current in the handler, ended with the response. The receiver runs here too, so these tests
 * also show the agent's own deliveries never becoming spans.
 */
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { test } from 'node:test';
import { currentSpan, getTraceHeader, instrumentHttp, recordServerError, setServerRoute, withSpan } from '../../src/index';
import { uninstrumentHttp } from '../../src/http/instrument';
import type { TeracronOptions } from '../../src/index';
import { ensureServerSpan, runInServerSpan } from '../../src/http/request-span';
import type { WireSpan } from '../../src/wire/batch-codec';
import { reply, send, serve, sleep } from '../helpers/http';
import type { TestServer } from '../helpers/http';
import { recordedSpans } from '../helpers/recorded';
import type { Receiver } from '../helpers/receiver';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b700f067aa0ba902b7';
const PARENT16 = 'b7ad6b7169203331';
const HEX32 = /^[0-9a-f]{32}$/;

function recorded(options: TeracronOptions, work: (receiver: Receiver) => Promise<void>, instrument = true): Promise<WireSpan[]> {
  return recordedSpans(options, work, instrument);
}

async function withServer(handler: Parameters<typeof serve>[0], work: (server: TestServer) => Promise<void>): Promise<void> {
  const server = await serve(handler);
  try {
    await work(server);
  } finally {
    await server.close();
  }
}

function only(spans: WireSpan[], predicate: (span: WireSpan) => boolean, what: string): WireSpan {
  const found = spans.filter(predicate);
  assert.equal(found.length, 1, `${what}: ${JSON.stringify(spans.map((s) => [s.workflow, s.operation]))}`);
  return found[0]!;
}

test('a request is a root span: workflow http, operation METHOD + path with ids folded, http metadata, and the response header names it', async () => {
  let header: string | undefined;
  const spans = await recorded({}, () =>
    withServer((_req, res) => reply(res, 200, { ok: true }), async (server) => {
      const answer = await send(`${server.url}/users/42/orders/9f1c2b3a4d5e6f708192a3b4c5d6e7f8?expand=lines`);
      assert.equal(answer.status, 200);
      header = answer.headers['x-teracron-trace'] as string;
    }),
  );
  const span = only(spans, () => true, 'one span');
  assert.equal(span.workflow, 'http');
  assert.equal(span.operation, 'GET /users/:id/orders/:id');
  assert.equal(span.status, 'succeeded');
  assert.equal(span.parent_span_id, null);
  assert.match(span.trace_id, HEX32);
  assert.deepEqual(span.metadata, {
    'http.method': 'GET',
    'http.path': '/users/42/orders/9f1c2b3a4d5e6f708192a3b4c5d6e7f8',
    'http.route': '/users/:id/orders/:id',
    'http.status_code': 200,
  });
  assert.equal(span.error_type, null);
  assert.equal(header, `${span.trace_id}:${span.span_id}`);
});

test('setServerRoute names the operation and http.route; httpWorkflow names the workflow', async () => {
  const spans = await recorded({ httpWorkflow: 'shop' }, () =>
    withServer((req, res) => {
      setServerRoute(req, '/products/:slug');
      reply(res, 201, {});
    }, async (server) => {
      await send(`${server.url}/products/ele-001`, { method: 'POST' });
    }),
  );
  const span = only(spans, () => true, 'one span');
  assert.equal(span.workflow, 'shop');
  assert.equal(span.operation, 'POST /products/:slug');
  assert.equal(span.metadata['http.route'], '/products/:slug');
  assert.equal(span.metadata['http.path'], '/products/ele-001');
  assert.equal(span.metadata['http.status_code'], 201);
});

test('http.path and the operation come from the URL the request arrived with, whatever a router does to req.url', async () => {
  const spans = await recorded({}, () =>
    withServer((req, res) => {
      req.url = '/7';
      reply(res, 200, {});
    }, async (server) => {
      await send(`${server.url}/orders/7?x=1`);
    }),
  );
  const span = only(spans, () => true, 'one span');
  assert.equal(span.operation, 'GET /orders/:id');
  assert.equal(span.metadata['http.path'], '/orders/7');
});

test('an incoming X-Teracron-Trace is continued: its trace, the caller\'s span as parent', async () => {
  let header: string | undefined;
  const spans = await recorded({}, () =>
    withServer((_req, res) => reply(res, 200, {}), async (server) => {
      header = (await send(server.url, { headers: { 'X-Teracron-Trace': `${TRACE}:${SPAN}` } })).headers['x-teracron-trace'] as string;
    }),
  );
  const span = only(spans, () => true, 'one span');
  assert.equal(span.trace_id, TRACE);
  assert.equal(span.parent_span_id, SPAN);
  assert.equal(header, `${TRACE}:${span.span_id}`);
});

test('an incoming traceparent is continued: its trace id, parent "0000000000000000" + its parent-id', async () => {
  const spans = await recorded({}, () =>
    withServer((_req, res) => reply(res, 200, {}), async (server) => {
      await send(server.url, { headers: { traceparent: `00-${TRACE}-${PARENT16}-01` } });
    }),
  );
  const span = only(spans, () => true, 'one span');
  assert.equal(span.trace_id, TRACE);
  assert.equal(span.parent_span_id, `0000000000000000${PARENT16}`);
});

test('with both headers, X-Teracron-Trace gives the ids (it carries the whole span id)', async () => {
  const spans = await recorded({}, () =>
    withServer((_req, res) => reply(res, 200, {}), async (server) => {
      await send(server.url, { headers: { 'x-teracron-trace': `${TRACE}:${SPAN}`, traceparent: `00-${'1'.repeat(32)}-${PARENT16}-01` } });
      await send(server.url, { headers: { 'x-teracron-trace': `${TRACE}:${SPAN}`, traceparent: `00-${TRACE}-${SPAN.slice(16)}-01` } });
    }),
  );
  assert.equal(spans.length, 2);
  for (const span of spans) {
    assert.equal(span.trace_id, TRACE);
    assert.equal(span.parent_span_id, SPAN);
  }
});

test('a traceparent with sampled flag 0 runs the request unrecorded: no span, user spans neither, the response names only the trace', async () => {
  let header: string | undefined;
  let inside: string | null = null;
  const spans = await recorded({}, () =>
    withServer(async (_req, res) => {
      await withSpan('work', async () => sleep(1));
      inside = getTraceHeader();
      reply(res, 200, {});
    }, async (server) => {
      header = (await send(server.url, { headers: { traceparent: `00-${TRACE}-${PARENT16}-00` } })).headers['x-teracron-trace'] as string;
    }),
  );
  assert.deepEqual(spans, []);
  assert.equal(header, TRACE);
  assert.equal(inside, `${TRACE}:0000000000000000${PARENT16}`, 'the trace is still current, for outgoing calls');
});

test('an X-Teracron-Trace with a traceparent of the same trace takes the sampled flag from the traceparent', async () => {
  const spans = await recorded({}, () =>
    withServer((_req, res) => reply(res, 200, {}), async (server) => {
      await send(server.url, { headers: { 'x-teracron-trace': `${TRACE}:${SPAN}`, traceparent: `00-${TRACE}-${SPAN.slice(16)}-00` } });
    }),
  );
  assert.deepEqual(spans, []);
});

test('spans started in the handler, before and after awaits and in timers, are children of the request span', async () => {
  const spans = await recorded({}, () =>
    withServer(async (_req, res) => {
      withSpan('shop', { operation: 'sync' }, () => undefined);
      await sleep(2);
      await withSpan('shop', { operation: 'after-await' }, async () => sleep(1));
      await new Promise<void>((resolve) => setTimeout(() => withSpan('shop', { operation: 'in-timer' }, () => resolve()), 1));
      currentSpan().setMetadata({ 'user.tier': 'gold' });
      reply(res, 200, {});
    }, async (server) => {
      await send(`${server.url}/work`);
    }),
  );
  const root = only(spans, (span) => span.parent_span_id === null, 'one root');
  assert.equal(root.operation, 'GET /work');
  assert.equal(root.metadata['user.tier'], 'gold', 'currentSpan() in the handler is the request span');
  assert.deepEqual(spans.filter((span) => span !== root).map((span) => [span.operation, span.trace_id, span.parent_span_id]).sort(), [
    ['after-await', root.trace_id, root.span_id],
    ['in-timer', root.trace_id, root.span_id],
    ['sync', root.trace_id, root.span_id],
  ]);
});

test('requests one after the other on one keep-alive socket get separate traces, and nothing of one is current in the next', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const seen: Array<{ port: number; header: string | null }> = [];
  const spans = await recorded({}, () =>
    withServer(async (req, res) => {
      seen.push({ port: req.socket.remotePort!, header: getTraceHeader() });
      if (req.url === '/slow') await sleep(5);
      if (req.url !== '/agent') withSpan('inner', () => undefined);
      reply(res, 200, {});
    }, async (server) => {
      const first = await send(`${server.url}/slow`, { agent });
      const second = await send(`${server.url}/fast`, { agent });
      // A teracron agent's request is not traced: its handler must see no trace at all.
      await send(`${server.url}/agent`, { agent, headers: { 'user-agent': 'teracron-node/0.1.0 node/20' } });
      assert.equal(seen[0]!.header, first.headers['x-teracron-trace']);
      assert.equal(seen[1]!.header, second.headers['x-teracron-trace']);
      assert.equal(second.headers['x-teracron-trace'] === first.headers['x-teracron-trace'], false);
      assert.equal(seen[2]!.header, null);
    }),
  );
  agent.destroy();
  assert.equal(new Set(seen.map((entry) => entry.port)).size, 1, 'all three came on one socket');
  const roots = spans.filter((span) => span.parent_span_id === null);
  assert.deepEqual(roots.map((span) => span.operation).sort(), ['GET /fast', 'GET /slow']);
  assert.notEqual(roots[0]!.trace_id, roots[1]!.trace_id);
  for (const root of roots) {
    const children = spans.filter((span) => span.parent_span_id === root.span_id);
    assert.deepEqual(children.map((span) => [span.workflow, span.trace_id]), [['inner', root.trace_id]]);
  }
  assert.equal(spans.length, 4, 'the untraced request recorded nothing');
});

test('Node\'s own listeners for a request are registered as without the agent; the handler\'s run in its span', async () => {
  const wrapped = (listener: Function): boolean => 'listener' in listener;
  let nodeFinish: boolean[] = [];
  let nodeClose: boolean[] = [];
  let handlerFinish: boolean[] = [];
  let inFinish: string | null = 'not called';
  let header: string | undefined;
  await recorded({}, () =>
    withServer((req, res) => {
      nodeFinish = res.rawListeners('finish').map(wrapped);
      nodeClose = req.socket.rawListeners('close').filter((listener) => listener.name === 'onServerResponseClose').map(wrapped);
      res.on('finish', () => (inFinish = getTraceHeader()));
      handlerFinish = res.rawListeners('finish').map(wrapped);
      reply(res, 200, {});
    }, async (server) => {
      header = (await send(server.url)).headers['x-teracron-trace'] as string;
    }),
  );
  assert.deepEqual(nodeFinish, [false], "Node's resOnFinish");
  assert.deepEqual(nodeClose, [false], "Node's onServerResponseClose");
  assert.deepEqual(handlerFinish, [false, true], "Node's, then the handler's, wrapped");
  assert.equal(inFinish, header);
});

const PROBES = ['/nope', '/wp-login.php', '/.env', '/admin/config.php?debug=1', '/cgi-bin/test.cgi', '/users/42/secret', '/a/b/c/d/e/f'];

test('paths answered 404 with no route named are one operation "METHOD <unmatched>", each keeping its path in http.path', async () => {
  const answers: string[] = [];
  const spans = await recorded({}, () =>
    withServer((_req, res) => reply(res, 404, { error: 'not found' }), async (server) => {
      for (const path of PROBES) {
        const answer = await send(`${server.url}${path}`);
        answers.push(`${answer.status} ${answer.body}`);
      }
      await send(`${server.url}/nope`, { method: 'POST' });
    }),
  );
  assert.deepEqual(answers, PROBES.map(() => '404 {"error":"not found"}'), 'the answers are the server\'s own');
  assert.equal(spans.length, PROBES.length + 1);
  assert.deepEqual([...new Set(spans.map((span) => span.operation))].sort(), ['GET <unmatched>', 'POST <unmatched>']);
  const gets = spans.filter((span) => span.operation === 'GET <unmatched>');
  assert.deepEqual(gets.map((span) => span.metadata['http.path']).sort(), PROBES.map((path) => path.split('?')[0]).sort());
  for (const span of spans) {
    assert.equal(span.status, 'succeeded');
    assert.equal(span.metadata['http.status_code'], 404);
    assert.equal(span.metadata['http.route'], undefined, 'no route matched');
  }
});

test('a 404 from a route named with setServerRoute keeps the route name; other statuses keep the folded path', async () => {
  const spans = await recorded({}, () =>
    withServer((req, res) => {
      if (req.url!.startsWith('/users/')) setServerRoute(req, '/users/:id');
      reply(res, req.url === '/health' ? 200 : 404, {});
    }, async (server) => {
      await send(`${server.url}/users/404404`);
      await send(`${server.url}/health`);
    }),
  );
  const user = only(spans, (span) => span.metadata['http.path'] === '/users/404404', 'the user span');
  assert.equal(user.operation, 'GET /users/:id');
  assert.equal(user.metadata['http.route'], '/users/:id');
  assert.equal(user.metadata['http.status_code'], 404);
  assert.equal(only(spans, (span) => span.metadata['http.path'] === '/health', 'the health span').operation, 'GET /health');
});

test('a 5xx answer fails the span with HTTPError and the status line', async () => {
  const spans = await recorded({}, () =>
    withServer((_req, res) => reply(res, 500, { error: 'boom' }), async (server) => {
      await send(`${server.url}/explode`);
    }),
  );
  const span = only(spans, () => true, 'one span');
  assert.equal(span.status, 'failed');
  assert.equal(span.error_type, 'HTTPError');
  assert.equal(span.error_message, '500 Internal Server Error');
  assert.equal(span.metadata['http.status_code'], 500);
  assert.equal(span.metadata['http.error_type'], undefined);
});

test('recordServerError: a 5xx span carries the error; a 4xx only http.error_type, unless fail is true', async () => {
  class PaymentDeclinedError extends Error {
    override name = 'PaymentDeclinedError';
  }
  const spans = await recorded({}, () =>
    withServer((req, res) => {
      const status = Number(req.url!.slice(1, 4));
      recordServerError(req, new PaymentDeclinedError('card declined'), req.url!.endsWith('/fail'));
      recordServerError(req, new Error('a consequence'));
      reply(res, status, {});
    }, async (server) => {
      await send(`${server.url}/503`);
      await send(`${server.url}/402`);
      await send(`${server.url}/402/fail`);
    }),
  );
  const byPath = new Map(spans.map((span) => [span.metadata['http.path'], span]));
  const failed503 = byPath.get('/503')!;
  assert.deepEqual([failed503.status, failed503.error_type, failed503.error_message, failed503.metadata['http.error_type']], ['failed', 'PaymentDeclinedError', 'card declined', 'PaymentDeclinedError']);
  const handled = byPath.get('/402')!;
  assert.deepEqual([handled.status, handled.error_type, handled.error_message, handled.metadata['http.error_type']], ['succeeded', null, null, 'PaymentDeclinedError']);
  const forced = byPath.get('/402/fail')!;
  assert.deepEqual([forced.status, forced.error_type, forced.metadata['http.status_code']], ['failed', 'PaymentDeclinedError', 402]);
});

test('a client that leaves before the answer fails the span as ClientClosedRequest, without a status code', async () => {
  let started!: () => void;
  const handlerStarted = new Promise<void>((resolve) => (started = resolve));
  let closed!: () => void;
  const responseClosed = new Promise<void>((resolve) => (closed = resolve));
  const spans = await recorded({}, () =>
    withServer((_req, res) => {
      res.on('close', () => closed());
      started();
    }, async (server) => {
      const req = httpRequest(`${server.url}/hang`);
      req.on('error', () => {});
      req.end();
      await handlerStarted;
      req.destroy();
      await responseClosed;
    }),
  );
  const span = only(spans, () => true, 'one span');
  assert.equal(span.status, 'failed');
  assert.equal(span.error_type, 'ClientClosedRequest');
  assert.equal(span.metadata['http.status_code'], undefined);
  assert.equal(span.operation, 'GET /hang');
});

test('the agent\'s own deliveries to the receiver in this process are never spans', async () => {
  const spans = await recorded({ traceBatchSize: 1 }, (receiver) =>
    withServer((_req, res) => reply(res, 200, {}), async (server) => {
      for (let i = 0; i < 5; i++) await send(`${server.url}/ping`);
      // Each span ships on its own: these deliveries happen while the subscribers are on.
      await receiver.waitForSpans(5);
    }),
  );
  assert.deepEqual([...new Set(spans.map((span) => span.operation))], ['GET /ping']);
});

test('without the subscribers, ensureServerSpan starts the span and enters it, and the response ends it', async () => {
  let inside: string | null = null;
  let header: string | undefined;
  const spans = await recorded({}, () =>
    withServer((req, res) => {
      ensureServerSpan(req, res);
      ensureServerSpan(req, res);
      inside = getTraceHeader();
      setServerRoute(req, '/items/:item');
      void Promise.resolve().then(() => runInServerSpan(req, () => withSpan('items', () => reply(res, 200, {}))));
    }, async (server) => {
      header = (await send(`${server.url}/items/abc`)).headers['x-teracron-trace'] as string;
    }), false,
  );
  const root = only(spans, (span) => span.parent_span_id === null, 'one root');
  assert.equal(root.operation, 'GET /items/:item');
  assert.equal(inside, header);
  assert.equal(header, `${root.trace_id}:${root.span_id}`);
  assert.equal(only(spans, (span) => span.workflow === 'items', 'the child').parent_span_id, root.span_id);
});

test('with no agent running, the subscribers change nothing: no header, no context', async () => {
  instrumentHttp();
  try {
    await withServer((_req, res) => reply(res, 200, { header: getTraceHeader() }), async (server) => {
      const answer = await send(server.url);
      assert.equal(answer.headers['x-teracron-trace'], undefined);
      assert.deepEqual(JSON.parse(answer.body), { header: null });
    });
  } finally {
    uninstrumentHttp();
  }
});
