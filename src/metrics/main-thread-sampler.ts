/**
 * The main thread's share of process metrics: V8 heap figures and event-loop delay, which no
 * other thread can read. Every `intervalS` an unref'd timer reads them and writes them into the
 * shared buffer; the worker picks up the latest set when it samples the process.
 *
 * The heap figures come from process.memoryUsage(), the only source of array_buffers (Node's
 * allocator total; a worker's own memoryUsage() reports its own isolate, not this one). It also
 * reads /proc/self/stat for an RSS we do not use, which makes it cost about 13 µs here against
 * 0.3 µs for v8.getHeapStatistics() (p99 about 40 µs on the loaded 2-core test machine). Once per
 * interval (5 s at the least) that is under 3 µs per second of main-thread time, so the real
 * figure is worth it; per traced call it would not be. If it throws (no /proc in a sandbox),
 * the sample falls back to v8.getHeapStatistics() and array_buffers is 0, said once on stderr.
 *
 * Event-loop delay comes from monitorEventLoopDelay, a libuv timer in native code; its histogram
 * is reset after each reading, so each sample covers one interval.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { RingViews } from '../ring/layout';
import { writeMainFigures } from '../ring/main-metrics';
import { writeStderrOnce } from '../stderr';

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
    const heap = readHeap();
    const seen = histogram.count > 0;
    writeMainFigures(views, {
      sampledAt: Date.now(),
      ...heap,
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

type HeapFigures = { heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };

function readHeap(): HeapFigures {
  try {
    const usage = process.memoryUsage();
    return { heapTotal: usage.heapTotal, heapUsed: usage.heapUsed, external: usage.external, arrayBuffers: usage.arrayBuffers };
  } catch (err) {
    writeStderrOnce(
      'array-buffers',
      `process.memoryUsage() failed (${err instanceof Error ? err.message : String(err)}), so array_buffers is reported as 0; the other heap figures come from v8.getHeapStatistics().`,
    );
    const heap = getHeapStatistics();
    return { heapTotal: heap.total_heap_size, heapUsed: heap.used_heap_size, external: heap.external_memory, arrayBuffers: 0 };
  }
}
