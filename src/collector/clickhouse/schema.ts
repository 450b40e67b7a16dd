/**
 * The ClickHouse schema, versioned like SQLite's (store/schema.ts): each migration is a list of
 * statements, applied in order on start and recorded in `teracron_schema`. Statements are
 * idempotent (IF NOT EXISTS), so collectors starting together against one database may both
 * apply a migration without harm.
 *
 * Written for the oldest server in use, Debian's 18.16: no DateTime64 (times are Float64 unix
 * ms, the wire's value at full precision), no TTL, no query parameters, no SimpleAggregateFunction.
 * Every data table is partitioned by day (`day` = unix ms / 86,400,000), so retention drops whole
 * partitions (retention.ts) instead of deleting rows.
 *
 * Duplicates: a batch retried into another collector (its first 202 lost) is written twice.
 * - spans: ReplacingMergeTree keyed by (project, trace_id, span_id), `version` 0 for a `started`
 *   record and 1 for a finished one, so the finished record replaces the started one and a copy
 *   replaces its twin. Reads go through FINAL (or pick the highest version themselves).
 * - runs: an AggregatingMergeTree fed by a materialized view of spans, one row per trace: the
 *   root (argMin over has_parent, started_at, span_id, is_started: the earliest span without a
 *   parent, its finished record before its started one; with no root, the earliest span stands
 *   in), the distinct span ids (uniqExact: a copy counts once) and the trace's first start.
 *   Every state is unchanged by a copy of a span, so runs need no dedup.
 * - events: ReplacingMergeTree keyed by (project, timestamp, event_key), event_key being the
 *   batch id and the event's place in it; metric samples by (project, timestamp, sample_key),
 *   the sending process (pid, service, host): a process sends one sample per timestamp.
 * - batches: the batch ids stored, so a retry reaching the same or another collector later is
 *   answered `duplicate` without writing.
 * - logs: ReplacingMergeTree keyed by (project, timestamp, log_key), log_key being the batch id and
 *   the log's place in it like event_key: the key leads with the time, so a newest-first page
 *   reads the newest parts of the key range (and `from`/`to` prune it).
 * - issue_occurrences: ReplacingMergeTree keyed by (project, fingerprint, timestamp,
 *   occurrence_key), the batch id and the occurrence's place in it: one issue's occurrences are
 *   one key range, newest last.
 *
 * Issues are computed from their occurrences at read time (FINAL), not kept in an aggregate fed
 * by a materialized view. Correctness decided it: a count must not grow when two collectors race
 * to store copies of one batch, and an aggregate that stays exact under copies has to keep every
 * occurrence's key in its state (uniqExact), which is as much to read as the occurrences
 * themselves; and retention then drops an issue's old days with its occurrences, with nothing
 * else to keep in step. Errors are a small part of what a project sends, and the list reads only
 * the project's range of this one table.
 * - issue_status: what was set through the API, a ReplacingMergeTree(version) keyed by
 *   (project, fingerprint), version being the time it was set (in µs, so two settings within a
 *   millisecond keep their order): the latest setting wins. Whether a resolved issue regressed is
 *   read with it (a later occurrence than the resolution), never stored. It is not partitioned by
 *   day: an issue that keeps occurring keeps its status past the retention window, and one not
 *   seen within it has its status forgotten by a newer '' row (retention.ts), as SQLite deletes
 *   the issue.
 */
import type { ClickHouseClient } from '@clickhouse/client';

export const CLICKHOUSE_SCHEMA_VERSION = 3;

const DAY = 'toUInt32(intDiv(toUInt64(greatest(started_at, 0)), 86400000))';

