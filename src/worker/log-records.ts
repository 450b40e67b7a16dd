/**
 * LOG records → the wire's log objects (SPEC §3, `/api/v1/logs`). Logs are made as objects and
 * written through the batch codec (item-writer `value`), unlike spans: they are fewer, and their
 * stacks get one change on the way, which is simpler on a string: the application's working
 * directory is taken off file paths, so that stacks read `src/orders.js:12:5` on every host
 * (the collector groups errors by those frames) and do not carry home directories.
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  LOG_FIXED_BYTES,
  LOG_HAS_ERROR,
  LOG_HAS_EXTRA,
  LOG_HAS_MODULE,
  LOG_HAS_SPAN,
  LOG_HAS_STACK,
  LOG_HAS_TRACE,
  LOG_LEVEL_MASK,
  LOG_LEVEL_SHIFT,
  LOG_MODULE,
  LOG_SPAN_ID,
  LOG_TIME,
  LOG_TRACE_ID,
  LOG_WALL_CLOCK,
} from '../ring/layout';
import { readAttributes, readIdHex, readInlineString, readString } from '../ring/reader';
import type { RingReader } from '../ring/reader';
import { LOG_LEVELS } from '../wire/batch-codec';
import type { WireLog } from '../wire/batch-codec';
import { toUnixMs } from './wall-clock';
import type { WallClock } from './wall-clock';

export function decodeLog(r: RingReader, pos: number, kindAndFlags: number, clock: WallClock, paths: AppPaths): WireLog {
  const { i32, f64 } = r.views;
  const time = f64[(pos + LOG_TIME) >> 3]!;
  const message = readInlineString(r, pos + LOG_FIXED_BYTES);
  let at = r.cursor;
  let errorType: string | null = null;
  let errorMessage: string | null = null;
  let stack: string | null = null;
  if (kindAndFlags & LOG_HAS_ERROR) {
    errorType = readInlineString(r, at) || null;
    errorMessage = readInlineString(r, r.cursor);
    at = r.cursor;
  }
  if (kindAndFlags & LOG_HAS_STACK) {
    stack = relativeStack(readInlineString(r, at), paths);
    at = r.cursor;
  }
  return {
    timestamp: Math.round(kindAndFlags & LOG_WALL_CLOCK ? time : toUnixMs(clock, time)),
    level: LOG_LEVELS[(kindAndFlags & LOG_LEVEL_MASK) >> LOG_LEVEL_SHIFT] ?? 'info',
    message,
    module: kindAndFlags & LOG_HAS_MODULE ? readString(r, i32[(pos + LOG_MODULE) >> 2]!) : null,
    trace_id: kindAndFlags & LOG_HAS_TRACE ? readIdHex(r, pos + LOG_TRACE_ID) : null,
    span_id: kindAndFlags & LOG_HAS_SPAN ? readIdHex(r, pos + LOG_SPAN_ID) : null,
    extra: kindAndFlags & LOG_HAS_EXTRA ? readAttributes(r, at) : {},
    error_type: errorType,
    // An error with an empty message still says it had one; a log without an error has null.
    error_message: kindAndFlags & LOG_HAS_ERROR ? errorMessage : null,
    stack,
  };
}

/** The working directory's forms as they appear in stack frames, each with its trailing slash. */
export interface AppPaths {
  prefixes: readonly string[];
}

export function appPaths(cwd: string): AppPaths {
  if (!isAbsolute(cwd) || cwd === '/') return { prefixes: [] };
  const dir = cwd.endsWith('/') ? cwd : `${cwd}/`;
  // The file URL first: ESM frames read file:///app/src/x.mjs, whose path part is the plain prefix.
  return { prefixes: [pathToFileURL(dir).href, dir] };
}

export function relativeStack(stack: string, paths: AppPaths): string {
  let out = stack;
  for (const prefix of paths.prefixes) if (out.includes(prefix)) out = out.split(prefix).join('');
  return out;
}
