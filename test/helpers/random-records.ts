/**
 * Random span and event inputs for property tests, drawn towards the edges: every optional part
 * present or not, strings at and around their caps (layout.ts MAX_*) in every UTF-16 shape (1-,
 * 2-, 3- and 4-byte UTF-8, escapes, lone and reversed surrogates, a pair cut by a cap), numbers
 * at the boundaries of each msgpack form and JSON's, and values the recorder turns into strings.
 */
import {
  MAX_CAPTURED_STRING_CHARS,
  MAX_ERROR_MESSAGE_CHARS,
  MAX_ERROR_TYPE_CHARS,
  MAX_KEY_CHARS,
  MAX_METADATA_KEYS,
  MAX_METADATA_STRING_CHARS,
  MAX_NAME_CHARS,
  MAX_SEVERITY_CHARS,
} from '../../src/ring/layout';
import { EVENT_TYPES } from '../../src/recorder/recorder';
import type { EventInput, SpanInput } from '../../src/recorder/recorder';
import type { Random } from './seeded-random';

const T0 = 1_721_500_000_000;

/** Pieces a string is made of, each one to four UTF-8 bytes, or an escape in JSON. */
const PIECES = [
  'a', 'Z', '0', ' ', '~', '"', '\\', '/', '\n', '\t', '\r', '\b', '\f', '\u0000', '\u0001', '\u001f', '\u007f',
  'é', 'ß', '\u0080', '\u07ff', '€', '操', '\u0800', '\uffff', '\ufffd', '\ufeff', '\u2028', '\u2029',
  '🚀', '𝄞', '\ud800\udc00', '\udbff\udfff',
  '\ud83d', '\udc00', '\udfff', '\ude80\ud83d',
];
const ASCII_ONLY = ['a', 'b', 'x', '-', '_', '.', '1'];

/** A length at, around or well below `cap`, or around 64 units (where the ring reader changes method). */
function length(rnd: Random, cap: number): number {
  return rnd.pick([0, 1, 2, 31, 32, 63, 64, 65, cap - 1, cap, cap + 1, cap + 7, rnd.int(cap + 2), rnd.int(40)]);
}

export function randomText(rnd: Random, cap: number, units = length(rnd, cap)): string {
  const pieces = rnd.chance(0.3) ? ASCII_ONLY : PIECES;
  let text = '';
  while (text.length < units) text += rnd.pick(pieces);
  // Cutting at `units` may split a surrogate pair: the cap does the same in the recorder.
  return text.slice(0, units);
}

function nonEmptyText(rnd: Random, cap: number): string {
  const text = randomText(rnd, cap);
  return text === '' ? 'n' : text;
}

const NUMBERS = [
  0, -0, 1, -1, 31, 32, 127, 128, 255, 256, 65_535, 65_536, -32, -33, -128, -129, -32_768, -32_769,
  2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, -(2 ** 32) - 1, -(2 ** 32) + 1,
  T0, -T0, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 2 ** 64, 2 ** 64 - 2048,
  0.1, -1.5, 0.5, 1e21, 1e-7, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, Number.EPSILON, 1e300, -1e300,
  Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY,
];

export function randomNumber(rnd: Random): number {
  switch (rnd.int(4)) {
    case 0:
      return (rnd.next() - 0.5) * 10 ** rnd.int(25);
    case 1:
      return Math.round((rnd.next() - 0.5) * 2 ** rnd.int(54));
    default:
      return rnd.pick(NUMBERS);
  }
}

/** A value for a metadata map: mostly what the wire carries, sometimes what the recorder turns into a string or skips. */
function randomValue(rnd: Random, maxChars: number): unknown {
  switch (rnd.int(10)) {
    case 0:
    case 1:
    case 2:
      return randomText(rnd, maxChars);
    case 3:
    case 4:
    case 5:
      return randomNumber(rnd);
    case 6:
    case 7:
      return rnd.chance(0.5);
    default:
      return rnd.pick<unknown>([null, undefined, { nested: [1, 'two'] }, 10n, new Date(T0), new Error('boom'), new Uint8Array(3), Symbol('s'), () => 1]);
  }
}

function randomKey(rnd: Random): string {
  switch (rnd.int(8)) {
    case 0:
      return '__proto__';
    case 1:
      // Keys equal in their first MAX_KEY_CHARS units become one key once capped.
      return 'k'.repeat(MAX_KEY_CHARS) + randomText(rnd, 4);
    default:
      return randomText(rnd, MAX_KEY_CHARS);
  }
}

/**
 * Half the maps have every key below MAX_KEY_CHARS, so that no two keys become one when capped
 * (a test may then hold the map to JSON.stringify's bytes).
 */
