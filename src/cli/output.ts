/**
 * What the query commands share: flag parsing that turns mistakes into usage errors (exit 2),
 * the split between human text (stderr) and `--json` (stdout) of SPEC §8, and `clean()`, which
 * every server-supplied string passes through before it reaches a terminal: a trace is written
 * by whatever ran the traced code, and an escape sequence in an operation name must not be
 * able to rewrite the screen.
 */
import { writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { MIN_TRACE_ID_PREFIX, TRACE_ID_LENGTH } from '../collector/validate';
import { TeracronConfigError, TeracronKeyError } from '../errors';

/** A mistake in the command line itself; exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The request could not be made or was answered with an error; exit code 1. */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  readonly status: number | null;

  constructor(message: string, status: number | null = null, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export const TARGET_OPTIONS = {
  domain: { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** parseArgs (strict by default); its errors (unknown flag, missing value) as UsageError. */
export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (cause) {
    throw new UsageError(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** Human output: stderr, so that `--json` on stdout stays one clean document. */
export function say(text: string): void {
  try {
    writeSync(2, text.endsWith('\n') ? text : `${text}\n`);
  } catch {
    // stderr closed: nothing more to do.
  }
}

/** One JSON document on stdout; resolves once it is handed to the OS (pipes may be async). */
export function printJson(value: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`, (err) => (err ? reject(err) : resolve()));
  });
}

/**
 * Runs a command body and maps what it throws to an exit code, printing one line that says
 * what went wrong. Config and key errors (a bad --domain, a malformed key, an unsafe
 * credentials file) count as usage: nothing was asked of the server.
 */
export async function runCommand(command: string, usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    const message = clean(err instanceof Error ? err.message : String(err));
    if (err instanceof UsageError) {
      say(`teracron ${command}: ${message}\n\nusage: ${usage}`);
      return EXIT_USAGE;
    }
    if (err instanceof TeracronConfigError || err instanceof TeracronKeyError) {
      say(`teracron ${command}: ${inFlagWords(message)}`);
      return EXIT_USAGE;
    }
    say(`teracron ${command}: ${message}`);
    return EXIT_FAILED;
  }
}

/** The library's names for settings that the commands take as flags. */
const FLAG_FOR_OPTION: Record<string, string> = { apiKey: '--api-key', domain: '--domain', intervalS: '--interval', service: '--service' };

/**
 * The library names a setting `option apiKey` and suggests `caFile / TERACRON_CA_FILE`; on the
 * command line the setting came from a flag (and a CA only from the variable), so a message
 * about it names what a person can type.
 */
export function inFlagWords(message: string): string {
  return message
    .replace(/\boption (apiKey|domain|intervalS|service)\b/g, (text, option: string) => FLAG_FOR_OPTION[option] ?? text)
    .replace(/\bcaFile \/ TERACRON_CA_FILE\b/g, 'TERACRON_CA_FILE');
}

// C0 controls except tab and newline, DEL, C1 controls, and the bidi overrides that can make
// text read differently from what it is.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** A string that is safe to write to a terminal: control characters shown as \uXXXX. */
export function clean(text: string): string {
  return text.replace(UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One line for a table cell: cleaned, newlines flattened, cut to `max` characters. */
export function cell(value: unknown, max = 60): string {
  if (value === null || value === undefined || value === '') return '-';
  const text = clean(String(value).replace(/[\r\n\u2028\u2029\t]+/g, ' '));
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((text, i) => (i === cells.length - 1 ? text : text.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function formatDuration(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '-';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Unix ms as `2024-05-01 12:00:03Z`; anything else as `-`. */
export function formatTime(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '-';
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return '-';
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

const HEX_ID = /^[0-9a-f]{1,64}$/;

/** Trace and span ids as QUERY_API.md accepts them; checked before any request. */
export function checkHexId(value: string | undefined, what: string): string {
  if (value === undefined || value === '') throw new UsageError(`the ${what} is missing.`);
  if (HEX_ID.test(value)) return value;
  if (HEX_ID.test(value.toLowerCase())) {
    throw new UsageError(`the ${what} ${JSON.stringify(clean(value))} has upper-case letters: ids are lowercase hex (try ${value.toLowerCase()}).`);
  }
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  throw new UsageError(`the ${what} ${JSON.stringify(clean(shown))} is not an id: ids are lowercase hex (0-9, a-f), at most 64 characters.`);
}

/**
 * A trace id for the query API: lowercase hex, whole (32) or its first 8 or more characters,
 * which the collector resolves to the one trace they start (the dashboard shows 8).
 */
export function checkTraceId(value: string | undefined): string {
  const id = checkHexId(value, 'trace id');
  if (id.length < MIN_TRACE_ID_PREFIX) {
    throw new UsageError(
      `the trace id ${JSON.stringify(id)} has ${id.length} character${id.length === 1 ? '' : 's'}: give at least ${MIN_TRACE_ID_PREFIX} (the dashboard shows the first ${MIN_TRACE_ID_PREFIX}) or the whole ${TRACE_ID_LENGTH}.`,
    );
  }
  return id;
}

/** The whole id the API answered with (a prefix was asked for), else the one asked for. */
export function answeredTraceId(body: unknown, asked: string): string {
  const id = (body as { trace_id?: unknown } | null)?.trace_id;
  return typeof id === 'string' && HEX_ID.test(id) ? id : asked;
}
