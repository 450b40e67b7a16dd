/**
 * When a posted body is at rest (src/worker/body-writes.ts), through the real Transport and
 * undici: an answer that comes before the body is written (a proxy refusing on the headers
 * alone) leaves the rest of the body queued in the socket, so its buffer must not be rewritten
 * until the socket has written it or is gone.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { test } from 'node:test';
import { isBodyAtRest } from '../../src/worker/body-writes';
import { Transport } from '../../src/worker/transport';
import { fileTimeout } from '../helpers/file-timeout';
import { waitFor } from '../helpers/wait';

fileTimeout(60_000);

/** Larger than what loopback socket buffers hold on both sides, so a reader that stops leaves it half sent. */
const LARGE_BODY_BYTES = 32 * 1024 * 1024;

/**
 * An HTTP endpoint that answers each request `status` once its headers are in: after reading
 * the whole body (`readBody`), or at once and then reading nothing more.
 */
async function startEndpoint(status: number, readBody: boolean): Promise<{ server: Server; url: string; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    let received = Buffer.alloc(0);
    let bodyLeft = -1;
    const answer = (): void => void socket.write(`HTTP/1.1 ${status} X\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n`);
    socket.on('data', (chunk: Buffer) => {
      if (bodyLeft >= 0) {
        bodyLeft -= chunk.length;
        if (bodyLeft <= 0) answer();
        return;
      }
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!readBody) {
        answer();
        socket.pause();
        return;
      }
      const length = Number(/content-length: (\d+)/i.exec(received.subarray(0, end).toString('latin1'))![1]);
      bodyLeft = length - (received.length - end - 4);
      if (bodyLeft <= 0) answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets };
}

function transportTo(url: string): Transport {
  return new Transport({ baseUrl: url, slug: 'test', userAgent: 'test', timeoutS: 30, caPem: null, connections: 1 });
}

test('a body never posted is at rest', () => {
  assert.equal(isBodyAtRest(Buffer.alloc(16)), true);
});

test('a body the endpoint read before answering is at rest once the answer is in', async () => {
  const endpoint = await startEndpoint(202, true);
  const transport = transportTo(endpoint.url);
  try {
    const body = Buffer.alloc(LARGE_BODY_BYTES, 1);
    assert.equal((await transport.post('/api/ingest', body)).status, 202);
    assert.equal(isBodyAtRest(body), true);
  } finally {
    transport.destroy();
    endpoint.server.close();
    for (const socket of endpoint.sockets) socket.destroy();
  }
});

test('a body answered before it was written is not at rest until its connection is gone', async () => {
  const endpoint = await startEndpoint(401, false);
  const transport = transportTo(endpoint.url);
  try {
    const body = Buffer.alloc(LARGE_BODY_BYTES, 1);
    assert.equal((await transport.post('/api/ingest', body)).status, 401, 'undici gives the answer while the body is still being written');
    assert.equal(isBodyAtRest(body), false, 'the socket still has the rest of the body to write');
    for (const socket of endpoint.sockets) socket.destroy();
    await waitFor('the client side of the connection to be destroyed', () => isBodyAtRest(body));
  } finally {
    transport.destroy();
    endpoint.server.close();
  }
});

test('a body whose post failed before any connection took it is not taken for at rest', async () => {
  const endpoint = await startEndpoint(202, true);
  endpoint.server.close();
  await new Promise<void>((resolve) => endpoint.server.once('close', resolve));
  const transport = transportTo(endpoint.url);
  try {
    const body = Buffer.alloc(1024, 1);
    await assert.rejects(transport.post('/api/ingest', body));
    assert.equal(isBodyAtRest(body), false);
  } finally {
    transport.destroy();
  }
});
