/**
 * The demo's shop: a plain node:http service. It runs under `node -r teracron/auto`, which
 * records a span per request (workflow TERACRON_HTTP_WORKFLOW, `shop` in the demo) and carries
 * the trace on its outgoing calls; the code below adds only its own spans and events.
 *
 *   GET  /health          a request span, nothing below it
 *   GET  /products        workflow "catalog": cache, then the database on a miss
 *   GET  /products/:id    workflow "catalog"
 *   POST /checkout        workflow "checkout": reserve stock, price, charge the card through the
 *                         payments service (whose spans join the trace), save the order
 *
 * Some checkouts fail the way real ones do: the card is declined (~5%), the stock update times
 * out on a row lock (~2%). Those throw real Error subclasses, so their spans carry the error type
 * and message. It logs too (`log.*`, joined to the request's trace): each order placed, each
 * decline, and a receipt email the mail relay refuses now and then (1 in 20) for an order and an
 * address that differ every time, which the collector groups into one issue.
 *
 *   TERACRON_API_KEY=tcn_… TERACRON_DOMAIN=http://127.0.0.1:7777 TERACRON_HTTP_WORKFLOW=shop \
 *     node -r teracron/auto dist/examples/shop/main.js --port 3000 --payments http://127.0.0.1:3001
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { event, log, setServerRoute, trace, withSpan } from 'teracron';
import { cacheGet, cacheSet, insertOrder, releaseStock, reserveStock, selectProduct, selectProducts } from './data';
import type { Order, Product } from './data';
import {
  BadRequestError, InventoryTimeoutError, OutOfStockError, PaymentDeclinedError, PaymentsUnavailableError, ProductNotFoundError, QueryTimeoutError,
  ReceiptNotSentError,
} from './errors';
import { portFrom, readJson, runService, sendJson, serve } from './service';

const { values } = parseArgs({ options: { port: { type: 'string' }, payments: { type: 'string' } } });
const paymentsUrl = values.payments ?? process.env.PAYMENTS_URL ?? 'http://127.0.0.1:3001';
const PAYMENTS_TIMEOUT_MS = 3000;
/** Units of the order's currency per US dollar; looked up (and cached) like a real FX feed. */
const FX: Record<string, number> = { USD: 1, EUR: 0.92, GBP: 0.79 };

interface LineItem {
  product_id: string;
  quantity: number;
}

interface Charge {
  id: string;
  status: string;
}

const listProducts = trace('catalog', async function listProducts(category: string | null) {
  const key = `products:${category ?? 'all'}`;
  const cached = await cacheGet<Product[]>('catalog', key);
  if (cached !== undefined) return cached;
  const rows = await selectProducts('catalog', category);
  await cacheSet('catalog', key, rows, 2000);
  return rows;
}, { capture: ['category'] });

const getProduct = trace('catalog', async function getProduct(id: string) {
  const key = `product:${id}`;
  const cached = await cacheGet<Product>('catalog', key);
  if (cached !== undefined) return cached;
  const product = await selectProduct('catalog', id);
  if (product === undefined) throw new ProductNotFoundError(`no product ${id}`);
  await cacheSet('catalog', key, product, 5000);
  return product;
}, { capture: ['id'] });

// The card token is a parameter but not captured: only the cart id and the currency are recorded.
const placeOrder = trace('checkout', async function placeOrder(cartId: string, currency: string, items: LineItem[], cardToken: string): Promise<Order> {
  const reserved = await reserveInventory(items);
  const totalCents = await priceOrder(currency, items, reserved);
  let charge: Charge;
  try {
    charge = await chargeCard(totalCents, currency, cardToken);
  } catch (error) {
    await releaseStock('checkout', items);
    if (error instanceof PaymentDeclinedError) {
      event({ name: 'payment.declined', type: 'warning', message: `cart ${cartId}: ${error.declineCode}`, metadata: { decline_code: error.declineCode, amount_cents: totalCents, currency } });
      log.warn(`card declined for cart ${cartId}`, { module: 'checkout', extra: { decline_code: error.declineCode, amount_cents: totalCents, currency } });
    } else {
      log.error(`checkout of cart ${cartId} failed`, { module: 'checkout', error });
    }
    throw error;
  }
  const order = await insertOrder('checkout', {
    id: `ord_${randomBytes(6).toString('hex')}`,
    cart_id: cartId,
    total_cents: totalCents,
    currency,
    charge_id: charge.id,
    created_at: Date.now(),
  });
  event({
    name: 'order.placed',
    type: 'info',
    message: `order ${order.id}: ${items.length} line(s), ${(totalCents / 100).toFixed(2)} ${currency}`,
    metadata: { order_id: order.id, lines: items.length, total_cents: totalCents, currency },
  });
  log.info(`order ${order.id} placed`, { module: 'checkout', extra: { order_id: order.id, lines: items.length, total_cents: totalCents, currency } });
  sendReceipt(order);
  return order;
}, { capture: ['cartId', 'currency'] });

/** Receipts sent so far: the relay refuses one in RECEIPT_REFUSAL_EVERY (a steady rate, not a dice roll, so a short demo shows it). */
let receipts = 0;
const RECEIPT_REFUSAL_EVERY = 20;

