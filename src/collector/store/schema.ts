/**
 * The store's schema as a list of migrations. `PRAGMA user_version` holds how many have been
 * applied; opening a file applies the missing ones in one transaction, so a file is always at a
 * version this code knows, never half-migrated. Append new migrations; never edit a shipped one.
 *
 * Every row is keyed by its project (projects.ts maps slugs to ids). `runs` is a summary table
 * maintained on insert (see run-summary.ts), so listing runs and workflows reads an index, not
 * every span.
 *
 * Ingest cost is dominated by inserts at random places of indexes keyed by random ids (span id,
 * trace id): each dirties a page that the commit writes to the WAL. So those indexes are kept
 * narrow: integer project, ids as bytes, and rowid tables (spans, runs) whose rows append in
 * arrival order while only a small (key, rowid) entry goes to a random place. Measured here:
 * runs as a WITHOUT ROWID table keyed by trace id ingested single-span traces at ~20k spans/s,
 * as a rowid table with a unique index at ~35k. No foreign keys: the per-row check cost ~20%.
 */
import type { Db } from './open';
import { TeracronStoreError } from './errors';
import { HourDeltas, createWorkflowHours } from './workflow-hours';
import type { RunFacts } from './workflow-hours';

/** SQL to run, or a function for what SQL alone cannot do (filling a table computed in JS). */
type Migration = string | ((db: Db) => void);

