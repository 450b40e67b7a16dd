/**
 * Buffers process-metrics entries on the worker and ships them as a protobuf MetricsBatch to
 * `POST /api/ingest`: after `maxBufferSize` sampling rounds, when the oldest buffered entry is
 * `flushDeadlineS` old, and on flush and shutdown. Delivery goes through the same sender as
 * traces (retries, backoff, exit mode), with its own counters.
 */
import type { KeyObject } from 'node:crypto';
import { STAT_METRICS_DROPPED, STAT_METRICS_SAMPLED } from '../ring/layout';
import type { RingViews } from '../ring/layout';
import { addStat, setLastError } from '../ring/shared-stats';
import { writeStderr } from '../stderr';
import { sealEnvelope } from '../wire/envelope';
import { encodeMetricsBatch } from '../wire/metrics-batch';
import type { MetricsEntry } from '../wire/metrics-batch';
import { METRICS_COUNTERS, deliver } from './sender';
import type { SenderState } from './sender';

export const METRICS_PATH = '/api/ingest';
/** Entries per request: a sidecar watching many processes still sends bodies of a few hundred KiB. */
export const MAX_ENTRIES_PER_BATCH = 5_000;

export interface MetricsShipperInit {
  readonly views: RingViews;
  readonly sender: SenderState;
  readonly publicKey: KeyObject;
  readonly sdkVersion: string;
  readonly runtimeVersion: string;
  /** Sent with every batch (MetricsBatch extensions 4 and 5). */
  readonly service: string;
  readonly host: string;
  /** Sampling rounds buffered before a send. */
  readonly maxRounds: number;
  readonly deadlineMs: number;
}

export interface MetricsShipper extends MetricsShipperInit {
  entries: MetricsEntry[];
  rounds: number;
  /** Unix ms of the oldest buffered entry (0 when empty). */
  oldestAt: number;
  readonly inFlight: Set<Promise<void>>;
}

export function createMetricsShipper(init: MetricsShipperInit): MetricsShipper {
  return { ...init, entries: [], rounds: 0, oldestAt: 0, inFlight: new Set() };
}

/** Adds one sampling round (possibly empty: a child scan may find nothing new). */
export function addRound(m: MetricsShipper, entries: MetricsEntry[], countsAsRound: boolean): void {
  if (entries.length === 0) return;
  if (m.entries.length === 0) m.oldestAt = entries[0]!.timestamp;
  m.entries.push(...entries);
  addStat(m.views, STAT_METRICS_SAMPLED, entries.length);
  if (countsAsRound) m.rounds++;
}

/** True when the buffer is due: enough rounds, or the oldest entry has waited long enough. */
export function isDue(m: MetricsShipper, now = Date.now()): boolean {
  return m.entries.length > 0 && (m.rounds >= m.maxRounds || now - m.oldestAt >= m.deadlineMs);
}

/** Hands everything buffered to the sender; resolves once handed over, not when delivered. */
export function shipBuffered(m: MetricsShipper): void {
  while (m.entries.length > 0) {
    const entries = m.entries.splice(0, MAX_ENTRIES_PER_BATCH);
    send(m, entries);
  }
  m.rounds = 0;
  m.oldestAt = 0;
}

/** Resolves when every metrics batch handed over so far is delivered or given up. */
export async function settleMetrics(m: MetricsShipper): Promise<void> {
  while (m.inFlight.size > 0) await Promise.all(m.inFlight);
}

function send(m: MetricsShipper, entries: MetricsEntry[]): void {
  let body: Uint8Array;
  try {
    body = sealEnvelope(encodeMetricsBatch({ entries, sdk_version: m.sdkVersion, runtime_version: m.runtimeVersion, service: m.service, host: m.host }), m.publicKey);
  } catch (err) {
    const text = `could not encode a metrics batch of ${entries.length} entries: ${err instanceof Error ? err.message : String(err)}`;
    addStat(m.views, STAT_METRICS_DROPPED, entries.length);
    setLastError(m.views, text);
    writeStderr(text);
    return;
  }
  const sending: Promise<void> = deliver(m.sender, { path: METRICS_PATH, kind: 'metrics', body, items: entries.length, counters: METRICS_COUNTERS }).finally(() => {
    m.inFlight.delete(sending);
  });
  m.inFlight.add(sending);
}
