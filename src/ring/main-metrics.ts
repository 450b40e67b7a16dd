/**
 * The main thread's figures, handed to the worker through the shared buffer: the V8 heap of
 * the main isolate and the main event loop's delay can only be read on the main thread, and
 * the worker samples everything else. A seqlock on MAIN_SEQ keeps the worker from reading a
 * half-written set; the writer never waits.
 */
import {
  MAIN_ARRAY_BUFFERS,
  MAIN_EL_MAX_US,
  MAIN_EL_MEAN_US,
  MAIN_EL_P50_US,
  MAIN_EL_P99_US,
  MAIN_EXTERNAL,
  MAIN_HEAP_TOTAL,
  MAIN_HEAP_USED,
  MAIN_SAMPLED_AT,
  MAIN_SEQ,
} from './layout';
import type { RingViews } from './layout';
import { readSeqlocked, writeSeqlocked } from './seqlock';

export interface MainThreadFigures {
  /** Unix ms of the reading. */
  sampledAt: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  /** Bytes of ArrayBuffer / Buffer backing stores of the main isolate, as Node's allocator counts them. */
  arrayBuffers: number;
  /** Event-loop delay since the previous reading, µs (0 when the histogram saw nothing). */
  eventLoopMeanUs: number;
  eventLoopP50Us: number;
  eventLoopP99Us: number;
  eventLoopMaxUs: number;
}

export function writeMainFigures(views: RingViews, figures: MainThreadFigures): void {
  const { stats } = views;
  writeSeqlocked(views.ctrl, MAIN_SEQ, () => {
    stats[MAIN_SAMPLED_AT] = figures.sampledAt;
    stats[MAIN_HEAP_TOTAL] = figures.heapTotal;
    stats[MAIN_HEAP_USED] = figures.heapUsed;
    stats[MAIN_EXTERNAL] = figures.external;
    stats[MAIN_ARRAY_BUFFERS] = figures.arrayBuffers;
    stats[MAIN_EL_MEAN_US] = figures.eventLoopMeanUs;
    stats[MAIN_EL_P50_US] = figures.eventLoopP50Us;
    stats[MAIN_EL_P99_US] = figures.eventLoopP99Us;
    stats[MAIN_EL_MAX_US] = figures.eventLoopMaxUs;
  });
}

/** The latest complete set, or null when the main thread never wrote one (e.g. sidecar mode). */
export function readMainFigures(views: RingViews): MainThreadFigures | null {
  const { stats } = views;
  return readSeqlocked(views.ctrl, MAIN_SEQ, () => ({
    sampledAt: stats[MAIN_SAMPLED_AT]!,
    heapTotal: stats[MAIN_HEAP_TOTAL]!,
    heapUsed: stats[MAIN_HEAP_USED]!,
    external: stats[MAIN_EXTERNAL]!,
    arrayBuffers: stats[MAIN_ARRAY_BUFFERS]!,
    eventLoopMeanUs: stats[MAIN_EL_MEAN_US]!,
    eventLoopP50Us: stats[MAIN_EL_P50_US]!,
    eventLoopP99Us: stats[MAIN_EL_P99_US]!,
    eventLoopMaxUs: stats[MAIN_EL_MAX_US]!,
  }));
}