/** The receipt email: the relay refuses some, which costs the customer an email, not the order. */
function sendReceipt(order: Order): void {
  try {
    if (++receipts % RECEIPT_REFUSAL_EVERY === 0) throw new ReceiptNotSentError(`mail relay refused the receipt for order ${order.id} to customer-${order.cart_id}@example.com`);
  } catch (error) {
    log.error('receipt not sent', { module: 'mailer', error, extra: { order_id: order.id } });
  }
}

function reserveInventory(items: LineItem[]): Promise<Product[]> {
  return withSpan('checkout', { operation: 'inventory.reserve' }, async (span) => {
    span.setMetadata({ lines: items.length, units: items.reduce((sum, item) => sum + item.quantity, 0) });
    let reserved: Product[];
    try {
      reserved = await reserveStock('checkout', items);
    } catch (error) {
      if (!(error instanceof QueryTimeoutError)) throw error;
      event({ name: 'inventory.timeout', type: 'error', message: error.message, metadata: { lines: items.length } });
      throw new InventoryTimeoutError(`could not reserve stock for ${items.length} line(s): ${error.message}`, { cause: error });
    }
    if (reserved.length < items.length) {
      await releaseStock('checkout', items.filter((item) => reserved.some((product) => product.id === item.product_id)));
      throw new OutOfStockError(`${items.length - reserved.length} of ${items.length} line(s) are out of stock`);
    }
    return reserved;
  });
}

function priceOrder(currency: string, items: LineItem[], reserved: Product[]): Promise<number> {
  return withSpan('checkout', { operation: 'pricing.quote' }, async (span) => {
    let rate = await cacheGet<number>('checkout', `fx:${currency}`);
    if (rate === undefined) {
      rate = FX[currency]!;
      await cacheSet('checkout', `fx:${currency}`, rate, 10_000);
    }
    const usdCents = items.reduce((sum, item) => sum + item.quantity * reserved.find((product) => product.id === item.product_id)!.price_cents, 0);
    const totalCents = Math.round(usdCents * rate);
    span.setMetadata({ currency, fx_rate: rate, total_cents: totalCents });
    return totalCents;
  });
}

/**
 * POST /charge on the payments service. The fetch below it is a span of its own, whose ids go
 * along in X-Teracron-Trace and traceparent, added by the agent.
 */
function chargeCard(amountCents: number, currency: string, cardToken: string): Promise<Charge> {
  return withSpan('checkout', { operation: 'payments.charge' }, async (span) => {
    const url = `${paymentsUrl}/charge`;
    span.setMetadata({ 'peer.service': 'payments', amount_cents: amountCents, currency });
    let response: Response;
    let body: { id?: string; status?: string; decline_code?: string } | null;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ amount_cents: amountCents, currency, card_token: cardToken }),
        signal: AbortSignal.timeout(PAYMENTS_TIMEOUT_MS),
      });
      body = (await response.json().catch(() => null)) as typeof body;
    } catch (error) {
      throw new PaymentsUnavailableError(`POST ${url} failed: ${(error as Error).message}`, { cause: error });
    }
    span.setMetadata({ 'http.status_code': response.status });
    if (response.status === 402) throw new PaymentDeclinedError(body?.decline_code ?? 'unknown');
    if (!response.ok || typeof body?.id !== 'string') throw new PaymentsUnavailableError(`POST ${url} answered ${response.status}`);
    return { id: body.id, status: body.status ?? 'succeeded' };
  });
}

function checkoutRequest(body: unknown): { cartId: string; currency: string; items: LineItem[]; cardToken: string } {
  const { cart_id: cartId, currency, items, card_token: cardToken } = (body ?? {}) as Record<string, unknown>;
  if (typeof cartId !== 'string' || cartId === '') throw new BadRequestError('cart_id must be a non-empty string');
  if (typeof currency !== 'string' || FX[currency] === undefined) throw new BadRequestError(`currency must be one of ${Object.keys(FX).join(', ')}`);
  if (typeof cardToken !== 'string' || !cardToken.startsWith('tok_')) throw new BadRequestError('card_token must be a tok_… payment token');
  if (!Array.isArray(items) || items.length === 0 || items.length > 20) throw new BadRequestError('items must be a list of 1 to 20 lines');
  for (const item of items as LineItem[]) {
    if (typeof item?.product_id !== 'string' || !Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > 10) {
      throw new BadRequestError('each line needs a product_id and a quantity from 1 to 10');
    }
  }
  return { cartId, currency, items: items as LineItem[], cardToken };
}

runService('shop', portFrom(values.port, 'shop'), async (req, res, url) => {
  const path = url.pathname;
  if (req.method === 'GET' && path === '/health') return sendJson(res, 200, { status: 'ok' });
  if (req.method === 'GET' && path === '/products') {
    return serve(req, res, async () => ({ products: await listProducts(url.searchParams.get('category')) }));
  }
  const productId = /^\/products\/([^/]+)$/.exec(path)?.[1];
  if (req.method === 'GET' && productId !== undefined) {
    // Product ids (`ele-001`) are not the numbers and hex ids the agent folds by itself.
    setServerRoute(req, '/products/:id');
    return serve(req, res, () => getProduct(decodeURIComponent(productId)));
  }
  if (req.method === 'POST' && path === '/checkout') {
    return serve(req, res, async () => {
      const { cartId, currency, items, cardToken } = checkoutRequest(await readJson(req));
      return placeOrder(cartId, currency, items, cardToken);
    });
  }
  sendJson(res, 404, { error: 'NotFound', message: `no ${req.method} ${path}; try GET /products, GET /products/:id, POST /checkout, GET /health` });
});
