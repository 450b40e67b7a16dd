/**
 * The demo's payments service, under `node -r teracron/auto` like the shop: the shop's call to
 * `POST /charge` carries its trace, so this service's request span (workflow `payments`) and the
 * spans below it join the checkout's trace under the shop's call. About 5% of the cards are
 * declined (402, a CardDeclinedError span).
 *
 *   TERACRON_API_KEY=tcn_… TERACRON_DOMAIN=http://127.0.0.1:7777 TERACRON_HTTP_WORKFLOW=payments \
 *     node -r teracron/auto dist/examples/shop/payments.js --port 3001
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { event, trace, withSpan } from 'teracron';
import { BadRequestError, CardDeclinedError } from './errors';
import { portFrom, readJson, runService, sendJson, serve } from './service';
import { chance, latency, pick, sleep } from './sim';

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const DECLINE_RATE = 0.05;
const DECLINE_CODES = ['insufficient_funds', 'do_not_honor', 'expired_card', 'card_velocity_exceeded'] as const;

// The card token is a parameter but not captured: it never leaves this process.
const authorize = trace('payments', async function authorize(amountCents: number, currency: string, cardToken: string) {
  if (!cardToken.startsWith('tok_')) throw new BadRequestError('card_token must be a tok_… payment token');
  const score = await withSpan('payments', { operation: 'fraud.score' }, async (span) => {
    await sleep(latency(4));
    const value = Math.round(Math.random() * 1000) / 1000;
    span.setMetadata({ 'fraud.model': 'gbm-2024-11', 'fraud.score': value});
    return value;
  });
  return withSpan('payments', { operation: 'gateway.authorize' }, async (span) => {
    span.setMetadata({ gateway: 'acme-pay', amount_cents: amountCents, currency, 'fraud.score': score });
    await sleep(latency(30, 0.01));
    if (chance(DECLINE_RATE)) {
      const code = pick(DECLINE_CODES);
      span.setMetadata({ decline_code: code });
      event({ name: 'charge.declined', type: 'warning', message: `${code}: ${(amountCents / 100).toFixed(2)} ${currency}`, metadata: { decline_code: code, amount_cents: amountCents, currency } });
      throw new CardDeclinedError(code);
    }
    return { id: `ch_${randomBytes(8).toString('hex')}`, status: 'succeeded', amount_cents: amountCents, currency };
  });
}, { capture: ['amountCents', 'currency'] });

runService('payments', portFrom(values.port, 'payments'), async (req, res, url) => {
  if (req.method === 'GET' && url.pathname === '/health') return sendJson(res, 200, { status: 'ok' });
  if (req.method === 'POST' && url.pathname === '/charge') {
    return serve(req, res, async () => {
      const { amount_cents: amountCents, currency, card_token: cardToken } = ((await readJson(req)) ?? {}) as Record<string, unknown>;
      if (!Number.isInteger(amountCents) || (amountCents as number) <= 0) throw new BadRequestError('amount_cents must be a positive whole number');
      if (typeof currency !== 'string' || typeof cardToken !== 'string') throw new BadRequestError('currency and card_token are required');
      return authorize(amountCents as number, currency, cardToken);
    });
  }
  sendJson(res, 404, { error: 'NotFound', message: `no ${req.method} ${url.pathname}; try POST /charge, GET /health` });
});
