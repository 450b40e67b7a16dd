/**
 * Reads an ingest body within its limits: at most `maxBytes`, inside the upload's share of the
 * buffered-bytes budget (upload-admission.ts), and never waiting more than `idleMs` for the next
 * byte. The chunks are kept as they arrive and joined once the body is whole: copying each into
 * a buffer of the declared size would leave every chunk behind as garbage, which V8 collects only
 * once tens of MiB of it have piled up, so stalled uploads would hold twice their reservation.
 */
import type { IncomingMessage } from 'node:http';
import type { Upload } from './upload-admission';

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`);
  }
}

export class BodyOverBudget extends Error {
  constructor() {
    super('the buffered-bytes budget of request bodies is full');
  }
}

export class BodyIdle extends Error {
  constructor(readonly idleMs: number) {
    super(`the body sent nothing for ${idleMs} ms`);
  }
}

export interface BodyReadOptions {
  maxBytes: number;
  /** The Content-Length, already reserved in `upload`; undefined for a chunked body. */
  declared: number | undefined;
  upload: Upload;
  idleMs: number;
}

export function readBody(req: IncomingMessage, options: BodyReadOptions): Promise<Buffer> {
  const { maxBytes, declared, upload, idleMs } = options;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;

    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      if (err === null) {
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      } else {
        req.pause();
        reject(err);
      }
    };
    const onIdle = (): void => finish(new BodyIdle(idleMs));
    const idle = setTimeout(onIdle, idleMs);

    const onData = (chunk: Buffer): void => {
      if (size + chunk.length > maxBytes) return finish(new BodyTooLarge(maxBytes));
      // A declared body reserved its length at admission (the parser holds it to that length).
      if (declared === undefined && !upload.grow(chunk.length)) return finish(new BodyOverBudget());
      chunks.push(chunk);
      size += chunk.length;
      idle.refresh();
    };
    const onEnd = (): void => finish(null);
    const onError = (err: Error): void => finish(err);
    const onAborted = (): void => finish(new Error('the client closed the connection before the body ended'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}
