/**
 * Runs work with an in-process agent shipping to a loopback receiver and the HTTP subscribers
 * on, then stops both and returns the spans that arrived.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ServerResponse } from 'node:http';
import { down, instrumentHttp, up } from '../../src/index';
import type { TeracronOptions } from '../../src/index';
import { uninstrumentHttp } from '../../src/http/instrument';
import type { WireSpan } from '../../src/wire/batch-codec';
import { loadPrivateKey } from '../../src/wire/envelope';
import { startReceiver } from './receiver';
import type { Receiver } from './receiver';
import { envelopeVectors } from './vectors';
import { waitFor } from './wait';
import { EXIT_BUDGET_MS } from './child';

const REQUEST_START = 'http.server.request.start';

export async function recordedSpans(options: TeracronOptions, work: (receiver: Receiver) => Promise<void>, instrument = true): Promise<WireSpan[]> {
  const vectors = envelopeVectors();
  const receiver = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  // A server span ends when its response closes, which may come a moment after the client has
  // the whole answer: the responses of this process's servers still open are waited for.
  const open = new Set<ServerResponse>();
  const onRequest = (message: unknown): void => {
    const { response } = message as { response: ServerResponse };
    open.add(response);
    response.once('close', () => open.delete(response));
  };
  subscribe(REQUEST_START, onRequest);
  up({ apiKey: vectors.api_key, domain: receiver.url, exitTimeoutMs: EXIT_BUDGET_MS, ...options });
  if (instrument) instrumentHttp();
  try {
    await work(receiver);
    await waitFor('every server response in this process to close', () => open.size === 0, { seen: () => [...open].map((res) => `${res.req.method} ${res.req.url}`) });
  } finally {
    unsubscribe(REQUEST_START, onRequest);
    uninstrumentHttp();
    await down();
    await receiver.close();
  }
  return receiver.spans;
}
