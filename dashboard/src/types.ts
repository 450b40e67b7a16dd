/**
 * The query API's answers (docs/query-api.md), as the dashboard reads them. Declared here
 * rather than imported from src/: the browser build is its own program and must not pull in
 * server modules; the JSON is the published contract, and the browser test reads it end to end.
 */

export type RunStatus = 'succeeded' | 'failed' | 'in_progress';
export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, AttributeValue>;

export interface Whoami {
  project_slug: string;
  authenticated: boolean;
}

export interface WorkflowSummary {
  workflow: string;
  total_runs: number;
  failed_runs: number;
  avg_duration_ms: number | null;
  last_run_at: number;
  p50_duration_ms?: number | null;
  p95_duration_ms?: number | null;
  p99_duration_ms?: number | null;
}

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

export interface Span {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  workflow: string;
  operation: string;
  status: 'succeeded' | 'failed' | 'started';
  started_at: number;
  duration_ms: number;
  error_type: string | null;
  error_message: string | null;
  metadata: Attributes;
  captured_params: Attributes;
}

export interface TraceAnswer {
  trace_id: string;
  spans: Span[];
}

export interface MetricSample {
  timestamp: number;
  heap_total: number;
  heap_used: number;
  rss: number;
  external: number;
  array_buffers: number;
  cpu_usage_pct: number;
  event_loop_lag: number;
  uss?: number | null;
  pss?: number | null;
  vms?: number | null;
  swap?: number | null;
  pid?: number | null;
  threads?: number | null;
  event_loop_p50?: number | null;
  event_loop_p99?: number | null;
  ppid?: number | null;
  command?: string | null;
  /** The agent's own losses, totals since it started; only on its own process's samples. */
  dropped_ring_full?: number | null;
  dropped_send_failed?: number | null;
  send_retries?: number | null;
  metrics_dropped?: number | null;
  spooled?: number | null;
  replayed?: number | null;
  dropped_spool_full?: number | null;
  spool_bytes?: number | null;
  service?: string | null;
  host?: string | null;
  sdk_version?: string | null;
  runtime_version?: string | null;
}

export interface ProcessSummary {
  pid: number;
  ppid: number | null;
  command: string | null;
  service?: string | null;
  host?: string | null;
  first_seen: number;
  last_seen: number;
  samples: number;
}

export interface MetricsAnswer {
  samples: MetricSample[];
  pids: ProcessSummary[];
  services?: string[];
}

export interface RecordedEvent {
  trace_id: string | null;
  span_id: string | null;
  workflow: string | null;
  event_type: string;
  name: string;
  message: string | null;
  severity: string;
  timestamp: number;
  metadata: Attributes;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

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
  extra: Attributes;
  error_type: string | null;
  error_message: string | null;
  stack: string | null;
  /** The issue this log counts in (error and fatal logs), else null. */
  fingerprint: string | null;
}

export interface LogPage {
  /** Newest first. */
  logs: StoredLog[];
  /** Pass as `cursor` (with the same filters) for the next, older page; null on the last. */
  next_cursor: string | null;
}

export type IssueStatus = 'open' | 'resolved' | 'ignored';

export interface IssueSummary {
  fingerprint: string;
  type: string;
  /** The normalised message (what groups the issue). */
  message: string;
  status: IssueStatus;
  /** Resolved, then seen again: the status is 'open' again. */
  regression: boolean;
  count: number;
  first_seen: number;
  last_seen: number;
  services: string[];
  last_trace_id: string | null;
  /** The in-app frames the fingerprint was made of, as `function (file:line)`. */
  frames: string[];
  status_changed_at: number | null;
}

export interface IssueOccurrence {
  timestamp: number;
  source: 'log' | 'span';
  level: LogLevel | null;
  service: string | null;
  message: string;
  trace_id: string | null;
  span_id: string | null;
}

export interface IssueDetail {
  issue: IssueSummary;
  /** The latest occurrence's message as sent, and its stack when it carried one. */
  latest_message: string;
  latest_stack: string | null;
  /** Occurrences per hour, oldest first, empty hours included. */
  hourly: Array<{ hour: number; count: number }>;
  /** The latest occurrences (at most 20), newest first. */
  occurrences: IssueOccurrence[];
}
