/**
 * What leaves the process: captured parameters only when asked for, and everything through the
 * scrubber. Checked on the decrypted bytes the receiver got, not on our own objects.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { down, trace, up, withSpan } from '../../src/index';
import type { TeracronOptions } from '../../src/index';
import { loadPrivateKey } from '../../src/wire/envelope';
import { startReceiver } from '../helpers/receiver';
import type { Receiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';
import { EXIT_BUDGET_MS } from '../helpers/child';

fileTimeout(120_000);

const vectors = envelopeVectors();
const CARD = '4111-1111-1111-1111';
let receiver: Receiver | null = null;

async function session(options: Partial<TeracronOptions>, body: () => unknown): Promise<Receiver> {
  const r = await startReceiver(loadPrivateKey(vectors.private_key_pem));
  receiver = r;
  up({ apiKey: vectors.api_key, domain: r.url, exitTimeoutMs: EXIT_BUDGET_MS, ...options });
  await body();
  await down();
  await r.close();
  return r;
}

after(async () => {
  await down();
  await receiver?.close();
});

function rawBytes(r: Receiver): Buffer {
  return Buffer.concat(r.requests.map((req) => req.plaintext ?? Buffer.alloc(0)));
}

for (const wireFormat of ['msgpack', 'json'] as const) {
  test(`capture by names records those parameters and an uncaptured value appears nowhere in what is sent (${wireFormat})`, async () => {
    const charge = trace(
      'capture',
      function charge(orderId: string, amount: number, cardNumber: string) {
        return `${orderId}:${amount}:${cardNumber.length}`;
      },
      { capture: ['orderId', 'amount'] },
    );
    const r = await session({ wireFormat }, () => charge('ORD-1', 42.5, CARD));
    assert.equal(r.spans.length, 1);
    assert.deepEqual(r.spans[0]!.captured_params, { orderId: 'ORD-1', amount: 42.5 });
    assert.ok(rawBytes(r).length > 0);
    assert.equal(rawBytes(r).includes(CARD), false, 'the card number is not in the decrypted bytes');
    assert.equal(rawBytes(r).includes('ORD-1'), true, 'while the captured order id is');
  });
}

test('capture by function records what it returns, and nothing else', async () => {
  const charge = trace('capture-fn', function charge(order: { id: string; card: string }, attempt: number) {
    return order.id + attempt;
  }, { capture: (args) => ({ order: (args[0] as { id: string }).id, attempt: args[1] }) });
  const r = await session({}, () => charge({ id: 'ORD-2', card: CARD }, 3));
  assert.deepEqual(r.spans[0]!.captured_params, { order: 'ORD-2', attempt: 3 });
  assert.equal(rawBytes(r).includes(CARD), false);
});

test('without capture no argument value is recorded', async () => {
  const charge = trace('no-capture', function charge(cardNumber: string) {
    return cardNumber.length;
  });
  const r = await session({}, () => charge(CARD));
  assert.deepEqual(r.spans[0]!.captured_params, {});
  assert.equal(rawBytes(r).includes(CARD), false);
});

test('the scrubber rewrites metadata and captured params before they leave, from a copy', async () => {
  const seen: Array<Record<string, unknown>> = [];
  const scrubber = (data: Record<string, unknown>): Record<string, unknown> => {
    seen.push(data);
    const copy = { ...data };
    if ('card' in copy) copy.card = '[redacted]';
    return copy;
  };
  const pay = trace('scrubbed', function pay(card: string, amount: number) {
    return amount;
  }, { capture: ['card', 'amount'] });
  const r = await session({ tracingScrubber: scrubber }, () => {
    pay(CARD, 10);
    withSpan('scrubbed', { operation: 'block' }, (span) => span.setMetadata({ card: CARD, region: 'eu' }));
  });
  const [payed, block] = r.spans;
  assert.deepEqual(payed!.captured_params, { card: '[redacted]', amount: 10 });
  assert.deepEqual(block!.metadata, { card: '[redacted]', region: 'eu' });
  assert.equal(rawBytes(r).includes(CARD), false);
  assert.ok(seen.length >= 2);
});

test('a scrubber that throws drops the data, and the span is still sent', async () => {
  const scrubber = (): Record<string, unknown> => {
    throw new Error('scrubber bug');
  };
  const r = await session({ tracingScrubber: scrubber }, () =>
    withSpan('scrub-throws', (span) => {
      span.setMetadata({ card: CARD });
    }),
  );
  assert.equal(r.spans.length, 1);
  assert.deepEqual(r.spans[0]!.metadata, {});
  assert.equal(r.spans[0]!.status, 'succeeded');
  assert.equal(rawBytes(r).includes(CARD), false);
});