const MIGRATIONS: readonly Migration[] = [
  `
  CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE
  );

  CREATE TABLE batches_seen (
    project INTEGER NOT NULL,
    batch_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    item_count INTEGER NOT NULL,
    PRIMARY KEY (project, batch_id)
  ) WITHOUT ROWID;
  CREATE INDEX batches_seen_received ON batches_seen (project, received_at);

  -- span_id, trace_id, parent_span_id: raw bytes for lowercase hex, else the text (ids.ts).
  CREATE TABLE spans (
    project INTEGER NOT NULL,
    span_id BLOB NOT NULL,
    trace_id BLOB NOT NULL,
    parent_span_id BLOB,
    workflow TEXT NOT NULL,
    operation TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    duration_ms REAL NOT NULL,
    error_type TEXT,
    error_message TEXT,
    metadata TEXT NOT NULL,
    captured_params TEXT NOT NULL,
    service TEXT,
    environment TEXT,
    host TEXT,
    pid INTEGER,
    PRIMARY KEY (project, span_id)
  );
  CREATE INDEX spans_trace ON spans (project, trace_id, started_at);

  CREATE TABLE runs (
    project INTEGER NOT NULL,
    trace_id BLOB NOT NULL,
    workflow TEXT NOT NULL,
    operation TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    duration_ms REAL NOT NULL,
    span_count INTEGER NOT NULL,
    error_summary TEXT,
    -- bookkeeping for the incremental update (run-summary.ts): the root and the first failure
    root_span_id TEXT,
    error_span_id TEXT,
    error_started_at INTEGER
  );
  CREATE UNIQUE INDEX runs_trace ON runs (project, trace_id);
  CREATE INDEX runs_started ON runs (project, started_at);
  CREATE INDEX runs_workflow ON runs (project, workflow, started_at);
  CREATE INDEX runs_status ON runs (project, status, started_at);
  CREATE INDEX runs_finished_duration ON runs (project, workflow, duration_ms) WHERE status <> 'in_progress';

  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    project INTEGER NOT NULL,
    trace_id TEXT,
    span_id TEXT,
    workflow TEXT,
    event_type TEXT NOT NULL,
    name TEXT NOT NULL,
    message TEXT,
    severity TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    metadata TEXT NOT NULL,
    service TEXT,
    environment TEXT,
    host TEXT,
    pid INTEGER
  );
  CREATE INDEX events_time ON events (project, timestamp);
  CREATE INDEX events_type ON events (project, event_type, timestamp);
  CREATE INDEX events_workflow ON events (project, workflow, timestamp);

  CREATE TABLE metric_samples (
    id INTEGER PRIMARY KEY,
    project INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    heap_total INTEGER NOT NULL,
    heap_used INTEGER NOT NULL,
    rss INTEGER NOT NULL,
    external INTEGER NOT NULL,
    array_buffers INTEGER NOT NULL,
    cpu_usage_pct INTEGER NOT NULL,
    event_loop_lag INTEGER NOT NULL,
    uss INTEGER,
    pss INTEGER,
    vms INTEGER,
    swap INTEGER,
    pid INTEGER,
    threads INTEGER,
    event_loop_p50 INTEGER,
    event_loop_p99 INTEGER,
    ppid INTEGER,
    command TEXT,
    sdk_version TEXT NOT NULL,
    runtime_version TEXT NOT NULL
  );
  -- Metrics batches carry no batch_id: a sample is identified by (pid, timestamp), which makes a
  -- retried batch idempotent. Samples without a pid (NULLs are distinct) are always stored.
  CREATE UNIQUE INDEX metric_samples_pid ON metric_samples (project, pid, timestamp);
  CREATE INDEX metric_samples_time ON metric_samples (project, timestamp);
  `,
  // 2: which service and host sent a metrics batch (MetricsBatch extensions 4 and 5), so the
  // dashboard can chart per service. Older samples have NULL there.
  `
  ALTER TABLE metric_samples ADD COLUMN service TEXT;
  ALTER TABLE metric_samples ADD COLUMN host TEXT;
  CREATE INDEX metric_samples_service ON metric_samples (project, service, timestamp);
  `,
  // 3: the agent's own losses (MetricsEntry fields 19-22), cumulative counts since the agent
  // started, on the sample of its own process. NULL: not reported (another process, an older
  // agent, or a sample stored before this version).
  `
  ALTER TABLE metric_samples ADD COLUMN dropped_ring_full INTEGER;
  ALTER TABLE metric_samples ADD COLUMN dropped_send_failed INTEGER;
  ALTER TABLE metric_samples ADD COLUMN send_retries INTEGER;
  ALTER TABLE metric_samples ADD COLUMN metrics_dropped INTEGER;
  `,
  // 4: what the run fold (run-summary.ts) needs to order spans started in the same millisecond
  // (a parent before its child) and to let the earliest span stand in for a root kept by
  // another service. NULL on older rows, which the fold handles.
  `
  ALTER TABLE runs ADD COLUMN error_parent_span_id TEXT;
  ALTER TABLE runs ADD COLUMN stand_in_span_id TEXT;
  ALTER TABLE runs ADD COLUMN stand_in_parent_span_id TEXT;
  `,
  // 5: a span points at its run's rowid, and a trace's spans are found through that, so the
  // index ingest writes for them grows at its end (runs get rowids in arrival order) instead of
  // at a random place keyed by trace id: one random index insert less per span. The workflows
  // list reads per-hour aggregates (workflow-hours.ts) instead of scanning runs, so the partial
  // index its percentiles walked goes. Runs by status are indexed only for the statuses that are
  // rare and searched for (failed, in progress): most runs succeed, and listing those walks the
  // time index, finding them at once. One index insert less per run.
  `
  ALTER TABLE spans ADD COLUMN run INTEGER;
  UPDATE spans SET run = (SELECT r.rowid FROM runs AS r WHERE r.project = spans.project AND r.trace_id = spans.trace_id);
  DROP INDEX spans_trace;
  CREATE INDEX spans_run ON spans (run, started_at);
  DROP INDEX runs_finished_duration;
  DROP INDEX runs_status;
  CREATE INDEX runs_unfinished ON runs (project, status, started_at) WHERE status <> 'succeeded';
  CREATE TABLE workflow_hours (
    project INTEGER NOT NULL,
    workflow TEXT NOT NULL,
    hour INTEGER NOT NULL,
    total_runs INTEGER NOT NULL,
    failed_runs INTEGER NOT NULL,
    finished_runs INTEGER NOT NULL,
    duration_sum REAL NOT NULL,
    durations BLOB NOT NULL,
    PRIMARY KEY (project, workflow, hour)
  ) WITHOUT ROWID;
  CREATE INDEX workflow_hours_hour ON workflow_hours (project, hour);
  `,
  fillWorkflowHours,
  // 7: the agent's spool (MetricsEntry fields 23-26), on the sample of its own process, like 3.
  `
  ALTER TABLE metric_samples ADD COLUMN spooled INTEGER;
  ALTER TABLE metric_samples ADD COLUMN replayed INTEGER;
  ALTER TABLE metric_samples ADD COLUMN dropped_spool_full INTEGER;
  ALTER TABLE metric_samples ADD COLUMN spool_bytes INTEGER;
  `,
  // 8: logs, and issues (errors grouped by fingerprint, src/collector/issues/). `level` is its
  // index in LOG_LEVELS (debug 0 … fatal 4); log-queries.ts reads a minimum level one level at a
  // time from logs_level. `issues` holds what the list shows, kept up to date on ingest (a
  // project has few, so listing them sorts in memory); `issue_occurrences` one row per error,
  // for the hourly counts and the latest occurrences; `issue_services` the services an issue
  // occurred in. A resolved issue that occurred again after resolved_at reads as open (a
  // regression): that is decided when reading, never stored.
  `
  CREATE TABLE logs (
    id INTEGER PRIMARY KEY,
    project INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    level INTEGER NOT NULL,
    message TEXT NOT NULL,
    module TEXT,
    service TEXT,
    environment TEXT,
    host TEXT,
    pid INTEGER,
    trace_id BLOB,
    span_id BLOB,
    extra TEXT NOT NULL,
    error_type TEXT,
    error_message TEXT,
    stack TEXT,
    fingerprint TEXT
  );
  CREATE INDEX logs_time ON logs (project, timestamp);
  CREATE INDEX logs_trace ON logs (project, trace_id, timestamp) WHERE trace_id IS NOT NULL;
  CREATE INDEX logs_level ON logs (project, level, timestamp);

  CREATE TABLE issues (
    project INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    type TEXT NOT NULL,
    message TEXT NOT NULL,
    frames TEXT NOT NULL,
    count INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    last_trace_id TEXT,
    last_trace_at INTEGER,
    latest_message TEXT NOT NULL,
    latest_stack TEXT,
    status TEXT NOT NULL,
    status_changed_at INTEGER,
    resolved_at INTEGER,
    PRIMARY KEY (project, fingerprint)
  ) WITHOUT ROWID;
  CREATE INDEX issues_last_seen ON issues (project, last_seen);

  CREATE TABLE issue_services (
    project INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    service TEXT NOT NULL,
    PRIMARY KEY (project, fingerprint, service)
  ) WITHOUT ROWID;

  CREATE TABLE issue_occurrences (
    id INTEGER PRIMARY KEY,
    project INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    source TEXT NOT NULL,
    level TEXT,
    service TEXT,
    message TEXT NOT NULL,
    trace_id TEXT,
    span_id TEXT
  );
  CREATE INDEX issue_occurrences_issue ON issue_occurrences (project, fingerprint, timestamp);
  CREATE INDEX issue_occurrences_time ON issue_occurrences (project, timestamp);
  `,
];

