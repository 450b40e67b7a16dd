/**
 * The worker's side of a final flush (src/final-flush.ts): FINAL and EXIT_DEADLINE are read from
 * the shared buffer at the start of every pass and whenever the doorbell rings, and a timer marks
 * the deadline. Until it, failed batches are retried with short backoffs; from it on, nothing new
 * is sent and what is left is counted as dropped, so the main thread, which stops waiting a
 * little later, finds every item either sent, dropped, or still on the wire (pending).
 */
import { performance } from 'node:perf_hooks';
import { EXIT_DEADLINE, FINAL } from '../ring/layout';
import type { RingViews } from '../ring/layout';
import type { SenderState } from './sender';

/** Now, on the timeline EXIT_DEADLINE is written in. */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}

export function syncExitMode(s: SenderState, views: RingViews): void {
  const final = Atomics.load(views.ctrl, FINAL) !== 0;
  if (final) {
    if (!s.final) {
      s.final = true;
      if (s.spooler !== null) s.spooler.final = true;
      s.exitConnectFailures = 0;
      // Retries sleeping a normal backoff wake and try again now.
      s.finalSignal.abort();
    }
    const deadline = views.stats[EXIT_DEADLINE]!;
    if (deadline !== s.deadline) armDeadline(s, deadline);
  } else if (s.final) {
    s.final = false;
    if (s.spooler !== null) s.spooler.final = false;
    s.finalSignal = new AbortController();
    disarmDeadline(s);
  }
}

function armDeadline(s: SenderState, deadline: number): void {
  disarmDeadline(s);
  s.deadline = deadline;
  s.expiryTimer = setTimeout(() => {
    s.expired = true;
    for (const wake of [...s.expiryWaiters]) wake();
  }, Math.max(0, deadline - sharedNow()));
}

function disarmDeadline(s: SenderState): void {
  if (s.expiryTimer !== null) clearTimeout(s.expiryTimer);
  s.expiryTimer = null;
  s.deadline = Number.POSITIVE_INFINITY;
  s.expired = false;
}

/**
 * Resolves when `work` settles or the exit deadline passes, whichever is first; an exit that
 * begins while this waits (stop() during a pass) bounds it too.
 */
export function untilDeadline(s: SenderState, work: Promise<unknown>): Promise<void> {
  if (s.expired) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      s.expiryWaiters.delete(done);
      resolve();
    };
    s.expiryWaiters.add(done);
    work.then(done, done);
  });
}
