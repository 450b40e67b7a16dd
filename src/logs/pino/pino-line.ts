/**
 * One pino line (NDJSON) → one wire log. pino's keys have fixed meanings; the rest of the line
 * is what the app bound or passed, and becomes `extra` within the wire's limits:
 *
 *   level (10 trace … 60 fatal) → level      msg (messageKey) → message    time → timestamp
 *   module, else name → module               err (errorKey), else error → error_type / error_message / stack
 *   trace_id, span_id (32 hex, pinoMixin) → trace_id, span_id
 *   pid, hostname → the batch's resource     v → dropped                   anything else → extra
 *
 * A serialized error's own fields (`code`, `errno`, …) go to extra as `err.code`; its stack is
 * made relative to the working directory like the agent's (the collector groups errors by it).
 */
import type { AppPaths } from '../../worker/log-records';
import { relativeStack } from '../../worker/log-records';
import { toAttributeValue } from '../../recorder/attributes';
import {
  MAX_ERROR_TYPE_CHARS,
  MAX_KEY_CHARS,
  MAX_LOG_MESSAGE_CHARS,
  MAX_LOG_STACK_CHARS,
  MAX_METADATA_KEYS,
  MAX_METADATA_STRING_CHARS,
  MAX_NAME_CHARS,
} from '../../ring/layout';
import type { WireAttributes, WireLog } from '../../wire/batch-codec';

/** What pino tells its transport about the logger (its PINO_CONFIG message). */
export interface PinoLineConfig {
  messageKey: string;
  errorKey: string;
  /** Level number → label, for custom levels; null: pino's defaults. */
  labels: Readonly<Record<string, string>> | null;
}

export const DEFAULT_PINO_LINE_CONFIG: PinoLineConfig = { messageKey: 'msg', errorKey: 'err', labels: null };

export interface PinoLine {
  log: WireLog;
  /** The logging process, when the line says (pino's `base`); null otherwise. */
  pid: number | null;
  host: string | null;
}

const HEX_ID = /^[0-9a-f]{32}$/i;
const LABELS: Record<string, WireLog['level']> = { trace: 'debug', debug: 'debug', info: 'info', warn: 'warn', error: 'error', fatal: 'fatal' };
/** A serialized error's fields that are the error itself, not extra about it. */
const ERROR_OWN_KEYS = new Set(['type', 'message', 'stack', 'name', 'aggregateErrors', 'raw']);

/** null when the line is not a JSON object (nothing pino writes). */
export function parsePinoLine(line: string, config: PinoLineConfig, paths: AppPaths): PinoLine | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  const log: WireLog = {
    timestamp: timestampOf(record['time']),
    level: levelOf(record['level'], config.labels),
    message: clip(textOf(record[config.messageKey] ?? ''), MAX_LOG_MESSAGE_CHARS),
    module: null,
    trace_id: null,
    span_id: null,
    extra: {},
    error_type: null,
    error_message: null,
    stack: null,
  };
  const extra = new ExtraWriter(log.extra);
  const errorKey = Object.hasOwn(record, config.errorKey) ? config.errorKey : Object.hasOwn(record, 'error') ? 'error' : null;
  let name: unknown;
  for (const key in record) {
    const field = record[key];
    if (key === 'level' || key === 'time' || key === 'pid' || key === 'hostname' || key === 'v' || key === config.messageKey) continue;
    if (key === errorKey) setError(log, field, extra, paths);
    else if (key === 'module' && typeof field === 'string') log.module = clip(field, MAX_NAME_CHARS);
    else if (key === 'name') name = field;
    else if ((key === 'trace_id' || key === 'span_id') && typeof field === 'string' && HEX_ID.test(field)) log[key] = field.toLowerCase();
    else extra.add(key, field);
  }
  if (name !== undefined) {
    if (log.module === null && typeof name === 'string') log.module = clip(name, MAX_NAME_CHARS);
    else extra.add('name', name);
  }
  const pid = record['pid'];
  const host = record['hostname'];
  return { log, pid: Number.isSafeInteger(pid) ? (pid as number) : null, host: typeof host === 'string' ? host : null };
}

