/**
 * The worker's counters and last error, kept in the shared buffer so that `client.stats()` on
 * the main thread is a synchronous read, even while the worker is busy or the process exits.
 * Only the worker writes them.
 */
import {
  ERROR_LEN,
  ERROR_SEQ,
  ERROR_TEXT_BYTES,
  STAT_BATCHES,
  STAT_BYTES_SENT,
  STAT_DROPPED_SEND,
  STAT_METRICS_DROPPED,
  STAT_METRICS_SAMPLED,
  STAT_METRICS_SENT,
  STAT_REJECTED,
  STAT_RETRIES,
  STAT_SENT,
  STAT_SPOOLED,
  STAT_REPLAYED,
  STAT_DROPPED_SPOOL_FULL,
  STAT_SPOOL_BYTES,
  STAT_SPOOL_CORRUPT,
} from './layout';
import type { RingViews } from './layout';
import { readSeqlocked, writeSeqlocked } from './seqlock';

export interface WorkerCounters {
  sent: number;
  droppedSendFailed: number;
  rejected: number;
  retries: number;
  batches: number;
  bytesSent: number;
  lastError: string | null;
  metricsSampled: number;
  metricsSent: number;
  metricsDropped: number;
  spooled: number;
  replayed: number;
  droppedSpoolFull: number;
  spoolBytes: number;
  spoolCorrupt: number;
}

export function addStat(views: RingViews, slot: number, amount: number): void {
  views.stats[slot] = views.stats[slot]! + amount;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Seqlock write: odd sequence while the text is being replaced. */
export function setLastError(views: RingViews, text: string): void {
  const { ctrl, errorText } = views;
  writeSeqlocked(ctrl, ERROR_SEQ, () => {
    const { written } = encoder.encodeInto(text, errorText.subarray(0, ERROR_TEXT_BYTES));
    Atomics.store(ctrl, ERROR_LEN, written);
  });
}

export function readWorkerCounters(views: RingViews): WorkerCounters {
  const { stats } = views;
  return {
    sent: stats[STAT_SENT]!,
    droppedSendFailed: stats[STAT_DROPPED_SEND]!,
    rejected: stats[STAT_REJECTED]!,
    retries: stats[STAT_RETRIES]!,
    batches: stats[STAT_BATCHES]!,
    bytesSent: stats[STAT_BYTES_SENT]!,
    lastError: readLastError(views),
    metricsSampled: stats[STAT_METRICS_SAMPLED]!,
    metricsSent: stats[STAT_METRICS_SENT]!,
    metricsDropped: stats[STAT_METRICS_DROPPED]!,
    spooled: stats[STAT_SPOOLED]!,
    replayed: stats[STAT_REPLAYED]!,
    droppedSpoolFull: stats[STAT_DROPPED_SPOOL_FULL]!,
    spoolBytes: stats[STAT_SPOOL_BYTES]!,
    spoolCorrupt: stats[STAT_SPOOL_CORRUPT]!,
  };
}

function readLastError(views: RingViews): string | null {
  const { ctrl, errorText } = views;
  return readSeqlocked(ctrl, ERROR_SEQ, () => decoder.decode(errorText.slice(0, Atomics.load(ctrl, ERROR_LEN))));
}
