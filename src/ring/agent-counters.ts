/**
 * The agent's own losses and its spool, shipped as metrics on its process's sample
 * (MetricsEntry fields 19-26) so that a collector sees them, not only `client.stats()` in the process. They are the
 * same counts as stats(), cumulative since start: a metrics batch that is itself lost then
 * hides no drop, because the next one carries the total.
 *
 * Ring-full drops happen on the main thread, which keeps its own count (the recorder) and
 * mirrors it into MAIN_DROPPED_RING_FULL on each drop: one store, on a path that already gave
 * up on the record. Everything else is the worker's own shared counters.
 */
import {
  MAIN_DROPPED_RING_FULL,
  SAMPLED_RING_FULL,
  STAT_DROPPED_SEND,
  STAT_DROPPED_SPOOL_FULL,
  STAT_METRICS_DROPPED,
  STAT_REPLAYED,
  STAT_RETRIES,
  STAT_SPOOL_BYTES,
  STAT_SPOOLED,
} from './layout';
import type { RingViews } from './layout';

export interface AgentCounters {
  droppedRingFull: number;
  droppedSendFailed: number;
  retries: number;
  metricsDropped: number;
  spooled: number;
  replayed: number;
  droppedSpoolFull: number;
  spoolBytes: number;
}

/** Main thread: the recorder's running total of ring-full drops. */
export function publishRingFull(views: RingViews, total: number): void {
  views.stats[MAIN_DROPPED_RING_FULL] = total;
}

/** Worker: the counts as they stand now. */
export function readAgentCounters(views: RingViews): AgentCounters {
  const { stats } = views;
  return {
    droppedRingFull: stats[MAIN_DROPPED_RING_FULL]!,
    droppedSendFailed: stats[STAT_DROPPED_SEND]!,
    retries: stats[STAT_RETRIES]!,
    metricsDropped: stats[STAT_METRICS_DROPPED]!,
    spooled: stats[STAT_SPOOLED]!,
    replayed: stats[STAT_REPLAYED]!,
    droppedSpoolFull: stats[STAT_DROPPED_SPOOL_FULL]!,
    spoolBytes: stats[STAT_SPOOL_BYTES]!,
  };
}

/** Worker: the counts that the sample just taken carries. */
export function noteSampled(views: RingViews, counters: AgentCounters): void {
  views.stats[SAMPLED_RING_FULL] = counters.droppedRingFull + 1;
}

/**
 * Main thread, at exit: true when the worker samples this process and ring-full drops happened
 * since its latest sample, so that exit must let it take one more (nothing else may be pending).
 */
export function ringFullUnsampled(views: RingViews): boolean {
  const sampled = views.stats[SAMPLED_RING_FULL]!;
  return sampled > 0 && views.stats[MAIN_DROPPED_RING_FULL]! > sampled - 1;
}

export function sameCounters(a: AgentCounters, b: AgentCounters): boolean {
  return (
    a.droppedRingFull === b.droppedRingFull && a.droppedSendFailed === b.droppedSendFailed && a.retries === b.retries &&
    a.metricsDropped === b.metricsDropped && a.spooled === b.spooled && a.replayed === b.replayed &&
    a.droppedSpoolFull === b.droppedSpoolFull && a.spoolBytes === b.spoolBytes
  );
}