/** Numbers by pino's scale (≤ 20 debug … ≥ 60 fatal), or by label for custom levels and formatters. */
export function levelOf(value: unknown, labels: PinoLineConfig['labels']): WireLog['level'] {
  if (typeof value === 'number') {
    const label = labels?.[value];
    if (label !== undefined && LABELS[label] !== undefined) return LABELS[label];
    if (value < 30) return 'debug';
    if (value < 40) return 'info';
    if (value < 50) return 'warn';
    if (value < 60) return 'error';
    return 'fatal';
  }
  if (typeof value === 'string') return LABELS[value.toLowerCase()] ?? 'info';
  return 'info';
}

function timestampOf(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.round(value);
  if (typeof value === 'string') {
    const parsed = Date.parse(value);
    if (!Number.isNaN(parsed)) return parsed;
  }
  return Date.now();
}

/** pino's err serializer gives {type, message, stack, aggregateErrors?, …own fields}; a string is a message. */
function setError(log: WireLog, value: unknown, extra: ExtraWriter, paths: AppPaths): void {
  if (value === null || value === undefined) return;
  if (typeof value !== 'object') {
    log.error_type = typeof value;
    log.error_message = clip(textOf(value), MAX_LOG_MESSAGE_CHARS);
    return;
  }
  const error = value as Record<string, unknown>;
  const type = typeof error['type'] === 'string' && error['type'] !== '' ? error['type'] : typeof error['name'] === 'string' && error['name'] !== '' ? error['name'] : 'Error';
  log.error_type = clip(type, MAX_ERROR_TYPE_CHARS);
  log.error_message = clip(typeof error['message'] === 'string' ? error['message'] : textOf(error['message'] ?? ''), MAX_LOG_MESSAGE_CHARS);
  let stack = typeof error['stack'] === 'string' && error['stack'] !== '' ? error['stack'] : null;
  const members = error['aggregateErrors'];
  if (stack !== null && Array.isArray(members)) {
    // As error-fields.ts writes an AggregateError's members, so both group alike.
    members.forEach((member, i) => {
      const memberStack = typeof member === 'object' && member !== null ? (member as { stack?: unknown }).stack : undefined;
      if (typeof memberStack === 'string') stack += `\n[errors[${i}] of ${members.length}] ${memberStack}`;
    });
  }
  log.stack = stack === null ? null : clip(relativeStack(stack, paths), MAX_LOG_STACK_CHARS);
  for (const key in error) if (!ERROR_OWN_KEYS.has(key)) extra.add(`err.${key}`, error[key]);
}

/** extra within the wire's limits: 32 keys of ≤ 128 chars; strings, numbers, booleans (else short JSON). */
class ExtraWriter {
  readonly #into: WireAttributes;
  #count = 0;

  constructor(into: WireAttributes) {
    this.#into = into;
  }

  add(key: string, value: unknown): void {
    if (this.#count === MAX_METADATA_KEYS || value === undefined) return;
    const attribute = toAttributeValue(value, MAX_METADATA_STRING_CHARS);
    const name = clip(key, MAX_KEY_CHARS);
    if (!Object.hasOwn(this.#into, name)) this.#count++;
    // Defined, not assigned: a line's "__proto__" key is data like any other.
    Object.defineProperty(this.#into, name, {
      value: typeof attribute === 'string' ? clip(attribute, MAX_METADATA_STRING_CHARS) : attribute,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  const attribute = toAttributeValue(value, MAX_LOG_MESSAGE_CHARS);
  return typeof attribute === 'string' ? attribute : String(attribute);
}

function clip(text: string, max: number): string {
  return text.length > max ? text.slice(0, max) : text;
}
