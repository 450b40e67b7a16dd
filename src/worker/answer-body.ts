/**
 * Reads the body of an endpoint's answer with a bound on bytes and on time. The sender needs
 * at most the first few KiB (an error text) and often nothing (a 202), but a misbehaving
 * endpoint may answer with a 100 MB page or a body that trickles forever. Buffering such a body
 * grew a host process from 106 to 994 MiB RSS; waiting for it held a batch's in-flight slot.
 *
 * So: keep the first `keepBytes`, let up to `discardBytes` more flow by (a small body is read
 * to its end, which keeps the keep-alive connection), and past that, or past `timeoutMs`, destroy
 * the body, which closes that one connection instead of downloading the rest. undici's
 * `bodyTimeout` alone is not enough: it bounds the gap between chunks, not the whole body.
 */
import type { Readable } from 'node:stream';

export interface BodyLimits {
  /** Bytes kept from the start of the body. */
  keepBytes: number;
  /** Bytes read and thrown away before the connection is closed instead. */
  discardBytes: number;
  /** The whole body's time, from when the headers arrived. */
  timeoutMs: number;
}

/** Resolves with the kept bytes once the body ended, failed, or was cut off; never rejects. */
export function readAnswerBody(body: Readable, declaredLength: number | null, limits: BodyLimits): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let seen = 0;
    let done = false;
    const timer = setTimeout(() => finish(true), limits.timeoutMs);
    // A body longer than declared to be worth reading is cut as soon as its start is kept.
    const tooLong = declaredLength !== null && declaredLength > limits.keepBytes + limits.discardBytes;

    function finish(cut: boolean): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      body.off('data', onData);
      // Destroying makes undici abort the request and close its socket, so nothing more is read.
      if (cut) body.destroy();
      resolve(Buffer.concat(chunks, kept));
    }
    function onData(chunk: Buffer): void {
      seen += chunk.length;
      if (kept < limits.keepBytes) {
        // A copy, so the kept text does not pin the whole 64 KiB chunk behind it.
        const part = Buffer.from(chunk.subarray(0, limits.keepBytes - kept));
        chunks.push(part);
        kept += part.length;
      }
      if (seen > limits.keepBytes + limits.discardBytes || (tooLong && kept >= limits.keepBytes)) finish(true);
    }

    // The error listener stays: a destroyed body still emits its abort error after `finish`.
    body.on('error', () => finish(false));
    body.once('close', () => finish(false));
    body.on('data', onData);
    if (body.destroyed) finish(false);
    else if (tooLong && limits.keepBytes === 0) finish(true);
  });
}
