/**
 * The collector's SQLite store: a thin façade over open / schema / ingest / queries / retention.
 * Collector-only: nothing the agent imports may import this folder (it loads better-sqlite3).
 */
import type { WireEvent, WireSpan } from '../../wire/batch-codec';
import { asError } from './errors';
import { createIngest, insertBatch, insertBatches } from './ingest';
import type { IngestState } from './ingest';
import { createIssueQueries, findIssue, listIssues, setIssueStatus } from './issue-queries';
import type { IssueQueryState } from './issue-queries';
import { createLogQueries, listLogs } from './log-queries';
import type { LogQueryState } from './log-queries';
import { openDatabase } from './open';
import type { Db } from './open';
import { createProjects, ensureProjectId, projectId } from './projects';
import type { ProjectState } from './projects';
import {
  countRows, createQueries, findSpan, listEvents, listMetrics, listPids,
  listServices, listRuns, listWorkflows, traceIdsWithPrefix, traceSpans,
} from './queries';
import type { QueryState } from './queries';
import { applyRetentionChunk, createRetention, retentionCutoff } from './retention';
import type { RetentionState } from './retention';
import { migrate, SCHEMA_VERSION } from './schema';
import type {
  EventsQuery, IngestInput, IngestResult, IssueDetail, IssueStatus, IssueSummary, IssuesQuery, LogPage, LogsQuery, MetricSample,
  MetricsQuery, ProcessSummary, RunSummary, RunsQuery, StoreCounts, WorkflowSummary,
} from './types';

export { asError, TeracronStoreError } from './errors';
export type { StoreErrorReason } from './errors';
export { InvalidCursorError } from './log-cursor';
export { SCHEMA_VERSION } from './schema';
export type * from './types';

export interface StoreOptions {
  /** Clock for batches_seen.received_at; defaults to Date.now. */
  now?: () => number;
  /** Path of `better_sqlite3.node` when the driver's binary lives elsewhere (bundled apps). */
  nativeBinding?: string;
  /** SQLite's page cache for this connection (64 MiB by default); each connection has its own. */
  cacheKiB?: number;
}

export class CollectorStore {
  readonly #db: Db;
  readonly #projects: ProjectState;
  readonly #ingest: IngestState;
  readonly #queries: QueryState;
  readonly #logs: LogQueryState;
  readonly #issues: IssueQueryState;
  readonly #retention: RetentionState;
  /** Migrations applied by this open (0 when the file was already current). */
  readonly migrationsApplied: number;
  readonly schemaVersion = SCHEMA_VERSION;

  private constructor(db: Db, migrationsApplied: number, now: () => number) {
    this.#db = db;
    this.migrationsApplied = migrationsApplied;
    this.#projects = createProjects(db);
    this.#ingest = createIngest(db, now);
    this.#queries = createQueries(db);
    this.#logs = createLogQueries(db);
    this.#issues = createIssueQueries(db);
    this.#retention = createRetention(db);
  }

