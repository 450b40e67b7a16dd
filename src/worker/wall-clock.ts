/**
 * Converts the producer's performance.now() readings into unix milliseconds.
 *
 * The main thread reads only the monotonic clock (cheap, and never jumps). `timeOrigin + now`
 * of any thread is on one shared timeline, so the worker needs the producer's timeOrigin once,
 * plus the current gap between that timeline and the wall clock, which it measures itself and
 * refreshes before every batch so NTP adjustments show up within one flush.
 */
import { performance } from 'node:perf_hooks';

export interface WallClock {
  /** The producer thread's performance.timeOrigin. */
  readonly producerOrigin: number;
  /** Date.now() minus the monotonic timeline, as last measured. */
  offset: number;
}

export function createWallClock(producerOrigin: number): WallClock {
  const clock = { producerOrigin, offset: 0 };
  refreshWallClock(clock);
  return clock;
}

export function refreshWallClock(clock: WallClock): void {
  clock.offset = Date.now() - (performance.timeOrigin + performance.now());
}

export function toUnixMs(clock: WallClock, producerNow: number): number {
  return clock.producerOrigin + producerNow + clock.offset;
}
