/**
 * Runs work with an in-process agent shipping to a loopback receiver and the HTTP subscribers
 * on, then stops both and returns the spans that arrived.
 */
import { down, instrumentHttp, up } from '../../src/index';
import type { TeracronOptions } from '../../src/index';
import { uninstrumentHttp } from '../../src/http/instrument';
import type { WireSpan } from '../../src/wire/batch-codec';
import { loadPrivateKey } from '../../src/wire/envelope';
import { sleep } from './http';
import { startReceiver } from './receiver';
import type { Receiver } from './receiver';
import { envelopeVectors } from './vectors';

export async function recordedSpans(options: TeracronOptions, work: (receiver: Receiver) => Promise<void>, instrument = true): Promise<WireSpan[]> {
  const vectors = envelopeVectors();
  const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  up({ apiKey: vectors.api_key, domain: receiver.url, ...options });
  if (instrument) instrumentHttp();
  try {
    await work(receiver);
    // The server's 'finish' may come a moment after the client has the whole answer.
    await sleep(30);
  } finally {
    uninstrumentHttp();
    await down();
    await receiver.close();
  }
  return receiver.spans;
}
