/**
 * A loopback endpoint that answers 202 without opening anything, and a client shipping to it:
 * for benches of the caller's thread, where the receiving end must keep up and cost nothing.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TeracronClient } from '../src/client';
import { envelopeVectors } from '../test/helpers/vectors';

export interface Sink {
  client: TeracronClient;
  close(): Promise<void>;
}

export async function clientWithSink(): Promise<Sink> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(202).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new TeracronClient({ apiKey: envelopeVectors().api_key, domain: `http://127.0.0.1:${port}` }).start();
  return {
    client,
    close: async () => {
      await client.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
