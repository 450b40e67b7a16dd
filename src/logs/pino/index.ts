/**
 * `teracron/pino`: pino's logs as Teracron logs.
 *
 *   const logger = pino({ mixin: pinoMixin }, pino.transport({ target: 'teracron/pino', options: { service: 'api' } }));
 *
 * The default export is the transport, which pino loads in a worker thread of its own
 * (thread-stream): it ships the lines itself (pino-stream.ts), without starting an agent there.
 * `pinoMixin` runs in the app's thread and adds the current span's ids to each line.
 */
import type { Writable } from 'node:stream';
import type { PinoTransportOptions } from './pino-stream';

export { pinoMixin } from './mixin';
export type { PinoTraceFields } from './mixin';
export type { PinoTransportOptions } from './pino-stream';

export default function teracronPinoTransport(options?: PinoTransportOptions): Promise<Writable> {
  // Loaded here, not at the top: the app's thread imports this file for pinoMixin, and needs
  // none of the shipping half (sender, spool, undici).
  const { createPinoStream } = require('./pino-stream') as typeof import('./pino-stream');
  return createPinoStream(options);
}
