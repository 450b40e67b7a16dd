/**
 * A validated batch (store/types.ts IngestInput) as the rows of the ClickHouse tables
 * (schema.ts). Within a batch, a span id sent twice keeps one record as SQLite's ingest does:
 * the first, unless it was `started` and a finished one follows.
 */
import type { WireSpan } from '../../wire/batch-codec';
import type { IngestInput } from '../store/types';

const DAY_MS = 86_400_000;

export function dayOf(time: number): number {
  return Math.floor(Math.max(time, 0) / DAY_MS);
}

export interface BatchRows {
  spans: object[];
  events: object[];
  samples: object[];
  /** What the batch's answer reports as accepted. */
  accepted: number;
}

export function rowsOf(project: string, input: IngestInput, receivedAt: number): BatchRows {
  switch (input.kind) {
    case 'trace': {
      const spans = keptSpans(input.spans).map((span) => spanRow(project, input.resource, span));
      return { spans, events: [], samples: [], accepted: spans.length };
    }
    case 'event': {
      // The event's place in its batch makes the key; a batch without an id gets a key of its
      // own, so its events are never taken for another's (and a retry of it is not recognised).
      const batchKey = input.batchId ?? `${receivedAt.toString(36)}-${Math.random().toString(36).slice(2)}`;
      const r = input.resource;
      const events = input.events.map((e, i) => ({
        project, event_key: `${batchKey}:${String(i).padStart(7, '0')}`, trace_id: e.trace_id ?? null, span_id: e.span_id ?? null, workflow: e.workflow ?? null,
        event_type: e.event_type, name: e.name, message: e.message ?? null, severity: e.severity, timestamp: e.timestamp,
        metadata: json(e.metadata), service: r?.service ?? null, environment: r?.environment ?? null, host: r?.host ?? null,
        pid: r?.pid ?? null, day: dayOf(e.timestamp),
      }));
      return { spans: [], events, samples: [], accepted: events.length };
    }
    case 'metrics': {
      const samples = input.entries.map((e) => ({
        project, sample_key: `${e.pid ?? ''}|${input.service ?? ''}|${input.host ?? ''}`, timestamp: e.timestamp,
        heap_total: e.heap_total, heap_used: e.heap_used, rss: e.rss, external: e.external, array_buffers: e.array_buffers,
        cpu_usage_pct: e.cpu_usage_pct, event_loop_lag: e.event_loop_lag, uss: e.uss ?? null, pss: e.pss ?? null, vms: e.vms ?? null,
        swap: e.swap ?? null, pid: e.pid ?? null, threads: e.threads ?? null, event_loop_p50: e.event_loop_p50 ?? null,
        event_loop_p99: e.event_loop_p99 ?? null, ppid: e.ppid ?? null, command: e.command ?? null, sdk_version: input.sdkVersion,
        runtime_version: input.runtimeVersion, service: input.service, host: input.host, dropped_ring_full: e.dropped_ring_full ?? null,
        dropped_send_failed: e.dropped_send_failed ?? null, send_retries: e.send_retries ?? null, metrics_dropped: e.metrics_dropped ?? null,
        day: dayOf(e.timestamp),
      }));
      return { spans: [], events: [], samples, accepted: samples.length };
    }
  }
}

function spanRow(project: string, resource: Extract<IngestInput, { kind: 'trace' }>['resource'], span: WireSpan): object {
  return {
    project, trace_id: span.trace_id, span_id: span.span_id, parent_span_id: span.parent_span_id ?? null,
    workflow: span.workflow, operation: span.operation, status: span.status, started_at: span.started_at,
    duration_ms: span.duration_ms, error_type: span.error_type ?? null, error_message: span.error_message ?? null,
    metadata: json(span.metadata), captured_params: json(span.captured_params), service: resource?.service ?? null,
    environment: resource?.environment ?? null, host: resource?.host ?? null, pid: resource?.pid ?? null,
    version: span.status === 'started' ? 0 : 1, day: dayOf(span.started_at),
  };
}

/** One record per span id: the first, replaced by a finished one if it was `started`. */
function keptSpans(spans: WireSpan[]): WireSpan[] {
  const kept = new Map<string, WireSpan>();
  for (const span of spans) {
    const earlier = kept.get(span.span_id);
    if (earlier === undefined || (earlier.status === 'started' && span.status !== 'started')) kept.set(span.span_id, span);
  }
  return [...kept.values()];
}

function json(attributes: Record<string, unknown> | null | undefined): string {
  return attributes == null ? '{}' : JSON.stringify(attributes);
}
