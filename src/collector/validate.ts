/**
 * Checks every record of a decrypted batch against SPEC §3 before anything is stored: a batch
 * with one bad record is refused whole (400), so a sender never has half a batch stored and
 * the rest retried. The first problem found is reported with its place (`spans[3].trace_id`),
 * the offending value (shortened; for strings that are only too long, their length, so no
 * captured value is echoed) and what the sender should do.
 *
 * Lengths are counted in code points, the way the Python SDK counts characters; a JS sender
 * that clips in UTF-16 units is therefore always within the limit.
 */
import { LOG_LEVELS } from '../wire/batch-codec';
import type { TelemetryBatch } from '../wire/batch-codec';
import type { MetricsBatch } from '../wire/metrics-batch';

export type ValidationResult = { ok: true; items: number } | { ok: false; error: string; hint: string };
type Failure = Extract<ValidationResult, { ok: false }>;
type Check = Failure | undefined;

export const HEX32 = /^[0-9a-f]{32}$/;
const HEX32_ANY_CASE = /^[0-9a-fA-F]{32}$/;
const QUERY_ID = /^[0-9a-f]{1,64}$/;

/**
 * The shortest trace id prefix the query API looks up: the 8 characters the dashboard shows.
 * Shorter ones would match many traces (16^7 ids share a 1-character prefix with 1 in 16).
 */
export const MIN_TRACE_ID_PREFIX = 8;
/** A trace id in full: shorter ones are prefixes. */
export const TRACE_ID_LENGTH = 32;

/** Ids in query URLs: lowercase hex, at most 64 characters (QUERY_API.md). */
export function isQueryId(id: string): boolean {
  return typeof id === 'string' && QUERY_ID.test(id);
}

export const LIMITS = {
  batchItems: 100_000,
  metricsEntries: 10_000,
  name: 256,
  errorType: 256,
  errorMessage: 1024,
  severity: 32,
  attributeKeys: 32,
  attributeKey: 128,
  metadataString: 1024,
  capturedString: 512,
  logMessage: 8192,
  logErrorMessage: 8192,
  logStack: 16_384,
  metricsCommand: 1024,
  cpuBasisPoints: 10_000,
} as const;

// 2000-01-01 and 2100-01-01 UTC: anything outside is a clock in seconds, µs, or garbage.
const MIN_UNIX_MS = 946_684_800_000;
const MAX_UNIX_MS = 4_102_444_800_000;

const SPAN_STATUSES = ['succeeded', 'failed', 'started'];
const EVENT_TYPES = [
  'info', 'warning', 'error', 'metric', 'custom',
  'workflow_started', 'workflow_completed', 'workflow_failed',
  'step_started', 'step_completed', 'step_failed', 'retry',
];
const ITEMS_KEY = { trace: 'spans', event: 'events', log: 'logs' } as const;

const HINT_ID = 'ids are 16 random bytes written as 32 lowercase hex characters (e.g. crypto.randomBytes(16).toString("hex"))';
const HINT_ID_UPPER = 'write ids in lowercase hex: uppercase hex is not accepted, so lowercase the id before sending';
const HINT_NAME = 'workflow and operation names are non-empty strings of at most 256 characters: clip or rename before sending';
const HINT_ERROR = 'error_type (at most 256 characters) and error_message (at most 1024) are strings or null: clip them before sending';
const HINT_ATTRS = 'metadata and captured_params are flat objects of at most 32 keys (keys at most 128 characters) whose values are strings, finite numbers or booleans: turn other values into short strings and clip long ones before sending';
const HINT_METRICS = 'metrics are unsigned integers (unix ms, bytes, µs, basis points 0-10000): check how the sender samples and encodes them';