  /** Opens or creates the database file (and its folder) and brings its schema up to date. */
  static open(file: string, options: StoreOptions = {}): CollectorStore {
    const db = openDatabase(file, {
      ...(options.nativeBinding === undefined ? {} : { nativeBinding: options.nativeBinding }),
      ...(options.cacheKiB === undefined ? {} : { cacheKiB: options.cacheKiB }),
    });
    try {
      return new CollectorStore(db, migrate(db), options.now ?? Date.now);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Stores a validated batch in one transaction; a batch_id seen before for `slug` stores nothing. */
  insertBatch(slug: string, input: IngestInput): IngestResult {
    return insertBatch(this.#ingest, ensureProjectId(this.#projects, slug), input);
  }

  /**
   * Stores several validated batches in one transaction (group commit), each as `insertBatch`
   * would: each result is that batch's, or the error that kept it out (nothing of it stored).
   */
  insertBatches(batches: ReadonlyArray<{ slug: string; input: IngestInput }>): Array<IngestResult | Error> {
    // Project ids are created before the transaction: one rolled back must not leave a cached id.
    // Creating one writes, so it can fail (the file locked, the disk full): only its batch does.
    const results: Array<IngestResult | Error> = new Array(batches.length);
    const items: Array<{ at: number; project: number; input: IngestInput }> = [];
    batches.forEach(({ slug, input }, at) => {
      try {
        items.push({ at, project: ensureProjectId(this.#projects, slug), input });
      } catch (error) {
        results[at] = asError(error);
      }
    });
    insertBatches(this.#ingest, items).forEach((result, i) => (results[items[i]!.at] = result));
    return results;
  }

  runs(slug: string, query: RunsQuery): RunSummary[] {
    return listRuns(this.#queries, projectId(this.#projects, slug), query);
  }

  /** `since` (unix ms) counts runs from the start of its hour: the aggregates are per hour. */
  workflows(slug: string, limit: number, since?: number): WorkflowSummary[] {
    return listWorkflows(this.#queries, projectId(this.#projects, slug), limit, since);
  }

  traceSpans(slug: string, traceId: string): WireSpan[] {
    return traceSpans(this.#queries, projectId(this.#projects, slug), traceId);
  }

  /** Up to `limit` ids of this project's traces that start with `prefix` (lowercase hex), in id order. */
  traceIdsWithPrefix(slug: string, prefix: string, limit: number): string[] {
    return traceIdsWithPrefix(this.#queries, projectId(this.#projects, slug), prefix, limit);
  }

  span(slug: string, spanId: string): WireSpan | null {
    return findSpan(this.#queries, projectId(this.#projects, slug), spanId);
  }

  events(slug: string, query: EventsQuery): WireEvent[] {
    return listEvents(this.#queries, projectId(this.#projects, slug), query);
  }

  metrics(slug: string, query: MetricsQuery = {}): MetricSample[] {
    return listMetrics(this.#queries, projectId(this.#projects, slug), query);
  }

  pids(slug: string): ProcessSummary[] {
    return listPids(this.#queries, projectId(this.#projects, slug));
  }

  /** Services that sent metrics, by name. */
  services(slug: string): string[] {
    return listServices(this.#queries, projectId(this.#projects, slug));
  }

  counts(slug: string): StoreCounts {
    return countRows(this.#queries, projectId(this.#projects, slug));
  }

  /** Newest first; throws InvalidCursorError for a cursor this store did not give. */
  logs(slug: string, query: LogsQuery): LogPage {
    return listLogs(this.#logs, projectId(this.#projects, slug), query);
  }

  issues(slug: string, query: IssuesQuery): IssueSummary[] {
    return listIssues(this.#issues, projectId(this.#projects, slug), query);
  }

  /** Null when the project has no such issue; `hours` of hourly counts up to `now`. */
  issue(slug: string, fingerprint: string, hours: number, now: number): IssueDetail | null {
    return findIssue(this.#issues, projectId(this.#projects, slug), fingerprint, hours, now);
  }

  /** The one write of the query connection; null when the project has no such issue. */
  setIssueStatus(slug: string, fingerprint: string, status: IssueStatus, now: number): IssueSummary | null {
    return setIssueStatus(this.#issues, projectId(this.#projects, slug), fingerprint, status, now);
  }

  /** Deletes rows older than `days` before `now`, all at once; returns how many rows went. */
  applyRetention(days: number, now: number = Date.now()): number {
    const cutoff = retentionCutoff(days, now);
    let deleted = 0;
    for (let chunk = applyRetentionChunk(this.#retention, cutoff); chunk > 0; chunk = applyRetentionChunk(this.#retention, cutoff)) deleted += chunk;
    return deleted;
  }

  /**
   * The same, one short transaction at a time with the event loop free between them, so ingest
   * and queries go on during a large sweep. Stops early (returning what it deleted) once
   * `stopped()` says so, at a chunk boundary.
   */
  async sweepRetention(days: number, now: number = Date.now(), stopped: () => boolean = () => false): Promise<number> {
    const cutoff = retentionCutoff(days, now);
    let deleted = 0;
    while (!stopped() && this.#db.open) {
      const chunk = applyRetentionChunk(this.#retention, cutoff);
      if (chunk === 0) break;
      deleted += chunk;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return deleted;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