const MIGRATIONS: ReadonlyArray<readonly string[]> = [
  [
    `CREATE TABLE IF NOT EXISTS spans (
       project String, trace_id String, span_id String, parent_span_id Nullable(String),
       workflow String, operation String, status String, started_at Float64, duration_ms Float64,
       error_type Nullable(String), error_message Nullable(String), metadata String, captured_params String,
       service Nullable(String), environment Nullable(String), host Nullable(String), pid Nullable(Int64),
       version UInt8, day UInt32 DEFAULT ${DAY}
     ) ENGINE = ReplacingMergeTree(version) PARTITION BY day ORDER BY (project, trace_id, span_id)`,
    // Finds a span's trace from its id alone (GET /api/v1/spans/:id) without scanning spans.
    `CREATE TABLE IF NOT EXISTS span_traces (project String, span_id String, trace_id String, day UInt32)
     ENGINE = ReplacingMergeTree() PARTITION BY day ORDER BY (project, span_id, trace_id)`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS span_traces_mv TO span_traces AS
     SELECT project, span_id, trace_id, day FROM spans`,
    `CREATE TABLE IF NOT EXISTS runs (
       project String, trace_id String, day UInt32,
       root AggregateFunction(argMin, Tuple(String, String, String, Float64, Float64), Tuple(UInt8, Float64, String, UInt8)),
       span_ids AggregateFunction(uniqExact, String)
     ) ENGINE = AggregatingMergeTree() PARTITION BY day ORDER BY (project, trace_id)`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS runs_mv TO runs AS
     SELECT project, trace_id, min(day) AS day,
       argMinState(
         tuple(workflow, operation, if(status = 'started', 'in_progress', status), started_at, duration_ms),
         tuple(toUInt8(isNotNull(parent_span_id)), started_at, span_id, toUInt8(status = 'started'))) AS root,
       uniqExactState(span_id) AS span_ids
     FROM spans GROUP BY project, trace_id`,
    `CREATE TABLE IF NOT EXISTS events (
       project String, event_key String, trace_id Nullable(String), span_id Nullable(String), workflow Nullable(String),
       event_type String, name String, message Nullable(String), severity String, timestamp Float64, metadata String,
       service Nullable(String), environment Nullable(String), host Nullable(String), pid Nullable(Int64),
       day UInt32 DEFAULT toUInt32(intDiv(toUInt64(greatest(timestamp, 0)), 86400000))
     ) ENGINE = ReplacingMergeTree() PARTITION BY day ORDER BY (project, timestamp, event_key)`,
    `CREATE TABLE IF NOT EXISTS metric_samples (
       project String, sample_key String, timestamp Float64,
       heap_total Float64, heap_used Float64, rss Float64, external Float64, array_buffers Float64,
       cpu_usage_pct Float64, event_loop_lag Float64,
       uss Nullable(Float64), pss Nullable(Float64), vms Nullable(Float64), swap Nullable(Float64),
       pid Nullable(Int64), threads Nullable(Float64), event_loop_p50 Nullable(Float64), event_loop_p99 Nullable(Float64),
       ppid Nullable(Int64), command Nullable(String), sdk_version String, runtime_version String,
       service Nullable(String), host Nullable(String),
       dropped_ring_full Nullable(Float64), dropped_send_failed Nullable(Float64), send_retries Nullable(Float64), metrics_dropped Nullable(Float64),
       day UInt32 DEFAULT toUInt32(intDiv(toUInt64(greatest(timestamp, 0)), 86400000))
     ) ENGINE = ReplacingMergeTree() PARTITION BY day ORDER BY (project, timestamp, sample_key)`,
    `CREATE TABLE IF NOT EXISTS batches (project String, batch_id String, received_at Float64,
       day UInt32 DEFAULT toUInt32(intDiv(toUInt64(greatest(received_at, 0)), 86400000))
     ) ENGINE = ReplacingMergeTree() PARTITION BY day ORDER BY (project, batch_id)`,
  ],
  // 2: the agent's spool (MetricsEntry fields 23-26), like SQLite's migration 7. 18.16 has no
  // ADD COLUMN IF NOT EXISTS: a column another collector added meanwhile is taken as done.
  [
    'ALTER TABLE metric_samples ADD COLUMN spooled Nullable(Float64) AFTER metrics_dropped',
    'ALTER TABLE metric_samples ADD COLUMN replayed Nullable(Float64) AFTER spooled',
    'ALTER TABLE metric_samples ADD COLUMN dropped_spool_full Nullable(Float64) AFTER replayed',
    'ALTER TABLE metric_samples ADD COLUMN spool_bytes Nullable(Float64) AFTER dropped_spool_full',
  ],
  // 3: logs and issues (issue 18).
  [
    `CREATE TABLE IF NOT EXISTS logs (
       project String, log_key String, timestamp Float64, level String, message String, module Nullable(String),
       service Nullable(String), environment Nullable(String), host Nullable(String), pid Nullable(Int64),
       trace_id Nullable(String), span_id Nullable(String), extra String,
       error_type Nullable(String), error_message Nullable(String), stack Nullable(String), fingerprint Nullable(String),
       day UInt32 DEFAULT toUInt32(intDiv(toUInt64(greatest(timestamp, 0)), 86400000))
     ) ENGINE = ReplacingMergeTree() PARTITION BY day ORDER BY (project, timestamp, log_key)`,
    `CREATE TABLE IF NOT EXISTS issue_occurrences (
       project String, fingerprint String, occurrence_key String, timestamp Float64, source String, level Nullable(String),
       type String, normalized_message String, frames String, message String, stack Nullable(String),
       service Nullable(String), trace_id Nullable(String), span_id Nullable(String),
       day UInt32 DEFAULT toUInt32(intDiv(toUInt64(greatest(timestamp, 0)), 86400000))
     ) ENGINE = ReplacingMergeTree() PARTITION BY day ORDER BY (project, fingerprint, timestamp, occurrence_key)`,
    `CREATE TABLE IF NOT EXISTS issue_status (project String, fingerprint String, status String, changed_at Float64, version UInt64)
     ENGINE = ReplacingMergeTree(version) ORDER BY (project, fingerprint)`,
  ],
];

