/**
 * The collector's store on ClickHouse (`--store clickhouse://user:password@host:8123/db`): the
 * schema is created or migrated on start, batches go through one writer per collector process
 * (writer.ts) and the query API reads with queries.ts. Several collectors may share a database:
 * each writes its own batches, every one answers queries over all of them, and a batch retried
 * into another collector is stored once (schema.ts).
 */
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import type { ClickHouseClient } from '@clickhouse/client';
import type { StoreBackend } from '../store-backend';
import type { ClickHouseLocation } from '../store-location';
import { clickHouseQueries } from './queries';
import { migrateClickHouse } from './schema';
import { ClickHouseWriter } from './writer';
import type { WriterOptions } from './writer';

/** A query or insert that takes longer is abandoned (and its batches answered 503). */
const REQUEST_TIMEOUT_MS = 30_000;

export function clickHouseClient(location: ClickHouseLocation, database: string): ClickHouseClient {
  return createClient({
    url: location.url,
    username: location.username,
    password: location.password,
    database,
    request_timeout: REQUEST_TIMEOUT_MS,
    max_open_connections: 8,
    // The collector says what failed in its own words; the driver's console lines would repeat it.
    log: { level: ClickHouseLogLevel.OFF },
    clickhouse_settings: {
      // Counts and pids come back as JSON numbers, not strings.
      output_format_json_quote_64bit_integers: 0,
    },
  });
}

export async function openClickHouseBackend(location: ClickHouseLocation, log: (line: string) => void, options: WriterOptions = {}): Promise<StoreBackend> {
  // The database may not exist yet: the first statement goes to `default`.
  const admin = clickHouseClient(location, 'default');
  const client = clickHouseClient(location, location.database);
  try {
    const applied = await migrateClickHouse(admin, client, location.database);
    if (applied > 0) log(`ClickHouse database ${location.database}: applied ${applied} schema migration${applied === 1 ? '' : 's'}`);
  } catch (error) {
    await client.close();
    throw new Error(`could not open the ClickHouse store at ${location.url}/${location.database}: ${firstLine(error)}`);
  } finally {
    await admin.close();
  }
  const writer = new ClickHouseWriter(client, location.database, log, options);
  return {
    description: `ClickHouse ${location.url}/${location.database}`,
    packing: 'clickhouse-rows',
    queries: clickHouseQueries(client),
    writer,
    async close() {
      await writer.close();
      await client.close();
    },
  };
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!;
}
