/**
 * `TERACRON_CAPTURE_CONSOLE=1`: console.debug/log/info/warn/error also become logs. The
 * original method is called first with the same arguments, so what the terminal shows is
 * byte for byte what it showed without the agent; the log gets the same text (util.format, as
 * console formats it) and, when an argument is an Error, its type, message and stack.
 *
 * Levels: debug → debug, log and info → info, warn → warn, error → error. console.trace is
 * left alone: it prints the stack above itself, where a wrapper would add a line. Console calls
 * made by a console method (console.assert → warn) are part of the outer call and are recorded
 * once, as are those made while a log is being recorded (a scrubber that logs), so capture
 * cannot recurse.
 */
import { format } from 'node:util';
import { LOG_LEVELS } from '../wire/batch-codec';
import { recordLog } from './log';
import type { LogOptions } from './log';
import { logState } from './log-state';

type ConsoleMethod = 'debug' | 'log' | 'info' | 'warn' | 'error';

const LEVELS: Record<ConsoleMethod, number> = {
  debug: LOG_LEVELS.indexOf('debug'),
  log: LOG_LEVELS.indexOf('info'),
  info: LOG_LEVELS.indexOf('info'),
  warn: LOG_LEVELS.indexOf('warn'),
  error: LOG_LEVELS.indexOf('error'),
};

export interface ConsoleCapture {
  remove(): void;
}

export function installConsoleCapture(target: Console = console): ConsoleCapture {
  // Inside a wrapped call (printing or recording): nested console calls are only printed.
  let busy = false;
  const installed = new Map<ConsoleMethod, { original: (...args: unknown[]) => void; wrapper: (...args: unknown[]) => void }>();
  for (const name of Object.keys(LEVELS) as ConsoleMethod[]) {
    const original = target[name] as (...args: unknown[]) => void;
    if (typeof original !== 'function') continue;
    const level = LEVELS[name];
    const wrapper = function (this: unknown, ...args: unknown[]): void {
      if (busy) return original.apply(this, args);
      busy = true;
      try {
        // Printed first and exactly as before: whatever capture does cannot change the output.
        original.apply(this, args);
        if (logState.recorder !== null && level >= logState.minLevel) {
          try {
            recordLog(level, format(...args), optionsFor(args), wrapper);
          } catch {
            // The app's console call never fails because of the agent.
          }
        }
      } finally {
        busy = false;
      }
    };
    Object.defineProperty(wrapper, 'name', { value: original.name });
    target[name] = wrapper as Console[ConsoleMethod];
    installed.set(name, { original, wrapper });
  }
  return {
    remove() {
      for (const [name, { original, wrapper }] of installed) {
        // Replaced again after us (another tool): leave theirs in place.
        if (target[name] === wrapper) target[name] = original as Console[ConsoleMethod];
      }
      installed.clear();
    },
  };
}

function optionsFor(args: unknown[]): LogOptions {
  const error = args.find((arg) => arg instanceof Error);
  return error === undefined ? { module: 'console' } : { module: 'console', error };
}