/** The tables retention drops partitions of; views feed some of them and hold no data. */
export const DATA_TABLES = ['spans', 'span_traces', 'runs', 'events', 'metric_samples', 'batches', 'logs', 'issue_occurrences'] as const;

/**
 * Creates the database if needed and applies the migrations it lacks; returns how many. A
 * database written by a newer collector is refused rather than guessed at.
 */
export async function migrateClickHouse(admin: ClickHouseClient, client: ClickHouseClient, database: string): Promise<number> {
  await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  await client.command({ query: 'CREATE TABLE IF NOT EXISTS teracron_schema (version UInt32, applied_at Float64) ENGINE = MergeTree() ORDER BY version' });
  const rows = await (await client.query({ query: 'SELECT max(version) AS version FROM teracron_schema', format: 'JSONEachRow' })).json<{ version: number | string }>();
  const current = Number(rows[0]?.version ?? 0);
  if (current > CLICKHOUSE_SCHEMA_VERSION) {
    throw new Error(
      `the ClickHouse database ${database} has schema version ${current}, newer than this collector's ${CLICKHOUSE_SCHEMA_VERSION}: ` +
        'run the collector version that wrote it (or newer), or point --store at another database',
    );
  }
  for (let version = current + 1; version <= CLICKHOUSE_SCHEMA_VERSION; version++) {
    for (const statement of MIGRATIONS[version - 1]!) {
      try {
        await client.command({ query: statement });
      } catch (error) {
        if (!(/ADD COLUMN/.test(statement) && /already exists/i.test((error as Error).message))) throw error;
      }
    }
    await client.insert({ table: 'teracron_schema', values: [{ version, applied_at: Date.now() }], format: 'JSONEachRow' });
  }
  return CLICKHOUSE_SCHEMA_VERSION - current;
}
