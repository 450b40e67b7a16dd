/**
 * The demo's customers: requests at a steady rate against the shop, a mix of browsing and
 * checkouts, with at most `concurrency` in flight (a request due while the shop is that far
 * behind is skipped and counted, rather than queued without bound).
 */
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';

export interface LoadCounters {
  requests: number;
  errors: number;
  skipped: number;
  /** Failed answers by status; 0 for a request that got no answer. */
  errorsByStatus: Map<number, number>;
}

export interface Load {
  counters: LoadCounters;
  /** Stops issuing and waits (bounded) for the requests in flight. */
  stop(): Promise<void>;
}

const TICK_MS = 10;
const DRAIN_MS = 5000;
const CURRENCIES = ['USD', 'USD', 'EUR', 'GBP'];

interface Catalog {
  categories: string[];
  productIds: string[];
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

interface Request {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

/** 55% category pages, 30% product pages, 15% checkouts of one to three products. */
function nextRequest({ categories, productIds }: Catalog): Request {
  const dice = Math.random();
  if (dice < 0.55) return { method: 'GET', path: Math.random() < 0.2 ? '/products' : `/products?category=${pick(categories)}` };
  if (dice < 0.85) return { method: 'GET', path: `/products/${pick(productIds)}` };
  const ids = new Set(Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => pick(productIds)));
  return {
    method: 'POST',
    path: '/checkout',
    body: JSON.stringify({
      cart_id: `cart_${randomBytes(5).toString('hex')}`,
      currency: pick(CURRENCIES),
      items: [...ids].map((id) => ({ product_id: id, quantity: 1 + Math.floor(Math.random() * 2) })),
      card_token: `tok_${randomBytes(12).toString('base64url')}`,
    }),
  };
}

/** Reads the catalog once, as a customer would, then starts the requests. */
export async function startLoad(baseUrl: string, rate: number, concurrency = 64): Promise<Load> {
  const pool = new Pool(baseUrl, { connections: Math.min(concurrency, 16), headersTimeout: 10_000, bodyTimeout: 10_000 });
  let catalog: Catalog;
  try {
    const { statusCode, body } = await pool.request({ method: 'GET', path: '/products' });
    const { products } = (await body.json()) as { products: Array<{ id: string; category: string }> };
    if (statusCode !== 200 || products.length === 0) throw new Error(`GET /products answered ${statusCode} with ${products.length} products`);
    catalog = { categories: [...new Set(products.map((product) => product.category))], productIds: products.map((product) => product.id) };
  } catch (error) {
    await pool.destroy();
    throw new Error(`could not read the shop's catalog: ${(error as Error).message}`, { cause: error });
  }
  const counters: LoadCounters = { requests: 0, errors: 0, skipped: 0, errorsByStatus: new Map() };
  const inFlight = new Set<Promise<void>>();
  const startedAt = performance.now();
  let issued = 0;

  const fail = (status: number): void => {
    counters.errors++;
    counters.errorsByStatus.set(status, (counters.errorsByStatus.get(status) ?? 0) + 1);
  };
  const send = async (request: Request): Promise<void> => {
    try {
      const { statusCode, body } = await pool.request({
        method: request.method,
        path: request.path,
        ...(request.body === undefined ? {} : { body: request.body, headers: { 'content-type': 'application/json' } }),
      });
      await body.dump();
      if (statusCode >= 400) fail(statusCode);
    } catch {
      fail(0);
    }
    counters.requests++;
  };

  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - startedAt) / 1000) * rate);
    for (; issued < due; issued++) {
      if (inFlight.size >= concurrency) {
        counters.skipped++;
        continue;
      }
      const request = send(nextRequest(catalog)).finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
  }, TICK_MS);

  return {
    counters,
    async stop() {
      clearInterval(timer);
      let deadline: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(inFlight), new Promise((resolve) => (deadline = setTimeout(resolve, DRAIN_MS)))]);
      clearTimeout(deadline);
      await pool.destroy();
    },
  };
}
