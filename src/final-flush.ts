/**
 * The main thread's half of a bounded final flush (process exit, or stop()): it raises FINAL
 * with a deadline on the timeline every thread shares, so the worker knows how long it may
 * retry, and when to stop and count what is left as dropped. The worker's deadline comes a
 * little before the main thread's own, so those last counts are in when the main thread stops
 * waiting; without the margin, a batch given up at the last moment would still read as pending.
 */
import { performance } from 'node:perf_hooks';
import { EXIT_DEADLINE, FINAL } from './ring/layout';
import type { RingViews } from './ring/layout';

/** The part of the budget kept for the worker's last counts and for waking the main thread. */
export function accountingMarginMs(budgetMs: number): number {
  return Math.min(100, budgetMs / 10);
}

/**
 * Puts the worker in final mode for the next `budgetMs`. Returns the main thread's own deadline,
 * in performance.now() ms.
 */
export function beginFinalFlush(views: RingViews, budgetMs: number): number {
  const now = performance.now();
  // A plain store, published by the Atomics.store below, which the worker reads before it.
  views.stats[EXIT_DEADLINE] = performance.timeOrigin + now + budgetMs - accountingMarginMs(budgetMs);
  Atomics.store(views.ctrl, FINAL, 1);
  return now + budgetMs;
}

/** Should the process go on after all, later batches get their normal retries again. */
export function endFinalFlush(views: RingViews): void {
  Atomics.store(views.ctrl, FINAL, 0);
}
