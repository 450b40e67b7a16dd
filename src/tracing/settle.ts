/**
 * When a traced call's span ends, decided by what the call returned. The rule is that the caller
 * sees what the untraced function gives: the same value or error, the same number of executions,
 * and the same unhandled-rejection events (so the same crash under Node's default
 * `--unhandled-rejections=throw`).
 *
 * - A native promise (what every async function returns): the caller gets a derived promise,
 *   `promise.then(end, fail-and-rethrow)`, which settles like the original one microtask later.
 *   Our handler marks the original handled, but the derived promise is the caller's: it rejects
 *   unhandled exactly when the caller leaves it unhandled. Returning the original with a handler
 *   attached on the side (what this did before) swallowed the app's unhandled rejections; one
 *   that rethrows would raise a second, spurious one when the app does handle it. OpenTelemetry's
 *   instrumentations, Node's TracingChannel.tracePromise and dd-trace (since 2022) do the same.
 *   The price: `traced() !== promise`, and one more tick before the caller resumes.
 * - A native promise with own enumerable properties (a `.cancel()` or got-style `.json()` set on
 *   the instance): a derived promise would not have them, so it is returned as is and the span
 *   ends now. Looking costs a for-in over an object that has none, a few nanoseconds.
 * - Any other thenable (a knex or mongoose query builder, which runs its query on every `.then`;
 *   a Promise subclass; Bluebird): returned as is, never `.then`'d, and the span ends now. It
 *   times building the value, not awaiting it; `trace(name, async () => await query)` times the
 *   query, because that returns a native promise.
 * - Anything else: the span ends now.
 */
import type { ActiveSpan } from './span';
import { closeSpan, closeSpanFailed } from './tracer';

export function settle(span: ActiveSpan, result: unknown): unknown {
  if (result !== null && typeof result === 'object' && Object.getPrototypeOf(result) === Promise.prototype && !hasOwnEnumerable(result)) {
    return (result as Promise<unknown>).then(
      (value) => {
        closeSpan(span);
        return value;
      },
      (error: unknown) => {
        closeSpanFailed(span, error);
        throw error;
      },
    );
  }
  closeSpan(span);
  return result;
}

function hasOwnEnumerable(value: object): boolean {
  // for-in also walks the prototype chain, where a polluted Object.prototype may add keys.
  for (const key in value) if (Object.hasOwn(value, key)) return true;
  return false;
}
