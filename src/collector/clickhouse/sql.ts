/**
 * SQL for ClickHouse: the reads' one way in (rowReader), and values written into SQL text. Debian's ClickHouse 18.16 has no query parameters, so every value
 * a query carries is a literal made here, never text pasted in: strings are quoted with their
 * backslashes and quotes escaped, numbers must be finite.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { StoreUnavailableError } from '../store-backend';

export type RowReader = <T>(query: string) => Promise<T[]>;

/** Runs a query for its rows as JSON; a failure is StoreUnavailableError (the API's 503). */
export function rowReader(client: ClickHouseClient): RowReader {
  return async <T>(query: string): Promise<T[]> => {
    try {
      return await (await client.query({ query, format: 'JSONEachRow' })).json<T>();
    } catch (error) {
      throw new StoreUnavailableError(`ClickHouse: ${((error as Error).message ?? String(error)).split('\n')[0]}`);
    }
  };
}

export function str(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function num(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError(`${value} is not a finite number for a ClickHouse query`);
  return String(value);
}

/** A whole number (limits, pids); anything else is a bug in the caller. */
export function int(value: number): string {
  if (!Number.isSafeInteger(value)) throw new TypeError(`${value} is not a whole number for a ClickHouse query`);
  return String(value);
}