export function validateTelemetryBatch(batch: TelemetryBatch, expectedSlug: string): ValidationResult {
  const b = batch as unknown as Record<string, unknown>;
  if (!isObject(b)) {
    return failAt('the batch', b, 'an object with "type", "project_slug" and its items', 'send the JSON or msgpack batch of SPEC §3');
  }
  const type = b['type'];
  if (type !== 'trace' && type !== 'event' && type !== 'log') {
    return failAt('type', type, '"trace", "event" or "log"', 'send the JSON or msgpack batch of SPEC §3');
  }
  if (b['project_slug'] !== expectedSlug) {
    return failAt('project_slug', b['project_slug'], `${JSON.stringify(expectedSlug)}, the project this batch was sent for`,
      "a batch's project_slug must be the slug of the API key it was sealed with (and of its X-Project-Slug header): send each project's telemetry with its own TERACRON_API_KEY");
  }
  const batchId = b['batch_id'];
  if (batchId !== undefined && batchId !== null && !(typeof batchId === 'string' && HEX32.test(batchId))) {
    return failAt('batch_id', batchId, '32 lowercase hex characters',
      typeof batchId === 'string' && HEX32_ANY_CASE.test(batchId) ? HINT_ID_UPPER : 'batch_id is optional; when sent it is 16 random bytes as 32 lowercase hex characters, the same on every retry of the batch');
  }
  const resourceProblem = checkResource(b['resource']);
  if (resourceProblem) return resourceProblem;

  const key = ITEMS_KEY[type];
  const items = b[key];
  if (!Array.isArray(items)) return failAt(key, items, `an array of ${type} records`, `a ${type} batch carries its records in "${key}"`);
  if (items.length > LIMITS.batchItems) {
    return fail(`${key} has ${items.length} items: expected at most ${LIMITS.batchItems}`, `split the batch: send at most ${LIMITS.batchItems} ${key} per request`);
  }
  const checkItem = type === 'trace' ? checkSpan : type === 'event' ? checkEvent : checkLog;
  for (let i = 0; i < items.length; i++) {
    const problem = checkItem(`${key}[${i}]`, items[i]);
    if (problem) return problem;
  }
  return { ok: true, items: items.length };
}

function checkSpan(at: string, s: unknown): Check {
  if (!isObject(s)) return failAt(at, s, 'a span object', 'each element of "spans" is a span object (SPEC §3)');
  return (
    id(`${at}.trace_id`, s['trace_id'], false) ??
    id(`${at}.span_id`, s['span_id'], false) ??
    id(`${at}.parent_span_id`, s['parent_span_id'], true) ??
    requiredText(`${at}.workflow`, s['workflow'], LIMITS.name, HINT_NAME) ??
    requiredText(`${at}.operation`, s['operation'], LIMITS.name, HINT_NAME) ??
    oneOf(`${at}.status`, s['status'], SPAN_STATUSES, 'a span is "started" while it runs, then "succeeded" or "failed"') ??
    unixMs(`${at}.started_at`, s['started_at']) ??
    duration(`${at}.duration_ms`, s['duration_ms']) ??
    optionalText(`${at}.error_type`, s['error_type'], LIMITS.errorType, HINT_ERROR) ??
    optionalText(`${at}.error_message`, s['error_message'], LIMITS.errorMessage, HINT_ERROR) ??
    attributes(`${at}.metadata`, s['metadata'], LIMITS.metadataString) ??
    attributes(`${at}.captured_params`, s['captured_params'], LIMITS.capturedString)
  );
}

function checkEvent(at: string, e: unknown): Check {
  if (!isObject(e)) return failAt(at, e, 'an event object', 'each element of "events" is an event object (SPEC §3)');
  return (
    oneOf(`${at}.event_type`, e['event_type'], EVENT_TYPES, 'send one of the event types of SPEC §3; use "custom" for anything else') ??
    requiredText(`${at}.name`, e['name'], LIMITS.name, 'an event needs a non-empty name of at most 256 characters') ??
    optionalText(`${at}.message`, e['message'], LIMITS.errorMessage, 'an event message is null or a string of at most 1024 characters: clip it before sending') ??
    optionalText(`${at}.severity`, e['severity'], LIMITS.severity, 'severity is a short word such as "info", "warning" or "error" (at most 32 characters), or may be left out') ??
    unixMs(`${at}.timestamp`, e['timestamp']) ??
    id(`${at}.trace_id`, e['trace_id'], true) ??
    id(`${at}.span_id`, e['span_id'], true) ??
    optionalText(`${at}.workflow`, e['workflow'], LIMITS.name, HINT_NAME) ??
    attributes(`${at}.metadata`, e['metadata'], LIMITS.metadataString)
  );
}

