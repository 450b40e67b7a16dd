/**
 * Ships what is buffered when the program ends, as pino's thread-stream does: the main thread
 * raises a flush request in the shared buffer, rings the worker and blocks in Atomics.wait
 * until the worker says it is done, or the exit budget (exitTimeoutMs, default 2 s) runs out.
 *
 * It runs from 'beforeExit' (the loop emptied: a natural end) and from 'exit' (process.exit(),
 * or after beforeExit). Both take from one budget, so exit never waits longer than configured.
 * The flush is final (final-flush.ts): the worker retries failures with short backoffs while the
 * budget lasts, and by its deadline counts what it could not send as dropped.
 */
import { performance } from 'node:perf_hooks';
import { beginFinalFlush, endFinalFlush } from './final-flush';
import { FLUSH_DONE, FLUSH_REQ } from './ring/layout';
import type { RingViews } from './ring/layout';
import { wake } from './ring/writer';

export interface ExitHooksOptions {
  views: RingViews;
  exitTimeoutMs: number;
  /** True while something recorded is neither delivered nor counted as dropped. */
  hasUnshipped: () => boolean;
}

export interface ExitHooks {
  remove(): void;
}

export function installExitHooks(options: ExitHooksOptions): ExitHooks {
  let budgetMs = options.exitTimeoutMs;
  const onEnd = (): void => {
    if (budgetMs <= 0 || !options.hasUnshipped()) return;
    const started = performance.now();
    flushSync(options.views, budgetMs);
    budgetMs -= performance.now() - started;
  };
  process.on('beforeExit', onEnd);
  process.on('exit', onEnd);
  return {
    remove() {
      process.off('beforeExit', onEnd);
      process.off('exit', onEnd);
    },
  };
}

/**
 * Asks the worker for a final flush and waits for it, at most `timeoutMs`. Returns true when
 * the worker answered in time. Blocking is the point: nothing else can run at exit.
 */
export function flushSync(views: RingViews, timeoutMs: number): boolean {
  const { ctrl } = views;
  const deadline = beginFinalFlush(views, timeoutMs);
  const request = (Atomics.add(ctrl, FLUSH_REQ, 1) + 1) | 0;
  wake(views);
  try {
    for (;;) {
      const done = Atomics.load(ctrl, FLUSH_DONE);
      if (((done - request) | 0) >= 0) return true;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return false;
      Atomics.wait(ctrl, FLUSH_DONE, done, remaining);
    }
  } finally {
    // beforeExit listeners may schedule more work, so the process may go on after all.
    endFinalFlush(views);
  }
}
