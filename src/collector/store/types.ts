/** The shapes going into and coming out of the store; output fields are snake_case as the query API sends them. */
import type { WireEvent, WireResource, WireSpan } from '../../wire/batch-codec';
import type { MetricsEntry } from '../../wire/metrics-batch';

export type IngestInput =
  | { kind: 'trace'; batchId: string | null; resource: WireResource | null; spans: WireSpan[] }
  | { kind: 'event'; batchId: string | null; resource: WireResource | null; events: WireEvent[] }
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
  metric_samples: number;
  runs: number;
}