function checkLog(at: string, l: unknown): Check {
  if (!isObject(l)) return failAt(at, l, 'a log object', 'each element of "logs" is a log record object');
  const hint = 'error_type (at most 256 characters), error_message (at most 8192) and stack (at most 16384) are strings or null';
  return (
    unixMs(`${at}.timestamp`, l['timestamp']) ??
    oneOf(`${at}.level`, l['level'], LOG_LEVELS, 'log levels are debug, info, warn, error and fatal') ??
    text(`${at}.message`, l['message'], LIMITS.logMessage, false, 'a log message is a string of at most 8192 characters: clip it before sending') ??
    optionalText(`${at}.module`, l['module'], LIMITS.name, 'module is null or a string of at most 256 characters') ??
    id(`${at}.trace_id`, l['trace_id'], true) ??
    id(`${at}.span_id`, l['span_id'], true) ??
    attributes(`${at}.extra`, l['extra'], LIMITS.metadataString) ??
    optionalText(`${at}.error_type`, l['error_type'], LIMITS.errorType, hint) ??
    optionalText(`${at}.error_message`, l['error_message'], LIMITS.logErrorMessage, hint) ??
    optionalText(`${at}.stack`, l['stack'], LIMITS.logStack, hint)
  );
}

function checkResource(r: unknown): Check {
  if (r === undefined || r === null) return undefined;
  const hint = 'resource is optional; when sent it is an object { service, environment, host, pid, sdk: { name, version }, runtime: { name, version } }';
  if (!isObject(r)) return failAt('resource', r, 'an object', hint);
  let problem =
    optionalText('resource.service', r['service'], LIMITS.name, hint) ??
    optionalText('resource.environment', r['environment'], LIMITS.name, hint) ??
    optionalText('resource.host', r['host'], LIMITS.name, hint);
  if (problem) return problem;
  const pid = r['pid'];
  if (pid !== undefined && pid !== null && !(typeof pid === 'number' && Number.isSafeInteger(pid) && pid >= 0)) {
    return failAt('resource.pid', pid, 'a non-negative integer', hint);
  }
  for (const part of ['sdk', 'runtime']) {
    const value = r[part];
    if (value === undefined || value === null) continue;
    if (!isObject(value)) return failAt(`resource.${part}`, value, 'an object { name, version }', hint);
    problem = optionalText(`resource.${part}.name`, value['name'], LIMITS.name, hint) ?? optionalText(`resource.${part}.version`, value['version'], LIMITS.name, hint);
    if (problem) return problem;
  }
  return undefined;
}

// Index order is the protobuf field order; the first eight are the base schema, always present after decoding.
const METRIC_FIELDS = [
  'timestamp', 'heap_total', 'heap_used', 'rss', 'external', 'array_buffers', 'cpu_usage_pct',
  'event_loop_lag', 'uss', 'pss', 'vms', 'swap', 'pid', 'threads', 'event_loop_p50',
  'event_loop_p99', 'ppid', 'dropped_ring_full', 'dropped_send_failed', 'send_retries', 'metrics_dropped',
  'spooled', 'replayed', 'dropped_spool_full', 'spool_bytes',
] as const;
const BASE_METRIC_FIELDS = 8;

/** The times a collector keeps: from `earliest` (now less its retention) to `latest` (now plus skew). */
export interface TimeWindow {
  earliest: number;
  latest: number;
  /** Said in the refusal: how the window comes about. */
  why: string;
}

