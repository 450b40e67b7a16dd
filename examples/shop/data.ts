/**
 * A stand-in for the shop's database and cache: in-memory tables behind simulated round trips.
 * Every round trip is its own span, with the statement (parameterised: values never appear in
 * it), the rows it returned or changed, and whether the cache hit.
 */
import { event, withSpan } from 'teracron';
import { QueryTimeoutError } from './errors';
import { chance, latency, sleep } from './sim';

export interface Product {
  id: string;
  name: string;
  category: string;
  price_cents: number;
  stock: number;
}

export interface Order {
  id: string;
  cart_id: string;
  total_cents: number;
  currency: string;
  charge_id: string;
  created_at: number;
}

export const CATEGORIES = ['coffee', 'tea', 'brewing', 'books'] as const;
const NAMES: Record<(typeof CATEGORIES)[number], string[]> = {
  coffee: ['Ethiopia Guji', 'Colombia Huila', 'Kenya Nyeri', 'Brazil Cerrado', 'Guatemala Antigua', 'Rwanda Nyamasheke', 'House Espresso', 'Decaf Sugarcane', 'Peru Cajamarca', 'Sumatra Gayo'],
  tea: ['Sencha Asamushi', 'Darjeeling First Flush', 'Assam Breakfast', 'Jasmine Pearls', 'Oolong Tie Guan Yin', 'Earl Grey', 'Rooibos', 'Genmaicha'],
  brewing: ['Pour-over Dripper', 'Gooseneck Kettle', 'Burr Grinder', 'French Press', 'AeroPress', 'Paper Filters (100)', 'Scale 0.1 g', 'Cold Brew Jar'],
  books: ['The World Atlas of Coffee', 'The Tea Book', 'Water for Coffee', 'Craft Coffee: A Manual'],
};

export const products: Product[] = CATEGORIES.flatMap((category) =>
  NAMES[category].map((name, i) => ({
    id: `${category.slice(0, 3)}-${String(i + 1).padStart(3, '0')}`,
    name,
    category,
    price_cents: 500 + ((name.length * 397) % 4000),
    stock: 200,
  })),
);
const byId = new Map(products.map((product) => [product.id, product]));
const orders: Order[] = [];
const MAX_ORDERS = 10_000;

const STATEMENT_TIMEOUT_MS = 120;
const SLOW_QUERY_MS = 40;

export interface QueryOptions {
  /** Chance that the statement waits on a row lock until it times out. */
  lockTimeoutChance?: number;
}

/** One simulated round trip to the database, traced as `db.query`. */
export function query<R>(workflow: string, statement: string, run: () => R[], options: QueryOptions = {}): Promise<R[]> {
  return withSpan(workflow, { operation: 'db.query' }, async (span) => {
    span.setMetadata({ 'db.system': 'postgresql', 'db.name': 'shop', 'db.operation': statement.slice(0, statement.indexOf(' ')), 'db.statement': statement });
    if (chance(options.lockTimeoutChance ?? 0)) {
      await sleep(STATEMENT_TIMEOUT_MS);
      throw new QueryTimeoutError(`canceling statement due to lock timeout (${STATEMENT_TIMEOUT_MS} ms)`);
    }
    const ms = latency(3, 0.02);
    await sleep(ms);
    const rows = run();
    span.setMetadata({ 'db.rows': rows.length });
    if (ms > SLOW_QUERY_MS) {
      event({ name: 'db.slow_query', type: 'warning', message: `${Math.round(ms)} ms: ${statement}`, metadata: { 'db.statement': statement, duration_ms: Math.round(ms) } });
    }
    return rows;
  });
}

export function selectProducts(workflow: string, category: string | null): Promise<Product[]> {
  return category === null
    ? query(workflow, 'SELECT id, name, category, price_cents, stock FROM products ORDER BY name LIMIT 50', () => products.slice(0, 50))
    : query(workflow, 'SELECT id, name, category, price_cents, stock FROM products WHERE category = $1 ORDER BY name LIMIT 50', () =>
        products.filter((product) => product.category === category),
      );
}

export async function selectProduct(workflow: string, id: string): Promise<Product | undefined> {
  const rows = await query(workflow, 'SELECT id, name, category, price_cents, stock FROM products WHERE id = $1', () => {
    const product = byId.get(id);
    return product === undefined ? [] : [product];
  });
  return rows[0];
}

/** Takes `quantity` off the stock of each product; the rows that had enough. */
export function reserveStock(workflow: string, items: Array<{ product_id: string; quantity: number }>): Promise<Product[]> {
  return query(
    workflow,
    'UPDATE products SET stock = stock - $2 WHERE id = $1 AND stock >= $2 RETURNING id, name, price_cents, stock',
    () =>
      items.flatMap(({ product_id, quantity }) => {
        const product = byId.get(product_id);
        if (product === undefined || product.stock < quantity) return [];
        product.stock -= quantity;
        // The warehouse never runs dry in this demo.
        if (product.stock < 20) {
          event({ name: 'inventory.low_stock', type: 'warning', message: `${product.id} is down to ${product.stock}; restocking`, metadata: { product_id: product.id, stock: product.stock } });
          product.stock += 200;
        }
        return [product];
      }),
    { lockTimeoutChance: 0.02 },
  );
}

export function releaseStock(workflow: string, items: Array<{ product_id: string; quantity: number }>): Promise<Product[]> {
  return query(workflow, 'UPDATE products SET stock = stock + $2 WHERE id = $1 RETURNING id, stock', () =>
    items.flatMap(({ product_id, quantity }) => {
      const product = byId.get(product_id);
      if (product === undefined) return [];
      product.stock += quantity;
      return [product];
    }),
  );
}

export async function insertOrder(workflow: string, order: Order): Promise<Order> {
  await query(workflow, 'INSERT INTO orders (id, cart_id, total_cents, currency, charge_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)', () => {
    orders.push(order);
    if (orders.length > MAX_ORDERS) orders.shift();
    return [order];
  });
  return order;
}

const cache = new Map<string, { value: unknown; expires: number }>();

/** One simulated round trip to the cache, traced as `cache.get`. */
export function cacheGet<T>(workflow: string, key: string): Promise<T | undefined> {
  return withSpan(workflow, { operation: 'cache.get' }, async (span) => {
    await sleep(latency(0.5));
    const entry = cache.get(key);
    const hit = entry !== undefined && entry.expires > Date.now();
    span.setMetadata({ 'cache.system': 'redis', 'cache.key': key, 'cache.hit': hit });
    return hit ? (entry.value as T) : undefined;
  });
}

export function cacheSet(workflow: string, key: string, value: unknown, ttlMs: number): Promise<void> {
  return withSpan(workflow, { operation: 'cache.set' }, async (span) => {
    await sleep(latency(0.5));
    cache.set(key, { value, expires: Date.now() + ttlMs });
    span.setMetadata({ 'cache.system': 'redis', 'cache.key': key, 'cache.ttl_ms': ttlMs });
  });
}
