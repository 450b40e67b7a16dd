/**
 * What the collector's HTTP side needs of a store, whichever engine holds the data: the reads
 * of the query API (QUERY_API.md) and the writes of validated batches. Two implementations:
 * SQLite in the data directory (sqlite-backend.ts, the embedded default) and ClickHouse
 * (clickhouse/, for several collectors behind one database). Every method is asynchronous,
 * since ClickHouse answers over the network; SQLite's reads answer at once.
 */
import type { WireEvent, WireSpan } from '../wire/batch-codec';
import type { BatchPacking } from './batch-packing';
import type {
  EventsQuery, IngestResult, IssueDetail, IssueStatus, IssueSummary, IssuesQuery, LogPage, LogsQuery, MetricSample, MetricsQuery,
  ProcessSummary, RunSummary, RunsQuery, StoreCounts, WorkflowSummary,
} from './store/types';

export interface QueryStore {
  runs(slug: string, query: RunsQuery): Promise<RunSummary[]>;
  /** `since` (unix ms) counts runs from the start of its hour. */
  workflows(slug: string, limit: number, since?: number): Promise<WorkflowSummary[]>;
  /** Parents before children, else by started_at; empty when the trace is unknown. */
  traceSpans(slug: string, traceId: string): Promise<WireSpan[]>;
  /** Up to `limit` ids of this project's traces that start with `prefix` (lowercase hex), in id order. */
  traceIdsWithPrefix(slug: string, prefix: string, limit: number): Promise<string[]>;
  span(slug: string, spanId: string): Promise<WireSpan | null>;
  events(slug: string, query: EventsQuery): Promise<WireEvent[]>;
  metrics(slug: string, query?: MetricsQuery): Promise<MetricSample[]>;
  pids(slug: string): Promise<ProcessSummary[]>;
  services(slug: string): Promise<string[]>;
  counts(slug: string): Promise<StoreCounts>;
  /** Newest first; a `cursor` from an earlier page continues after it. */
  logs(slug: string, query: LogsQuery): Promise<LogPage>;
  issues(slug: string, query: IssuesQuery): Promise<IssueSummary[]>;
  /** Null when the project has no issue with this fingerprint; `hours` of hourly counts up to `now`. */
  issue(slug: string, fingerprint: string, hours: number, now: number): Promise<IssueDetail | null>;
  /**
   * Sets an issue's status (the one write of the query API) as of `now`; resolves with the issue
   * as it then reads, or null when there is no such issue.
   */
  setIssueStatus(slug: string, fingerprint: string, status: IssueStatus, now: number): Promise<IssueSummary | null>;
}

export interface BatchStore {
  /**
   * Stores a packed batch (batch-transfer.ts; its buffer may be transferred). Resolves only once
   * the batch is durably stored; rejects with StoreWriteError when it was not, so the sender
   * is answered 503 and retries.
   */
  insert(slug: string, packed: Uint8Array): Promise<IngestResult>;
  /** Deletes what is older than `days` before `now`; resolves with the rows deleted. */
  sweep(days: number, now: number): Promise<number>;
}

export interface StoreBackend {
  /** For the collector's log: which engine and where, without credentials. */
  readonly description: string;
  readonly queries: QueryStore;
  readonly writer: BatchStore;
  /** What the ingest pool packs validated batches into for this store's writer. */
  readonly packing: BatchPacking;
  /** Writes what was accepted, then releases connections and threads. */
  close(): Promise<void>;
}

/**
 * The store could not answer a query (the database is down or refused it): the query API
 * answers 503 with Retry-After instead of a 500, since trying again later is the fix.
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

/** A batch was not stored; `code` is the engine's own (SQLITE_FULL, ECONNREFUSED, …) when it gave one. */
export class StoreWriteError extends Error {
  override name = 'StoreWriteError';
  readonly code: string | undefined;

  constructor(description: { message: string; code?: string | undefined }) {
    super(description.message);
    this.code = description.code;
  }
}