/**
 * Refuses a batch holding a time outside `window`, run after validation: the validator accepts
 * any time from 2000 to 2100, and a span dated 2001 would be stored only for the retention sweep
 * to delete it.
 */
export function checkTimeWindow(batch: TelemetryBatch | MetricsBatch, window: TimeWindow): ValidationResult {
  const [key, field, items] =
    'entries' in batch ? ['entries', 'timestamp', batch.entries] as const
    : batch.type === 'trace' ? ['spans', 'started_at', batch.spans] as const
    : batch.type === 'event' ? ['events', 'timestamp', batch.events] as const
    : ['logs', 'timestamp', batch.logs] as const;
  for (let i = 0; i < items.length; i++) {
    const time = (items[i] as unknown as Record<string, number>)[field]!;
    if (time < window.earliest || time > window.latest) {
      return fail(
        `${key}[${i}].${field} is ${new Date(time).toISOString()}: outside the times this collector keeps, ${new Date(window.earliest).toISOString()} to ${new Date(window.latest).toISOString()}`,
        `${window.why}; check the sender's clock, and send batches while they are recent`,
      );
    }
  }
  return { ok: true, items: items.length };
}

export function validateMetricsBatch(batch: MetricsBatch): ValidationResult {
  const b = batch as unknown as Record<string, unknown>;
  if (!isObject(b)) return failAt('the metrics batch', b, 'an object { entries, sdk_version, runtime_version }', 'send a protobuf MetricsBatch (SPEC §3)');
  const entries = b['entries'];
  if (!Array.isArray(entries)) return failAt('entries', entries, 'an array of metrics entries', 'send a protobuf MetricsBatch (SPEC §3)');
  if (entries.length > LIMITS.metricsEntries) {
    return fail(`entries has ${entries.length} items: expected at most ${LIMITS.metricsEntries}`, `split the batch: send at most ${LIMITS.metricsEntries} metrics entries per request`);
  }
  const problem =
    optionalText('sdk_version', b['sdk_version'], LIMITS.name, 'sdk_version is a version string of at most 256 characters') ??
    optionalText('runtime_version', b['runtime_version'], LIMITS.name, 'runtime_version is a version string of at most 256 characters');
  if (problem) return problem;
  for (let i = 0; i < entries.length; i++) {
    const entryProblem = checkMetricsEntry(`entries[${i}]`, entries[i]);
    if (entryProblem) return entryProblem;
  }
  return { ok: true, items: entries.length };
}

function checkMetricsEntry(at: string, e: unknown): Check {
  if (!isObject(e)) return failAt(at, e, 'a metrics entry', HINT_METRICS);
  for (let f = 0; f < METRIC_FIELDS.length; f++) {
    const field = METRIC_FIELDS[f]!;
    const value = e[field];
    if (value === undefined && f >= BASE_METRIC_FIELDS) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      return failAt(`${at}.${field}`, value, 'a non-negative integer', HINT_METRICS);
    }
  }
  const cpu = e['cpu_usage_pct'] as number;
  if (cpu > LIMITS.cpuBasisPoints) {
    return failAt(`${at}.cpu_usage_pct`, cpu, 'basis points from 0 to 10000', 'send CPU usage in basis points (100% = 10000), clamped to 10000');
  }
  return (
    unixMs(`${at}.timestamp`, e['timestamp']) ??
    optionalText(`${at}.command`, e['command'], LIMITS.metricsCommand, 'command is the process name, a string of at most 1024 characters')
  );
}

function id(path: string, value: unknown, nullable: boolean): Check {
  if (typeof value === 'string' && HEX32.test(value)) return undefined;
  if (nullable && (value === undefined || value === null)) return undefined;
  const expected = nullable ? 'null or 32 lowercase hex characters' : '32 lowercase hex characters';
  return failAt(path, value, expected, typeof value === 'string' && HEX32_ANY_CASE.test(value) ? HINT_ID_UPPER : HINT_ID);
}

