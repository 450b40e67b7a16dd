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
      s.exitConnectFailures = 0;
      // Retries sleeping a normal backoff wake and try again now.
      s.finalSignal.abort();
    }
    const deadline = views.stats[EXIT_DEADLINE]!;
    if (deadline !== s.deadline) armDeadline(s, deadline);
  } else if (s.final) {
    s.final = false;
    s.finalSignal = new AbortController();
    disarmDeadline(s);
  }
}

/**
 * With a spool, the last part of the exit budget is kept for it: from `deadline - reserve` on,
 * batches still unsent (in the ring, or on the wire unanswered) are sealed into the spool rather
 * than left pending or dropped at the deadline. Writes at the deadline itself would race the
 * process's end. A fifth of what is left, at most this much.
 */
export const EXIT_SPOOL_RESERVE_MS = 300;

function armDeadline(s: SenderState, deadline: number): void {
  disarmDeadline(s);
  s.deadline = deadline;
  if (s.spooler !== null) {
    const left = Math.max(0, deadline - sharedNow());
    s.spoolTimer = setTimeout(() => {
      s.spoolNow = true;
      for (const wake of [...s.expiryWaiters]) wake('spool');
    }, left - Math.min(EXIT_SPOOL_RESERVE_MS, left / 5));
  }
  s.expiryTimer = setTimeout(() => {
    s.expired = true;
    for (const wake of [...s.expiryWaiters]) wake('expired');
  }, Math.max(0, deadline - sharedNow()));
}

function disarmDeadline(s: SenderState): void {
  if (s.expiryTimer !== null) clearTimeout(s.expiryTimer);
  if (s.spoolTimer !== null) clearTimeout(s.spoolTimer);
  s.expiryTimer = null;
  s.spoolTimer = null;
  s.spoolNow = false;
  s.deadline = Number.POSITIVE_INFINITY;
  s.expired = false;
}

/**
 * Resolves when `work` settles or the exit deadline passes, whichever is first; an exit that
 * begins while this waits (stop() during a pass) bounds it too. With `orSpoolPoint`, the spool
 * point (EXIT_SPOOL_RESERVE_MS) ends the wait as well.
 */
export function untilDeadline(s: SenderState, work: Promise<unknown>, orSpoolPoint = false): Promise<void> {
  if (s.expired || (orSpoolPoint && s.spoolNow)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (reason?: 'expired' | 'spool'): void => {
      if (reason === 'spool' && !orSpoolPoint) return;
      s.expiryWaiters.delete(done);
      resolve();
    };
    s.expiryWaiters.add(done);
    work.then(() => done(), () => done());
  });
}
