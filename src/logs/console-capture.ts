/**
 * `TERACRON_CAPTURE_CONSOLE=1`: console.debug/log/info/warn/error/trace also become logs. The
 * original method is called first with the same arguments, so what the terminal shows is
 * byte for byte what it showed without the agent; the log gets the same text (util.format, as
 * console formats it) and, when an argument is an Error, its type, message and stack.
 *
 * Levels: debug and trace → debug (trace with its stack), log and info → info, warn → warn,
 * error → error. A console call made while a log is being recorded (a scrubber that logs) is
 * only printed, so capture cannot recurse.
 */
import { format } from 'node:util';
import { LOG_LEVEL_NAMES } from '../ring/layout';
import { recordLog } from './log';
import type { LogOptions } from './log';
import { logState } from './log-state';

type ConsoleMethod = 'debug' | 'log' | 'info' | 'warn' | 'error' | 'trace';

const LEVELS: Record<ConsoleMethod, number> = {
  debug: LOG_LEVEL_NAMES.indexOf('debug'),
  trace: LOG_LEVEL_NAMES.indexOf('debug'),
  log: LOG_LEVEL_NAMES.indexOf('info'),
  info: LOG_LEVEL_NAMES.indexOf('info'),
  warn: LOG_LEVEL_NAMES.indexOf('warn'),
  error: LOG_LEVEL_NAMES.indexOf('error'),
};

export interface ConsoleCapture {
  remove(): void;
}

export function installConsoleCapture(target: Console = console): ConsoleCapture {
  let recording = false;
  const installed = new Map<ConsoleMethod, { original: (...args: unknown[]) => void; wrapper: (...args: unknown[]) => void }>();
  for (const name of Object.keys(LEVELS) as ConsoleMethod[]) {
    const original = target[name] as (...args: unknown[]) => void;
    if (typeof original !== 'function') continue;
    const level = LEVELS[name];
    const wrapper = function (this: unknown, ...args: unknown[]): void {
      // Printed first and exactly as before: whatever capture does cannot change the output.
      const result = original.apply(this, args);
      if (!recording && logState.recorder !== null && level >= logState.minLevel) {
        recording = true;
        try {
          recordLog(level, format(...args), optionsFor(name, args), wrapper);
        } catch {
          // The app's console call never fails because of the agent.
        } finally {
          recording = false;
        }
      }
      return result;
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

function optionsFor(name: ConsoleMethod, args: unknown[]): LogOptions {
  const options: LogOptions = { module: 'console' };
  const error = args.find((arg) => arg instanceof Error);
  if (error !== undefined) options.error = error;
  else if (name === 'trace') options.stack = true;
  return options;
}
