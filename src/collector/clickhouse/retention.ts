/**
 * Retention on ClickHouse: every table is partitioned by day (schema.ts), so a day wholly older
 * than the cutoff is dropped as a partition, which costs the server next to nothing whatever its
 * size, instead of rows being deleted. A day that straddles the cutoff is kept until it is wholly
 * past it, so data lives up to a day longer than the window here than on SQLite. Several
 * collectors may sweep one database at once: dropping a partition another has dropped is harmless.
 *
 * Issue statuses are not partitioned by day: an issue still occurring keeps the status set on it
 * however long ago. An issue not seen since the cutoff is forgotten, as SQLite deletes it: its
 * status is overwritten with '' (never set), so if it occurs again it is a new, open issue.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { retentionCutoff } from '../store/retention';
import { statusVersion } from './issue-queries';
import { DATA_TABLES } from './schema';
import { int, num, str } from './sql';

const DAY_MS = 86_400_000;

/** Drops the partitions older than `days` before `now`; resolves with the rows they held. */
export async function sweepClickHouse(client: ClickHouseClient, database: string, days: number, now: number): Promise<number> {
  // Partition ids of `PARTITION BY day` are the day numbers; a day d ends at (d + 1) × DAY_MS.
  const lastDroppedDay = Math.floor(retentionCutoff(days, now) / DAY_MS) - 1;
  const result = await client.query({
    query: `SELECT table, partition, sum(rows) AS rows FROM system.parts
            WHERE database = ${str(database)} AND active AND table IN (${DATA_TABLES.map(str).join(', ')})
              AND toUInt32OrZero(partition) <= ${int(lastDroppedDay)}
            GROUP BY table, partition`,
    format: 'JSONEachRow',
  });
  const parts = await result.json<{ table: string; partition: string; rows: string | number }>();
  let deleted = 0;
  for (const part of parts) {
    await client.command({ query: `ALTER TABLE ${part.table} DROP PARTITION ${int(Number(part.partition))}` });
    // Runs and the span index are derived from spans: only stored rows count as deleted.
    if (part.table !== 'runs' && part.table !== 'span_traces') deleted += Number(part.rows);
  }
  await client.command({
    query: `INSERT INTO issue_status (project, fingerprint, status, changed_at, version)
            SELECT project, fingerprint, '', 0, ${int(statusVersion(now))} FROM (
              SELECT project, fingerprint, argMax(status, version) AS latest FROM issue_status GROUP BY project, fingerprint
            ) WHERE latest != '' AND (project, fingerprint) NOT IN
              (SELECT project, fingerprint FROM issue_occurrences WHERE timestamp >= ${num(retentionCutoff(days, now))})`,
  });
  return deleted;
}
