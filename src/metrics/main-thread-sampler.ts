/**
 * The main thread's share of process metrics: V8 heap figures and event-loop delay, which no
 * other thread can read. Every `intervalS` an unref'd timer reads them and writes them into the
 * shared buffer; the worker picks up the latest set when it samples the process.
 *
 * Kept cheap on purpose: v8.getHeapStatistics() and a histogram read, no /proc, no allocation
 * beyond the statistics object. That is also why array_buffers is not reported: V8 only gives
 * it through process.memoryUsage(), which reads /proc/self/stat for the RSS on every call.
 * Event-loop delay comes from monitorEventLoopDelay, a libuv timer in native code; its histogram
 * is reset after each reading, so each sample covers one interval.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { RingViews } from '../ring/layout';
import { writeMainFigures } from '../ring/main-metrics';

/** Milliseconds between event-loop delay probes: fine enough for p99, cheap at 100 wake-ups/s. */
const EVENT_LOOP_RESOLUTION_MS = 10;

export interface MainThreadSampler {
  /** Reads and publishes the figures now (also done at start and on every tick). */
  sample(): void;
  stop(): void;
}

export function startMainThreadSampler(views: RingViews, intervalMs: number): MainThreadSampler {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  histogram.enable();
  const sample = (): void => {
    const heap = getHeapStatistics();
    const seen = histogram.count > 0;
    writeMainFigures(views, {
      sampledAt: Date.now(),
      heapTotal: heap.total_heap_size,
      heapUsed: heap.used_heap_size,
      external: heap.external_memory,
      // The histogram is in nanoseconds.
      eventLoopMeanUs: seen ? histogram.mean / 1000 : 0,
      eventLoopP50Us: seen ? histogram.percentile(50) / 1000 : 0,
      eventLoopP99Us: seen ? histogram.percentile(99) / 1000 : 0,
      eventLoopMaxUs: seen ? histogram.max / 1000 : 0,
    });
    histogram.reset();
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    sample,
    stop() {
      clearInterval(timer);
      histogram.disable();
    },
  };
}
