/**
 * Uncaught exceptions become fatal logs and unhandled rejections error logs, with their stacks,
 * without changing what Node does with them. Adding an 'uncaughtException' or
 * 'unhandledRejection' listener would change it (a listener suppresses the crash), so neither is
 * added:
 * - uncaught exceptions are seen through 'uncaughtExceptionMonitor', which Node calls before its
 *   own handling and whose listeners change nothing;
 * - unhandled rejections are seen by wrapping `process.emit`: Node announces every one with
 *   `process.emit('unhandledRejection', reason, promise)` and decides from its return value
 *   (any listener?) whether to crash, so the wrapper returns exactly what the original returns.
 *   A rejection that then crashes the process reaches the monitor, which records it; one the
 *   app handles is recorded after its handlers ran; it is recorded once either way.
 *
 * The log is written into the ring before Node prints the error and emits 'exit', where the
 * exit hooks ship what is buffered, so it leaves with the process.
 */
import { LOG_LEVELS } from '../wire/batch-codec';
import { recordLog } from './log';

const FATAL = LOG_LEVELS.indexOf('fatal');
const ERROR = LOG_LEVELS.indexOf('error');

export interface CrashCapture {
  remove(): void;
}

export function installCrashCapture(): CrashCapture {
  // The reason last recorded, so that a rejection seen both by the monitor and by emit is one log.
  let lastRejection: unknown = NO_REASON;
  const recordRejection = (reason: unknown): void => {
    if (lastRejection === reason) return;
    lastRejection = reason;
    record(ERROR, reason, 'unhandledRejection');
  };
  const monitor = (error: unknown, origin: string): void => {
    if (origin === 'unhandledRejection') recordRejection(error);
    else record(FATAL, error, origin);
  };
  process.on('uncaughtExceptionMonitor', monitor);

  const originalEmit = process.emit;
  let active = true;
  const emit = function (this: NodeJS.Process, event: string | symbol, ...args: unknown[]): boolean {
    const handled = (originalEmit as (this: NodeJS.Process, event: string | symbol, ...a: unknown[]) => boolean).call(this, event, ...args);
    if (active && event === 'unhandledRejection') {
      const reason = args[0];
      // Read nothing of the reason before Node is done with it: reading an error's stack before
      // Node reports it as a crash changes the source line Node prints above it. Handled by the
      // app, there is no crash: record now. Unhandled, Node crashes next (the default mode,
      // where the monitor records it) or only warns (--unhandled-rejections=warn or none),
      // where the next turn of the loop records it.
      if (handled) recordRejection(reason);
      else setImmediate(() => recordRejection(reason));
    }
    return handled;
  } as typeof process.emit;
  process.emit = emit;

  return {
    remove() {
      process.off('uncaughtExceptionMonitor', monitor);
      active = false;
      // Someone may have wrapped it after us; then ours stays in their chain, inactive.
      if (process.emit === emit) process.emit = originalEmit;
    },
  };
}

const NO_REASON = Symbol('no rejection recorded');

function record(level: number, error: unknown, origin: string): void {
  try {
    recordLog(level, messageOf(error, origin), { module: 'process', error, extra: { origin } }, record);
  } catch {
    // Never let the agent add an error to a crash.
  }
}

function messageOf(error: unknown, origin: string): string {
  const what = origin === 'unhandledRejection' ? 'Unhandled promise rejection' : 'Uncaught exception';
  let detail: string;
  try {
    detail = error instanceof Error ? error.message : String(error);
  } catch {
    detail = Object.prototype.toString.call(error);
  }
  return `${what}: ${detail}`;
}
