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
import { isMainThread } from 'node:worker_threads';

export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

export interface SignalHooks {
  remove(): void;
}

/** `flush` ships what is buffered, synchronously and within what is left of the exit budget. */
export function installSignalHooks(flush: (signal: StopSignal) => void): SignalHooks {
  // Worker threads get no signal events; the agent's own worker never starts one anyway.
  if (!isMainThread) return { remove() {} };
  let removed = false;
  let scheduled = false;
  const ours = new Map<StopSignal, () => void>();
  for (const signal of STOP_SIGNALS) {
    ours.set(signal, () => {
      // Ours is the only listener, so this is the default action's moment. Stepping out first
      // gives the signal its default action back: a second one during the flush ends the
      // process at once, as it would have without the agent.
      process.off(signal, ours.get(signal)!);
      try {
        flush(signal);
      } finally {
        // Died of the signal, exactly as before: a parent sees signalCode, a shell 128+n.
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      }
    });
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
