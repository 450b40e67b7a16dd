/**
 * Waiting on a condition instead of a fixed sleep: a loaded machine makes every sleep too short
 * some day, while a condition is met as soon as the thing happened. The deadline only bounds a
 * failure, so it is generous; on timeout the error says what was awaited and what was last seen.
 */
import { inspect } from 'node:util';

export interface WaitOptions {
  /** How long to keep trying before failing (default 20 s: a bound on failure, not a speed test). */
  timeoutMs?: number;
  /** Pause between probes (default 20 ms). */
  intervalMs?: number;
  /** What to report on timeout; by default the probe's last answer or error. */
  seen?: () => unknown;
}

/**
 * Calls `probe` until it returns something other than undefined or false, and returns that. A
 * probe that throws counts as "not yet" (a server still starting, say); its error is what was seen.
 */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, options: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 20_000, intervalMs = 20 } = options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (err) {
      last = err instanceof Error ? err.message : err;
    }
    if (Date.now() >= deadline) {
      const seen = options.seen === undefined ? last : options.seen();
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last saw: ${inspect(seen, { depth: 4, breakLength: Infinity })}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
