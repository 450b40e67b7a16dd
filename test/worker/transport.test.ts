/**
 * What the transport reads of an answer's body against a loopback server that misbehaves: a
 * 100 MB error page, a body that never ends, a JSON error. Only the start of an error body is
 * kept, the rest is not downloaded, and no body can hold a send past the timeout.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import { BODY_DISCARD_BYTES, ERROR_BODY_KEEP_BYTES, Transport } from '../../src/worker/transport';
import { fileTimeout } from '../helpers/file-timeout';
import { serve } from '../helpers/http';
import type { TestServer } from '../helpers/http';
import { streamHugeBody, trickleForever } from '../helpers/misbehaving-body';

fileTimeout(120_000);

const HUGE = 100 * 1024 * 1024;
const TIMEOUT_S = 1;
/** What a loopback socket can absorb before the writer sees backpressure: send and receive buffers. */
const SOCKET_SLACK = 16 * 1024 * 1024;

let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
let server: TestServer;
let connections = 0;

before(async () => {
  server = await serve((req, res) => {
    req.resume();
    req.on('end', () => handler(req, res));
  });
  server.server.on('connection', () => connections++);
});
after(() => server.close());

function transport(): Transport {
  return new Transport({ baseUrl: server.url, slug: 'vivid-kudu-655', userAgent: 'test', timeoutS: TIMEOUT_S, caPem: null, connections: 1 });
}

/** Fails after `ms` instead of hanging the file: a bound on failure, not a speed claim. */
async function within<T>(what: string, work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

for (const declared of [false, true]) {
  test(`a 500 with a 100 MB body (${declared ? 'content-length' : 'chunked'}) keeps only its first KiB of text and is not downloaded`, async () => {
    let written: Promise<number> = Promise.resolve(0);
    handler = (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain', ...(declared ? { 'content-length': String(HUGE + 27) } : {}) });
      written = streamHugeBody(res, 'upstream exploded: disk full', HUGE);
    };
    const t = transport();
    const result = await within('the post', t.post('/api/v1/traces', new Uint8Array(8)), 30_000);
    await t.close();
    assert.equal(result.status, 500);
    assert.match(String(result.errorText), /^upstream exploded: disk fullx+…$/);
    const sent = await written;
    assert.ok(sent < ERROR_BODY_KEEP_BYTES + BODY_DISCARD_BYTES + SOCKET_SLACK, `the server wrote ${sent} bytes of its ${HUGE}: the client kept reading`);
  });
}

test('a JSON {error, hint} body is reported as "error (hint)" and a small body keeps the connection alive', async () => {
  handler = (_req, res) => {
    const text = JSON.stringify({ error: 'collector overloaded', hint: 'retry later', detail: 'y'.repeat(2000) });
    res.writeHead(503, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  };
  const before = connections;
  const t = transport();
  const first = await t.post('/api/v1/traces', new Uint8Array(8));
  const second = await t.post('/api/v1/traces', new Uint8Array(8));
  await t.close();
  assert.equal(first.errorText, 'collector overloaded (retry later)');
  assert.equal(second.errorText, 'collector overloaded (retry later)');
  assert.equal(connections - before, 1, 'both requests went over one keep-alive connection');
});

for (const status of [202, 500]) {
  test(`a ${status} whose body trickles forever ends the send within the timeout, keeping the status`, async () => {
    let written: Promise<number> = Promise.resolve(0);
    handler = (_req, res) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      written = trickleForever(res, 'slow error');
    };
    const t = transport();
    // undici's bodyTimeout restarts with every byte, so only a deadline on the whole body ends it.
    const result = await within('the post', t.post('/api/v1/traces', new Uint8Array(8)), 10 * TIMEOUT_S * 1000);
    await t.close();
    assert.equal(result.status, status);
    if (status === 500) assert.match(String(result.errorText), /^slow error\.*$/);
    else assert.equal(result.errorText, null);
    assert.ok((await written) > 0);
  });
}

test('a 202 with a body larger than the discard limit closes that connection instead of reading it all', async () => {
  let written: Promise<number> = Promise.resolve(0);
  handler = (_req, res) => {
    res.writeHead(202, { 'content-type': 'text/plain' });
    written = streamHugeBody(res, 'ok', HUGE);
  };
  const t = transport();
  const result = await within('the post', t.post('/api/v1/traces', new Uint8Array(8)), 30_000);
  await t.close();
  assert.equal(result.status, 202);
  const sent = await written;
  assert.ok(sent < BODY_DISCARD_BYTES + SOCKET_SLACK, `the server wrote ${sent} bytes of its ${HUGE}`);
});
