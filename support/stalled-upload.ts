/**
 * An upload that stalls: it declares a body, sends part of it over a raw socket and then nothing,
 * as a hostile or broken client would, so what the collector holds for it can be measured. Shared
 * by the hostile-uploads test and the uploads bench.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';

export interface StalledUpload {
  socket: Socket;
  /** The answer's status code, or null if the connection closed without one. */
  status: Promise<number | null>;
}

/**
 * POST /api/v1/traces for project `slug`, declaring `declared` bytes and sending `sent` of them.
 * It stops writing once an answer arrives, as a sender that reads answers does.
 */
export function stalledUpload(url: string, slug: string, declared: number, sent: number): StalledUpload {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  let answer = '';
  let answered = false;
  const status = new Promise<number | null>((resolve) => {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      answered = true;
      answer += chunk;
      const match = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (match) resolve(Number(match[1]));
    });
    socket.on('close', () => resolve(null));
    socket.on('error', () => {});
  });
  socket.write(`POST /api/v1/traces HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/octet-stream\r\nx-project-slug: ${slug}\r\ncontent-length: ${declared}\r\n\r\n`);
  const piece = Buffer.alloc(64 * 1024, 0x5a);
  let written = 0;
  const writeMore = (): void => {
    while (written < sent && !answered) {
      const size = Math.min(piece.length, sent - written);
      written += size;
      if (!socket.write(piece.subarray(0, size))) return void socket.once('drain', writeMore);
    }
  };
  writeMore();
  return { socket, status };
}