function requiredText(path: string, value: unknown, max: number, hint: string): Check {
  return text(path, value, max, true, hint);
}

function text(path: string, value: unknown, max: number, nonEmpty: boolean, hint: string): Check {
  if (typeof value !== 'string' || (nonEmpty && value.length === 0)) {
    return failAt(path, value, `a ${nonEmpty ? 'non-empty ' : ''}string of at most ${max} characters`, hint);
  }
  return tooLong(path, value, max, hint);
}

function optionalText(path: string, value: unknown, max: number, hint: string): Check {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') return failAt(path, value, `null or a string of at most ${max} characters`, hint);
  return tooLong(path, value, max, hint);
}

function tooLong(path: string, value: string, max: number, hint: string): Check {
  if (value.length <= max) return undefined;
  const chars = codePoints(value);
  if (chars <= max) return undefined;
  return fail(`${path} is a ${chars}-character string: expected at most ${max} characters`, hint);
}

function oneOf(path: string, value: unknown, allowed: readonly string[], hint: string): Check {
  if (typeof value === 'string' && allowed.includes(value)) return undefined;
  return failAt(path, value, `one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`, hint);
}

function unixMs(path: string, value: unknown): Check {
  if (typeof value === 'number' && Number.isInteger(value) && value >= MIN_UNIX_MS && value < MAX_UNIX_MS) return undefined;
  const seconds = typeof value === 'number' && value >= MIN_UNIX_MS / 1000 && value < MAX_UNIX_MS / 1000;
  return failAt(path, value, 'an integer unix time in milliseconds between 2000-01-01 and 2100-01-01',
    seconds ? 'this looks like unix seconds: send milliseconds (seconds × 1000) as an integer' : 'send unix time in milliseconds as an integer (Math.round(Date.now()-style values))');
}

function duration(path: string, value: unknown): Check {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return undefined;
  return failAt(path, value, 'a finite number of milliseconds ≥ 0', 'duration_ms is the span\'s duration in milliseconds (0 while it is "started")');
}

function attributes(path: string, value: unknown, maxString: number): Check {
  // null is "none", like a missing key: the Python SDK sends it whenever nothing was captured.
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) return failAt(path, value, 'an object of string, number or boolean values', HINT_ATTRS);
  const keys = Object.keys(value);
  if (keys.length > LIMITS.attributeKeys) return fail(`${path} has ${keys.length} keys: expected at most ${LIMITS.attributeKeys}`, HINT_ATTRS);
  for (const key of keys) {
    const keyChars = key.length > LIMITS.attributeKey ? codePoints(key) : key.length;
    if (keyChars > LIMITS.attributeKey) {
      return fail(`${path} has the key ${describe(key)} of ${keyChars} characters: expected keys of at most ${LIMITS.attributeKey} characters`, HINT_ATTRS);
    }
    const at = `${path}[${describe(key)}]`;
    const v = value[key];
    if (typeof v === 'string') {
      const problem = tooLong(at, v, maxString, HINT_ATTRS);
      if (problem) return problem;
    } else if (!(typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))) {
      // Only the type is named: a captured value may be something its owner would not want echoed.
      return fail(`${at} is ${describeType(v)}: expected a string of at most ${maxString} characters, a finite number or a boolean`, HINT_ATTRS);
    }
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function codePoints(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

function fail(error: string, hint: string): Failure {
  return { ok: false, error, hint };
}

function failAt(path: string, value: unknown, expected: string, hint: string): Failure {
  return fail(`${path} is ${describe(value)}: expected ${expected}`, hint);
}

const PREVIEW_CHARS = 32;

function describe(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > PREVIEW_CHARS ? `${value.slice(0, PREVIEW_CHARS)}…` : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return describeType(value);
}

function describeType(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isFinite(value) ? 'a number' : String(value);
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
