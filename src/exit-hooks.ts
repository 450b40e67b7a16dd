/**
 * Ships what is buffered when the program ends, as pino's thread-stream does: the main thread
 * raises a flush request in the shared buffer, rings the worker and blocks in Atomics.wait
 * until the worker says it is done, or the exit budget (exitTimeoutMs, default 2 s) runs out.
 *
 * It runs from 'beforeExit' (the loop emptied: a natural end), from 'exit' (process.exit(),
 * or after beforeExit) and from a stop signal the app does not handle (signals.ts). All take
 * from one budget, so exit never waits longer than configured. With no worker alive (it died
 * and its replacement is not started yet) there is nobody to wait for, so nothing waits.
 * The flush is final (final-flush.ts): the worker retries failures with short backoffs while the
 * budget lasts, and by its deadline counts what it could not send as dropped.
 */
import { performance } from 'node:perf_hooks';
import { beginFinalFlush, endFinalFlush } from './final-flush';
import { FLUSH_DONE, FLUSH_REQ, WORKER_GONE, WORKER_STATE } from './ring/layout';
import type { RingViews } from './ring/layout';
import { wake } from './ring/writer';
import { installSignalHooks } from './signals';

export interface ExitHooksOptions {
  views: RingViews;
  exitTimeoutMs: number;
  /** True while something recorded is neither delivered nor counted as dropped. */
  hasUnshipped: () => boolean;
  /** Replaces a worker that died, now rather than after its backoff (worker-supervisor.ts). */
  beforeFlush?: () => void;
}

export interface ExitHooks {
  remove(): void;
}

/** Something to do once the wait has lasted until `at` (a performance.now() time). */
export interface Midway {
  at: number;
  run: () => void;
}

export function installExitHooks(options: ExitHooksOptions): ExitHooks {
  let budgetMs = options.exitTimeoutMs;
  const { views } = options;
  const onEnd = (midway?: Midway): void => {
    while (budgetMs > 0 && options.hasUnshipped()) {
      options.beforeFlush?.();
      // No worker, and none coming: nobody to wait for.
      if (workerGone(views)) return;
      const started = performance.now();
      const answered = flushSync(views, budgetMs, midway);
      budgetMs -= performance.now() - started;
      // Answered, or out of budget; else the worker died while we waited and the next turn
      // starts another, within what is left.
      if (answered || !workerGone(views)) return;
    }
  };
  const onExit = (): void => onEnd();
  process.on('beforeExit', onExit);
  process.on('exit', onExit);
  const signals = installSignalHooks(onEnd);
  return {
    remove() {
      process.off('beforeExit', onExit);
      process.off('exit', onExit);
      signals.remove();
    },
  };
}

function workerGone(views: RingViews): boolean {
  return Atomics.load(views.ctrl, WORKER_STATE) === WORKER_GONE;
}

/**
 * Asks the worker for a final flush and waits for it, at most `timeoutMs`. Returns true when
 * the worker answered in time, false at once when there is no worker to answer (a worker that
 * dies during the wait says so and wakes us). Blocking is the point: nothing else can run at exit.
 * `midway.run` is called once the wait reaches `midway.at`, if it lasts that long.
 */
export function flushSync(views: RingViews, timeoutMs: number, midway?: Midway): boolean {
  const { ctrl } = views;
  if (workerGone(views)) return false;
  const deadline = beginFinalFlush(views, timeoutMs);
  const request = (Atomics.add(ctrl, FLUSH_REQ, 1) + 1) | 0;
  wake(views);
  let next = midway;
  try {
    for (;;) {
      const done = Atomics.load(ctrl, FLUSH_DONE);
      if (((done - request) | 0) >= 0) return true;
      const now = performance.now();
      if (next !== undefined && now >= next.at) {
        next.run();
        next = undefined;
      }
      if (deadline <= now || workerGone(views)) return false;
      Atomics.wait(ctrl, FLUSH_DONE, done, Math.min(deadline, next?.at ?? deadline) - now);
    }
  } finally {
    // beforeExit listeners may schedule more work, so the process may go on after all.
    endFinalFlush(views);
  }
}
