/**
 * Ports nothing listens on a moment ago, for a server that must come up on a port known before
 * it starts (a collector stopped and started again on the same one, ClickHouse's three ports).
 */
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';

/** `count` distinct ports that were free a moment ago: all held open at once, so none repeats. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    }
    return servers.map((server) => (server.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}
