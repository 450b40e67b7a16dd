/**
 * `log.debug|info|warn|error|fatal(message, { module, extra, error, stack })`: a leveled log,
 * joined to the current trace and span, written into the ring like a span. Below the minimum
 * level (TERACRON_LOG_LEVEL, info by default) a call costs one comparison.
 *
 * `error` may be anything thrown: an Error gives its class name, message and full stack (cause
 * chain and AggregateError members included, error-fields.ts). `stack: true` records the
 * caller's stack when there is no error. `extra` follows the metadata limits of the wire
 * protocol (32 keys; strings, numbers, booleans; anything else a short string).
 */
import { performance } from 'node:perf_hooks';
import { recordLogFields } from '../recorder/recorder';
import type { LogFields } from '../recorder/log-writer';
import { scrub } from '../tracing/capture';
import { storage } from '../tracing/context';
import { spanOfContext, traceOfContext } from '../tracing/record-context';
import { warnOnce } from '../tracing/tracer';
import { errorFields } from './error-fields';
import { logState } from './log-state';

export interface LogOptions {
  /** The part of the application that logs (a file, a subsystem): filterable in the collector. */
  module?: string;
  /** Any object: its own enumerable keys become the log's extra (a typed interface works too). */
  extra?: object;
  error?: unknown;
  /** Record the caller's stack (ignored when `error` is given: its stack is recorded). */
  stack?: boolean;
}

export type LogMethod = (message: string, options?: LogOptions) => boolean;

export interface Log {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  fatal: LogMethod;
}

// One record is written per call and synchronously, so one fields object serves every call.
const fields: LogFields = {
  level: 0,
  message: '',
  module: null,
  traceId: null,
  spanId: null,
  time: 0,
  wallClock: false,
  extra: null,
  errorType: null,
  errorMessage: null,
  stack: null,
};

/**
 * Records one log at `level` (an index into LOG_LEVELS (src/wire/batch-codec.ts)); `caller` is the function whose
 * frame and those above it are left out of a `stack: true` capture. Returns false when nothing
 * was recorded (no agent, below the level, or a full ring).
 */
export function recordLog(level: number, message: unknown, options: LogOptions | undefined, caller: Function, time?: number): boolean {
  const recorder = logState.recorder;
  if (recorder === null || level < logState.minLevel) return false;
  const f = fields;
  f.level = level;
  f.message = typeof message === 'string' ? message : String(message);
  f.time = time ?? performance.now();
  f.wallClock = time !== undefined;
  const context = storage.getStore();
  const span = spanOfContext(context);
  f.spanId = span;
  f.traceId = traceOfContext(context, span);
  f.module = null;
  f.extra = null;
  f.errorType = f.errorMessage = f.stack = null;
  if (options !== undefined && options !== null) {
    if (options.module !== undefined && options.module !== null) f.module = String(options.module);
    if (options.extra !== undefined && options.extra !== null) {
      const extra = options.extra as Record<string, unknown>;
      f.extra = logState.scrubber === undefined ? extra : scrub(extra, logState.scrubber, warnOnce);
    }
    if (options.error !== undefined) {
      const error = errorFields(options.error);
      f.errorType = error.type;
      f.errorMessage = error.message;
      f.stack = error.stack;
    } else if (options.stack === true) {
      f.stack = callerStack(f.message, caller);
    }
  }
  const ok = recordLogFields(recorder, f);
  f.extra = null;
  f.traceId = f.spanId = null;
  return ok;
}

/** The stack above `caller`, headed like console.trace's. */
function callerStack(message: string, caller: Function): string {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, caller);
  const frames = holder.stack ?? '';
  const firstFrame = frames.indexOf('\n');
  return `Trace: ${message}${firstFrame < 0 ? '' : frames.slice(firstFrame)}`;
}

function method(level: number): LogMethod {
  const logAt: LogMethod = (message, options) => recordLog(level, message, options, logAt);
  return logAt;
}

export const log: Log = Object.freeze({
  debug: method(0),
  info: method(1),
  warn: method(2),
  error: method(3),
  fatal: method(4),
});
