/**
 * `capture` and `tracingScrubber`: the only ways an argument value reaches a span (SPEC §5, §7).
 *
 * Everything that can be decided once is decided when `trace()` wraps the function: parameter
 * names are resolved to argument indexes then, so a call only indexes into its arguments. User
 * callbacks (a capture function, the scrubber) are guarded: when one fails, the data is dropped
 * and one warning says why, and the traced call itself goes on untouched. Warnings name
 * functions, parameters and error messages, never a captured value.
 */
import { readParameterList } from './parameters';

export type CaptureOption = readonly string[] | ((args: unknown[]) => Record<string, unknown>);
export type CaptureFn = (args: ArrayLike<unknown>) => Record<string, unknown> | null;
export type Scrubber = (data: Record<string, unknown>) => Record<string, unknown>;
/** Reports a problem once per key (typically `writeStderrOnce`). */
export type WarnOnce = (key: string, message: string) => void;

const MAX_ERROR_CHARS = 200;

/**
 * Turns the `capture` option of `trace(workflow, fn, { capture })` into a function of the call's
 * arguments, or null when nothing is to be captured. `workflow`, when given, only makes the
 * warnings easier to place.
 */
export function compileCapture(
  fn: Function,
  capture: CaptureOption | undefined,
  warnOnce: WarnOnce,
  workflow?: string,
): CaptureFn | null {
  if (capture === undefined || capture === null) return null;
  const name = functionName(fn);
  const site = workflow === undefined ? `trace(${name})` : `trace(${JSON.stringify(workflow)}, ${name})`;
  if (typeof capture === 'function') return captureWith(capture, site, warnOnce);
  if (!Array.isArray(capture)) {
    warnOnce(`capture-option:${site}`, `${site}: capture must be a list of parameter names or a function of the arguments; nothing is captured`);
    return null;
  }
  return captureByName(fn, capture, name, site, warnOnce);
}

function captureByName(fn: Function, requested: readonly unknown[], name: string, site: string, warnOnce: WarnOnce): CaptureFn | null {
  if (requested.length === 0) return null;
  const list = readParameterList(fn);
  if (list === null) {
    warnOnce(
      `capture-unreadable:${site}`,
      `${site}: cannot read the parameter list of ${name}; capture by name is off for it — pass capture as a function instead: capture: (args) => ({ ... })`,
    );
    return null;
  }
  const params = list.names;
  const rest = list.rest ? params.length - 1 : -1;
  const keys: string[] = [];
  const indexes: number[] = [];
  for (const wanted of requested) {
    if (typeof wanted !== 'string' || wanted === '') {
      warnOnce(`capture-name:${site}:${String(wanted)}`, `${site}: capture names must be non-empty strings; ${describeType(wanted)} was skipped`);
      continue;
    }
    if (keys.includes(wanted)) continue;
    const index = params.indexOf(wanted);
    if (index < 0) {
      const hint = params.includes('')
        ? `; ${name} has destructured parameters, which have no name to capture by — pass capture as a function instead: capture: (args) => ({ ... })`
        : params.length === 0
          ? `; ${name} declares no parameters`
          : `; its parameters are ${params.join(', ')}`;
      warnOnce(`capture-name:${site}:${wanted}`, `${site}: "${wanted}" is not a parameter of ${name}, so it is not captured${hint}`);
      continue;
    }
    keys.push(wanted);
    indexes.push(index);
  }
  if (keys.length === 0) return null;
  const count = keys.length;
  return (args) => {
    const length = args.length;
    const out: Record<string, unknown> = {};
    for (let k = 0; k < count; k++) {
      const index = indexes[k]!;
      if (index >= length) continue;
      out[keys[k]!] = index === rest ? Array.prototype.slice.call(args, index) : args[index];
    }
    return out;
  };
}

function captureWith(capture: (args: unknown[]) => Record<string, unknown>, site: string, warnOnce: WarnOnce): CaptureFn {
  let warned = false;
  const warn = (reason: string): null => {
    if (!warned) {
      warned = true;
      warnOnce(`capture-failed:${site}`, `${site}: the capture function ${reason}; nothing was captured`);
    }
    return null;
  };
  return (args) => {
    let result: unknown;
    try {
      result = capture(Array.prototype.slice.call(args));
    } catch (err) {
      return warn(`threw ${describeError(err)}`);
    }
    if (isThenable(result)) {
      swallow(result);
      return warn('returned a promise; it must return an object synchronously');
    }
    if (!isRecord(result)) return warn(`returned ${describeType(result)} instead of an object`);
    return result;
  };
}

/**
 * Runs the user's `tracingScrubber` over metadata or captured params. It gets a shallow copy,
 * so it may edit what it is given without touching the caller's object. A scrubber that throws
 * or returns something other than an object drops the data: sending it unscrubbed could leak
 * exactly what the scrubber exists to remove. Returning null is the quiet way to drop it.
 */
export function scrub(
  data: Record<string, unknown> | null,
  scrubber: Scrubber | undefined,
  warnOnce: WarnOnce,
): Record<string, unknown> | null {
  if (data === null) return null;
  if (scrubber === undefined) return data;
  let result: unknown;
  try {
    result = scrubber({ ...data });
  } catch (err) {
    warnOnce('scrubber-threw', `tracingScrubber threw ${describeError(err)}; the data was dropped`);
    return null;
  }
  if (isRecord(result)) return result;
  if (result !== null) {
    if (isThenable(result)) swallow(result);
    warnOnce(`scrubber-returned:${describeType(result)}`, `tracingScrubber returned ${describeType(result)} instead of an object; the data was dropped`);
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isThenable(value);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  try {
    return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
  } catch {
    return false;
  }
}

/** An async callback's rejection must not become the host's unhandled rejection. */
function swallow(thenable: PromiseLike<unknown>): void {
  try {
    thenable.then(undefined, () => {});
  } catch {
    // A hostile thenable: nothing more to do.
  }
}

function functionName(fn: Function): string {
  try {
    const name = fn.name;
    if (typeof name === 'string' && name !== '') return name;
  } catch {
    // A throwing `name` getter.
  }
  return 'an anonymous function';
}

/** The kind of a value, never its contents. */
function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (isThenable(value)) return 'a promise';
  const type = typeof value;
  return type === 'undefined' ? 'undefined' : `a ${type}`;
}

function describeError(err: unknown): string {
  try {
    if (err instanceof Error) return truncate(`${err.name}: ${err.message}`);
    return `a non-error value (${describeType(err)})`;
  } catch {
    return 'an unreadable error';
  }
}

function truncate(text: string): string {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text;
}
