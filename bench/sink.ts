/**
 * A loopback endpoint that answers 202 without opening anything, and a client shipping to it:
 * for benches of the caller's thread, where the receiving end must keep up and cost nothing.
 * It reads no body, so it takes trace batches and the metrics batch of the client's exit alike;
 * the benches that use it check what the client counts as sent, not what arrived.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TeracronClient } from '../src/client';
import { benchProject } from './project';

export interface Sink {
  client: TeracronClient;
  close(): Promise<void>;
}

export async function clientWithSink(): Promise<Sink> {
  const { apiKey } = await benchProject();
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(202).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new TeracronClient({ apiKey, domain: `http://127.0.0.1:${port}` }).start();
  return {
    client,
    close: async () => {
      await client.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