export function randomAttributes(rnd: Random, maxChars: number): Record<string, unknown> {
  const count = rnd.pick([0, 1, 2, 5, MAX_METADATA_KEYS - 1, MAX_METADATA_KEYS, MAX_METADATA_KEYS + 1, rnd.int(MAX_METADATA_KEYS + 3)]);
  const keysBelowCap = rnd.chance(0.5);
  const attrs: Record<string, unknown> = {};
  for (let k = 0; k < count; k++) {
    const key = keysBelowCap ? randomText(rnd, MAX_KEY_CHARS, rnd.int(MAX_KEY_CHARS)) : randomKey(rnd);
    Object.defineProperty(attrs, key, { value: randomValue(rnd, maxChars), enumerable: true, writable: true, configurable: true });
  }
  return attrs;
}

function randomId(rnd: Random): string | Uint8Array | undefined {
  switch (rnd.int(5)) {
    case 0:
      return undefined;
    case 1:
      return Uint8Array.from({ length: 16 }, () => rnd.int(256));
    case 2:
      // Malformed: the recorder treats it as absent.
      return rnd.pick(['', 'xyz', '0'.repeat(32), 'ABCDEF'.repeat(6).slice(0, 31)]);
    default:
      return Array.from({ length: 32 }, () => '0123456789abcdef'[rnd.int(16)]).join('');
  }
}

function optional<T>(rnd: Random, make: () => T): T | undefined {
  return rnd.chance(0.5) ? make() : undefined;
}

/** A wall-clock start, at the edges of the integer forms sometimes. */
function randomUnixMs(rnd: Random): number {
  return rnd.chance(0.7) ? T0 + rnd.int(1e9) + rnd.pick([0, 0, 0.25, 0.5, 0.4999, 0.5001]) : randomNumber(rnd);
}

export function randomSpanInput(rnd: Random): SpanInput {
  const input: SpanInput = { workflow: randomText(rnd, MAX_NAME_CHARS) };
  const operation = optional(rnd, () => randomText(rnd, MAX_NAME_CHARS));
  if (operation !== undefined) input.operation = operation;
  const traceId = randomId(rnd);
  if (traceId !== undefined) input.traceId = traceId;
  const spanId = randomId(rnd);
  if (spanId !== undefined) input.spanId = spanId;
  if (rnd.chance(0.6)) input.parentSpanId = rnd.chance(0.2) ? null : randomId(rnd) ?? null;
  const status = rnd.pick([undefined, 'succeeded', 'failed', 'started'] as const);
  if (status !== undefined) input.status = status;
  if (rnd.chance(0.5)) {
    input.startedAt = randomUnixMs(rnd);
    if (rnd.chance(0.8)) input.durationMs = rnd.chance(0.7) ? rnd.next() * 10 ** rnd.int(7) : randomNumber(rnd);
  } else {
    // performance.now() readings of this thread, given so that a seed reproduces the same span.
    input.startTime = rnd.next() * 1e7;
    input.endTime = input.startTime + rnd.pick([0, 0.0004, 0.0005, 1.0005, rnd.next() * 1e5, -1]);
  }
  if (rnd.chance(0.5)) input.errorType = rnd.chance(0.2) ? '' : randomText(rnd, MAX_ERROR_TYPE_CHARS);
  if (rnd.chance(0.5)) input.errorMessage = rnd.chance(0.2) ? '' : randomText(rnd, MAX_ERROR_MESSAGE_CHARS);
  if (rnd.chance(0.6)) input.metadata = randomAttributes(rnd, MAX_METADATA_STRING_CHARS);
  if (rnd.chance(0.4)) input.capturedParams = randomAttributes(rnd, MAX_CAPTURED_STRING_CHARS);
  return input;
}

export function randomEventInput(rnd: Random): EventInput {
  const input: EventInput = { name: nonEmptyText(rnd, MAX_NAME_CHARS) };
  if (rnd.chance(0.8)) input.type = rnd.chance(0.8) ? rnd.pick([...EVENT_TYPES]) : randomText(rnd, MAX_NAME_CHARS);
  if (rnd.chance(0.6)) input.message = randomText(rnd, MAX_ERROR_MESSAGE_CHARS);
  if (rnd.chance(0.3)) input.severity = randomText(rnd, MAX_SEVERITY_CHARS);
  if (rnd.chance(0.5)) input.workflow = randomText(rnd, MAX_NAME_CHARS);
  const traceId = randomId(rnd);
  if (traceId !== undefined) input.traceId = traceId;
  const spanId = randomId(rnd);
  if (spanId !== undefined) input.spanId = spanId;
  if (rnd.chance(0.9)) input.timestamp = randomUnixMs(rnd);
  if (rnd.chance(0.6)) input.metadata = randomAttributes(rnd, MAX_METADATA_STRING_CHARS);
  return input;
}