/** Migration 5's aggregates, from the runs already stored, a slice of rows at a time. */
function fillWorkflowHours(db: Db): void {
  const state = createWorkflowHours(db);
  const slice = db.prepare<[number], RunFacts & { project: number; id: number }>(
    'SELECT rowid AS id, project, workflow, status, started_at, duration_ms FROM runs WHERE rowid > ? ORDER BY rowid LIMIT 50000',
  );
  for (let after = 0, rows = slice.all(after); rows.length > 0; rows = slice.all(after)) {
    const deltas = new HourDeltas();
    for (const run of rows) deltas.add(run.project, run, 1);
    deltas.flush(state);
    after = rows[rows.length - 1]!.id;
  }
}

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the file to SCHEMA_VERSION; returns how many migrations ran (0 for an up-to-date file). */
export function migrate(db: Db): number {
  const apply = db.transaction((): number => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new TeracronStoreError(
        'schema',
        `The database ${db.name} has schema version ${current}, newer than this collector knows (${SCHEMA_VERSION}). ` +
          'Upgrade teracron, or point the collector at another --data folder.',
      );
    }
    for (let version = current; version < SCHEMA_VERSION; version++) {
      const migration = MIGRATIONS[version]!;
      if (typeof migration === 'string') db.exec(migration);
      else migration(db);
    }
    if (current !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
    return SCHEMA_VERSION - current;
  });
  // IMMEDIATE: two processes opening the same new file must not both start migrating.
  return apply.immediate();
}
