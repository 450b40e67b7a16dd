/** The shapes going into and coming out of the store; output fields are snake_case as the query API sends them. */
import type { LogLevel, WireEvent, WireLog, WireResource, WireSpan } from '../../wire/batch-codec';
import type { MetricsEntry } from '../../wire/metrics-batch';

export type IngestInput =
  /** `occurrences`: the batch's failed spans with an error, fingerprinted (IssueOccurrence). */
  | { kind: 'trace'; batchId: string | null; resource: WireResource | null; spans: WireSpan[]; occurrences: IssueOccurrence[] }
  | { kind: 'event'; batchId: string | null; resource: WireResource | null; events: WireEvent[] }
  /** `fingerprints[i]`: the issue of `logs[i]` (error and fatal logs), else null; `occurrences` those logs. */
  | { kind: 'log'; batchId: string | null; resource: WireResource | null; logs: WireLog[]; fingerprints: Array<string | null>; occurrences: IssueOccurrence[] }
  | { kind: 'metrics'; batchId: null; entries: MetricsEntry[]; sdkVersion: string; runtimeVersion: string; service: string | null; host: string | null };

export interface IngestResult {
  /** Rows written: new items plus finished spans that replaced a stored `started` one. */
  accepted: number;
  /** The batch_id was stored before for this project: nothing was written. */
  duplicate: boolean;
}

export type RunStatus = 'succeeded' | 'failed' | 'in_progress';

export interface RunSummary {
  trace_id: string;
  workflow: string;
  operation: string;
  status: RunStatus;
  started_at: number;
  duration_ms: number;
  span_count: number;
  error_summary: string | null;
}

export interface RunsQuery {
  workflow?: string;
  status?: RunStatus;
  limit: number;
  /** Unix ms; keeps runs with started_at >= since. */
  since?: number;
}

export interface WorkflowSummary {
  workflow: string;
  total_runs: number;
  failed_runs: number;
  /** Over finished runs; null while every run is in progress. */
  avg_duration_ms: number | null;
  last_run_at: number;
  /** Nearest-rank percentiles over finished runs; null while every run is in progress. */
  p50_duration_ms: number | null;
  p95_duration_ms: number | null;
  p99_duration_ms: number | null;
}

export interface EventsQuery {
  limit: number;
  /** Unix ms; keeps events with timestamp >= since. */
  since?: number;
  type?: string;
  workflow?: string;
}

export interface MetricsQuery {
  pid?: number;
  /** Only samples sent by this service (MetricsBatch extension field 4). */
  service?: string;
  /** Unix ms, inclusive. */
  from?: number;
  /** Unix ms, inclusive. */
  to?: number;
  /** Keeps the latest `limit` samples of the range (still returned oldest first). */
  limit?: number;
}

/**
 * One stored MetricsEntry: every field present, the optional extension fields null when the
 * sender did not send them, plus the batch's versions. Derived from the wire type so the two
 * cannot drift apart.
 */
export type MetricSample = {
  [K in keyof MetricsEntry]-?: undefined extends MetricsEntry[K] ? Exclude<MetricsEntry[K], undefined> | null : MetricsEntry[K];
} & { sdk_version: string; runtime_version: string; service: string | null; host: string | null };

export interface ProcessSummary {
  pid: number;
  /** From the latest sample that carried one. */
  ppid: number | null;
  command: string | null;
  service: string | null;
  host: string | null;
  first_seen: number;
  last_seen: number;
  samples: number;
}

export interface StoreCounts {
  spans: number;
  events: number;
  logs: number;
  metric_samples: number;
  runs: number;
}

export { LOG_LEVELS } from '../../wire/batch-codec';
export type { LogLevel } from '../../wire/batch-codec';

/**
 * One error seen in a batch, grouped by its fingerprint (src/collector/issues/fingerprint.ts):
 * an error log (level error or fatal) or a failed span. Computed on the ingest pool, stored with
 * the batch in the same transaction, so a batch stored once counts its errors once.
 */
export interface IssueOccurrence {
  /** sha256 hex of the error type, the normalised message and the top in-app frames. */
  fingerprint: string;
  /** The error type (an Error's class name; 'Error' when the sender gave none). */
  type: string;
  /** The message with ids, numbers, times, quoted values, emails and IPs replaced by placeholders. */
  normalized_message: string;
  /** Up to 5 in-app frames, innermost first, as `function (file:line)` (or `file:line`). */
  frames: string[];
  source: 'log' | 'span';
  timestamp: number;
  /** The message as sent, the stack as sent (logs only), the level (logs) or null (spans). */
  message: string;
  stack: string | null;
  level: LogLevel | null;
  trace_id: string | null;
  span_id: string | null;
}

/** One stored log as the query API sends it (docs/query-api.md). */
export interface StoredLog {
  /** Unique in the project; opaque. */
  id: string;
  timestamp: number;
  level: LogLevel;
  message: string;
  module: string | null;
  service: string | null;
  environment: string | null;
  host: string | null;
  pid: number | null;
  trace_id: string | null;
  span_id: string | null;
  extra: Record<string, string | number | boolean>;
  error_type: string | null;
  error_message: string | null;
  stack: string | null;
  /** The issue this log counts in (error and fatal logs), else null. */
  fingerprint: string | null;
}

export interface LogsQuery {
  limit: number;
  /** Minimum level: 'warn' keeps warn, error and fatal. */
  level?: LogLevel;
  service?: string;
  module?: string;
  /** Case-insensitive substring of the message (or of the error message). */
  text?: string;
  trace_id?: string;
  /** Unix ms, inclusive. */
  from?: number;
  to?: number;
  /** A `next_cursor` of an earlier page with the same filters: the page continues after it. */
  cursor?: string;
}

export interface LogPage {
  /** Newest first (timestamp, then arrival). */
  logs: StoredLog[];
  /** Pass as `cursor` for the next (older) page; null when this page is the last. */
  next_cursor: string | null;
}

export type IssueStatus = 'open' | 'resolved' | 'ignored';

export interface IssueSummary {
  fingerprint: string;
  type: string;
  /** The normalised message (what groups the issue). */
  message: string;
  /**
   * As set through the API, except that a resolved issue with an occurrence later than its
   * resolution is 'open' again, with `regression` true.
   */
  status: IssueStatus;
  regression: boolean;
  count: number;
  first_seen: number;
  last_seen: number;
  /** Services it occurred in, by name. */
  services: string[];
  last_trace_id: string | null;
  frames: string[];
  /** When the status was last set through the API (unix ms), null when never. */
  status_changed_at: number | null;
}

export interface IssuesQuery {
  limit: number;
  status?: IssueStatus;
  service?: string;
  sort: 'count' | 'last_seen';
}

export interface IssueDetail {
  issue: IssueSummary;
  /** The latest occurrence's message as sent and its stack (null when none carried one). */
  latest_message: string;
  latest_stack: string | null;
  /** Occurrences per hour, oldest first, over the last `hours` hours (zero hours included). */
  hourly: Array<{ hour: number; count: number }>;
  /** The latest occurrences (at most 20), newest first. */
  occurrences: Array<{
    timestamp: number;
    source: 'log' | 'span';
    level: LogLevel | null;
    service: string | null;
    message: string;
    trace_id: string | null;
    span_id: string | null;
  }>;
}
