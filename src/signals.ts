/**
 * SIGTERM, SIGINT and SIGHUP: how Docker, Kubernetes, systemd, a terminal and `kill` stop a
 * service. By default each ends the process at once, and nothing that runs at exit ('exit'
 * listeners, the exit hooks) gets to run, so what is buffered would be lost.
 *
 * Node drops a signal's default action as soon as anyone listens to it. So the agent listens to
 * a signal only while the application does not: with no app handler, the agent's listener
 * flushes within the exit budget and then lets the signal do what it would have done (the
 * process dies of it, status 128+n); with an app handler, the agent is not there at all and the
 * app decides, its later process.exit() or natural end shipping through the exit hooks.
 *
 * An app may add or remove its handlers at any time (after a preload, or a library such as
 * signal-exit only while it has work). 'newListener' and 'removeListener' tell us, and the agent
 * steps aside or back in a microtask: 'newListener' fires before the app's listener is added, and
 * removing ours then would leave the signal with no listener for a moment, which makes Node stop
 * watching it for good (its own 'newListener' hook ran already). A signal reaches JavaScript only
 * through the event loop, so none can arrive between the app's listener and our reconciliation.
 */
import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/**
 * A repeat of the signal this soon after the first is taken for the same stop, not a second
 * one: Ctrl-C under `npm run` reaches node from the terminal and again from npm, which forwards
 * it (when the script shell execs node, as bash does); a process-group kill under systemd too.
 * Later, a repeat ends the process at once, as the first would have without the agent.
 */
export const SIGNAL_ECHO_MS = 500;

export interface SignalHooks {
  remove(): void;
}

/**
 * `flush` ships what is buffered, synchronously and within what is left of the exit budget,
 * and calls `midway.run` when its wait reaches `midway.at` (exit-hooks.ts).
 */
export function installSignalHooks(flush: (midway: { at: number; run: () => void }) => void): SignalHooks {
  // Worker threads get no signal events; the agent's own worker never starts one anyway.
  if (!isMainThread) return { remove() {} };
  let removed = false;
  let scheduled = false;
  const ours = new Map<StopSignal, () => void>();
  for (const signal of STOP_SIGNALS) {
    const listener = (): void => {
      // Ours is the only listener, so this is the default action's moment. Stepping out gives
      // the signal its default action back, so that a second one during the flush ends the
      // process at once, as it would have without the agent; but only after the echo window
      // (until then, a repeat is caught and never acted on: the process dies of this one).
      const stepAside = (): void => void process.off(signal, listener);
      try {
        flush({ at: performance.now() + SIGNAL_ECHO_MS, run: stepAside });
      } finally {
        stepAside();
        // Died of the signal, exactly as before: a parent sees signalCode, a shell 128+n.
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      }
    };
    ours.set(signal, listener);
  }

  const reconcile = (): void => {
    scheduled = false;
    if (removed) return;
    for (const signal of STOP_SIGNALS) {
      const listener = ours.get(signal)!;
      const listening = process.listeners(signal).includes(listener);
      const appHandlers = process.listenerCount(signal) - (listening ? 1 : 0);
      if (appHandlers === 0 && !listening) process.on(signal, listener);
      else if (appHandlers > 0 && listening) process.off(signal, listener);
    }
  };
  const watch = (event: string | symbol): void => {
    if (scheduled || removed || !(STOP_SIGNALS as readonly (string | symbol)[]).includes(event)) return;
    scheduled = true;
    queueMicrotask(reconcile);
  };

  reconcile();
  process.on('newListener', watch);
  process.on('removeListener', watch);
  return {
    remove() {
      if (removed) return;
      removed = true;
      process.off('newListener', watch);
      process.off('removeListener', watch);
      for (const [signal, listener] of ours) process.off(signal, listener);
    },
  };
}
