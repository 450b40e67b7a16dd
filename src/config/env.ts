/**
 * Reading one setting from an option or its environment variable. The option wins when it is
 * not `undefined`. Environment text is parsed strictly: a typo must fail loudly at start-up
 * instead of silently turning into a default, because the agent is otherwise invisible.
 */
import { TeracronConfigError } from '../errors';

export type Env = NodeJS.ProcessEnv;

/** A raw value and where it came from, so messages can name the exact thing to fix. */
export interface Source {
  raw: unknown;
  fromEnv: boolean;
  /** `TERACRON_INTERVAL` or `option intervalS`. */
  name: string;
}

export function pick(optionName: string, optionValue: unknown, envName: string, env: Env): Source | undefined {
  if (optionValue !== undefined) return { raw: optionValue, fromEnv: false, name: `option ${optionName}` };
  const text = env[envName];
  // `VAR=` (common in compose files and shell scripts) means "not set", not "invalid".
  if (text === undefined || text.trim() === '') return undefined;
  return { raw: text, fromEnv: true, name: envName };
}

/** A value as a person would write it back: strings quoted and cut short, objects by kind. */
export function show(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** `TERACRON_DEBUG="maybe"` / `option debug="maybe"`. */
export function where(source: Source): string {
  return `${source.name}=${show(source.raw)}`;
}

function unsetHint(source: Source): string {
  return source.fromEnv ? 'unset it' : 'leave it out';
}

export interface NumberRule {
  option: string;
  env: string;
  fallback: number;
  min: number;
  max: number;
  unit: string;
  /** Counts are whole numbers: fractions are rounded (with a warning). */
  integer?: boolean;
}

// Decimal only: Number() would also take '0x1f', '0b1' and '' (as 0), none of which a person
// setting an interval means.
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** Strict number parsing for environment text; `undefined` when it is not a finite decimal. */
export function parseNumberText(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DECIMAL.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}

function describeRange(rule: NumberRule): string {
  return `${rule.integer ? 'a whole number' : 'a number'} from ${rule.min} to ${rule.max} (${rule.unit})`;
}

/**
 * Reads, clamps and (for counts) rounds a number. Out-of-range values are not fatal: the
 * agent runs with the nearest allowed value and says so in `warnings`.
 */
export function readNumber(rule: NumberRule, optionValue: unknown, env: Env, warnings: string[]): number {
  const source = pick(rule.option, optionValue, rule.env, env);
  if (source === undefined) return rule.fallback;

  let parsed: number | undefined;
  if (typeof source.raw === 'number') parsed = Number.isFinite(source.raw) ? source.raw : undefined;
  else if (typeof source.raw === 'string') parsed = parseNumberText(source.raw);
  if (parsed === undefined) {
    throw new TeracronConfigError(
      `${where(source)} is not a finite number: use ${describeRange(rule)}, or ${unsetHint(source)} for the default ${rule.fallback}.`,
    );
  }

  const rounded = rule.integer ? Math.round(parsed) : parsed;
  const clamped = Math.min(rule.max, Math.max(rule.min, rounded)) || 0; // `|| 0` folds -0 into 0
  const written = `${source.name}=${typeof source.raw === 'string' ? source.raw.trim() : String(source.raw)}`;
  if (rounded < rule.min) {
    warnings.push(`${written} is below the minimum ${rule.min}; using ${clamped}.`);
  } else if (rounded > rule.max) {
    warnings.push(`${written} is above the maximum ${rule.max}; using ${clamped}.`);
  } else if (rounded !== parsed) {
    warnings.push(`${written} is not a whole number (${rule.unit}); using ${clamped}.`);
  }
  return clamped;
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off']);

/** `undefined` when the text is none of 1/0, true/false, yes/no, on/off (any case). */
export function parseBooleanText(text: string): boolean | undefined {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}

export function readBoolean(option: string, optionValue: unknown, envName: string, env: Env, fallback: boolean): boolean {
  const source = pick(option, optionValue, envName, env);
  if (source === undefined) return fallback;
  if (typeof source.raw === 'boolean') return source.raw;
  const parsed = typeof source.raw === 'string' ? parseBooleanText(source.raw) : undefined;
  if (parsed === undefined) {
    throw new TeracronConfigError(
      `${where(source)} is not a boolean: use one of 1/0, true/false, yes/no, on/off (any case), or ${unsetHint(source)} for the default ${fallback}.`,
    );
  }
  return parsed;
}

/**
 * A free-form string setting, trimmed. Empty counts as not set, so `VAR=` in a compose file
 * falls back to the default rather than producing an empty service name.
 */
export function readString(option: string, optionValue: unknown, envName: string, env: Env): { value: string; source: Source } | undefined {
  if (optionValue !== undefined && optionValue !== null && typeof optionValue !== 'string') {
    throw new TeracronConfigError(`option ${option}=${show(optionValue)} is not a string: pass a string or leave it out.`);
  }
  const optionText = typeof optionValue === 'string' ? optionValue.trim() : '';
  if (optionText !== '') return { value: optionText, source: { raw: optionValue, fromEnv: false, name: `option ${option}` } };
  const envText = env[envName]?.trim() ?? '';
  if (envText !== '') return { value: envText, source: { raw: env[envName], fromEnv: true, name: envName } };
  return undefined;
}

/** One of a fixed set of words, compared case-insensitively. */
export function readChoice<T extends string>(
  option: string,
  optionValue: unknown,
  envName: string,
  env: Env,
  choices: readonly T[],
  fallback: T,
): T {
  const found = readString(option, optionValue, envName, env);
  if (found === undefined) return fallback;
  const word = found.value.toLowerCase();
  const match = choices.find((choice) => choice === word);
  if (match === undefined) {
    throw new TeracronConfigError(
      `${where(found.source)} is not supported: use ${choices.map((c) => `"${c}"`).join(' or ')}, or ${unsetHint(found.source)} for the default "${fallback}".`,
    );
  }
  return match;
}
