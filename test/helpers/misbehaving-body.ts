/**
 * Answer bodies a misbehaving endpoint sends: a huge one, streamed so the test never holds it,
 * and one that trickles forever. Each resolves with the bytes actually handed to the socket,
 * which tells whether the client stopped reading.
 */
import type { ServerResponse } from 'node:http';

const CHUNK = Buffer.alloc(64 * 1024, 'x');

/** `prefix`, then filler up to `totalBytes`, written as fast as the client reads it. */
export function streamHugeBody(res: ServerResponse, prefix: string, totalBytes: number): Promise<number> {
  return new Promise((resolve) => {
    let written = 0;
    let closed = false;
    res.on('close', () => {
      closed = true;
      resolve(written);
    });
    const write = (chunk: Buffer): boolean => {
      written += chunk.length;
      return res.write(chunk);
    };
    const pump = (): void => {
      while (!closed && written < totalBytes) {
        const room = totalBytes - written;
        if (!write(room >= CHUNK.length ? CHUNK : CHUNK.subarray(0, room))) {
          res.once('drain', pump);
          return;
        }
      }
      if (!closed) res.end();
    };
    write(Buffer.from(prefix));
    pump();
  });
}

/** One byte every `everyMs` until the client goes away: never ends on its own. */
export function trickleForever(res: ServerResponse, prefix: string, everyMs = 50): Promise<number> {
  return new Promise((resolve) => {
    let written = 0;
    res.write(prefix);
    written += Buffer.byteLength(prefix);
    const timer = setInterval(() => {
      res.write('.');
      written++;
    }, everyMs);
    res.on('close', () => {
      clearInterval(timer);
      resolve(written);
    });
  });
}
