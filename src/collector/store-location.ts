/**
 * `--store` (or TERACRON_STORE): where the collector keeps its data.
 *
 *   sqlite                                   <data>/teracron.db (the default)
 *   clickhouse://user:password@host:8123/db  ClickHouse over HTTP; clickhouses:// for HTTPS
 *
 * The ClickHouse driver is loaded only when asked for, so a collector on SQLite never needs it.
 */
import type { StoreBackend } from './store-backend';

export const STORE_ENV = 'TERACRON_STORE';

export interface ClickHouseLocation {
  /** http(s)://host:port, without credentials. */
  url: string;
  username: string;
  password: string;
  database: string;
}

export type StoreLocation = { engine: 'sqlite' } | ({ engine: 'clickhouse' } & ClickHouseLocation);

const EXAMPLE = 'sqlite, or clickhouse://user:password@host:8123/database';

export function parseStoreLocation(value: string | undefined): StoreLocation {
  if (value === undefined || value === '' || value === 'sqlite') return { engine: 'sqlite' };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`the store ${JSON.stringify(redact(value))} is not a URL: use ${EXAMPLE}`);
  }
  if (url.protocol !== 'clickhouse:' && url.protocol !== 'clickhouses:') {
    throw new Error(`the store ${JSON.stringify(redact(value))} names no engine this collector knows (${url.protocol}): use ${EXAMPLE}`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'default';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) {
    throw new Error(`the ClickHouse database ${JSON.stringify(database)} is not a plain name (letters, digits, _): name it like teracron in ${EXAMPLE}`);
  }
  const secure = url.protocol === 'clickhouses:';
  const port = url.port === '' ? (secure ? '8443' : '8123') : url.port;
  return {
    engine: 'clickhouse',
    url: `${secure ? 'https' : 'http'}://${url.hostname}:${port}`,
    username: decodeURIComponent(url.username) || 'default',
    password: decodeURIComponent(url.password),
    database,
  };
}

/** The store's address with its password replaced, for logs and errors. */
export function redact(value: string): string {
  return value.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

export async function openStore(value: string | undefined, dataDir: string, log: (line: string) => void): Promise<StoreBackend> {
  const location = parseStoreLocation(value ?? process.env[STORE_ENV]);
  if (location.engine === 'sqlite') {
    const { openSqliteBackend } = await import('./sqlite-backend.js');
    return openSqliteBackend(dataDir, log);
  }
  const { openClickHouseBackend } = await import('./clickhouse/index.js');
  return openClickHouseBackend(location, log);
}
