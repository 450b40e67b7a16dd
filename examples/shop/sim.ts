/**
 * The simulated world the shop lives in: latencies that look like real ones (log-normal, with
 * a rare slow tail) and dice for the failures.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** True with probability `p`. */
export function chance(p: number): boolean {
  return Math.random() < p;
}

export function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

/**
 * A latency in ms around `medianMs`: log-normal (most calls near the median, a long right
 * tail), and with probability `slowChance` one of the 10–30× outliers every real dependency has.
 */
export function latency(medianMs: number, slowChance = 0): number {
  const u1 = Math.random() || Number.MIN_VALUE;
  const u2 = Math.random();
  const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  const ms = medianMs * Math.exp(0.45 * normal);
  return chance(slowChance) ? ms * (10 + Math.random() * 20) : ms;
}
