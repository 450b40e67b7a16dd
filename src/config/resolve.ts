/**
 * Options + environment → one validated, frozen config. Everything that can be wrong with a
 * setting is found here, at start-up, with a message that names the setting, its value and
 * the fix; the rest of the agent trusts the result and never re-validates.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { TeracronConfigError } from '../errors';
import { decodeApiKey } from '../wire/api-key';
import { LOG_LEVELS } from '../wire/batch-codec';
import { loadPublicKey } from '../wire/envelope';
import { closestName } from './closest';
import { defaultSpoolDir } from './spool-dir';
import { DEFAULT_DOMAIN, parseDomain } from './domain';
import { unknownEnvWarnings } from './env-names';
import { parseNumberText, pick, readBoolean, readChoice, readNumber, readString, show, where } from './env';
import type { Env, NumberRule } from './env';
import type { LogLevel, TeracronOptions, TracingScrubber, WireFormat } from './options';

export interface TeracronConfig {
  readonly apiKey: string;
  readonly slug: string;
  readonly publicKeyPem: string;
  readonly publicKey: KeyObject;
  readonly baseUrl: string;
  readonly domain: string;
  readonly intervalS: number;
  readonly maxBufferSize: number;
  readonly flushDeadlineS: number;
  readonly timeoutS: number;
  readonly debug: boolean;
  /** `null`: sample the current process. */
  readonly targetPid: number | null;
  readonly monitorChildren: boolean;
  readonly metricsEnabled: boolean;
  readonly tracingEnabled: boolean;
  readonly traceBatchSize: number;
  readonly traceFlushIntervalS: number;
  readonly traceSampleRate: number;
  readonly tracingScrubber: TracingScrubber | undefined;
  readonly traceEmitEvents: boolean;
  readonly service: string;
  readonly environment: string;
  readonly httpWorkflow: string;
  readonly wireFormat: WireFormat;
  readonly caFile: string | null;
  readonly caPem: string | null;
  readonly exitTimeoutMs: number;
  readonly ringBytes: number;
  readonly maxSendAttempts: number;
  /** Where undeliverable batches are kept (spool-dir.ts); null when the spool is off. */
  readonly spoolDir: string | null;
  readonly spoolMaxBytes: number;
  /** Logs below this level are not recorded (`log.debug` and friends, console capture, crashes). */
  readonly logLevel: LogLevel;
  /** console.* calls are also recorded as logs (console-capture.ts). */
  readonly captureConsole: boolean;
  /** Values that were clamped or rounded, and ignored options, for the caller to print. */
  readonly warnings: readonly string[];
}

export const DEFAULT_SERVICE = 'node-app';
export const DEFAULT_ENVIRONMENT = 'production';
export const DEFAULT_HTTP_WORKFLOW = 'http';
export const WIRE_FORMATS: readonly WireFormat[] = ['json', 'msgpack'];

export const NUMBER_RULES = {
  intervalS: { option: 'intervalS', env: 'TERACRON_INTERVAL', fallback: 10, min: 5, max: 300, unit: 'seconds' },
  maxBufferSize: { option: 'maxBufferSize', env: 'TERACRON_MAX_BUFFER', fallback: 10, min: 1, max: 1000, unit: 'snapshots', integer: true },
  flushDeadlineS: { option: 'flushDeadlineS', env: 'TERACRON_FLUSH_DEADLINE', fallback: 60, min: 10, max: 600, unit: 'seconds' },
  timeoutS: { option: 'timeoutS', env: 'TERACRON_TIMEOUT', fallback: 10, min: 2, max: 30, unit: 'seconds' },
  traceBatchSize: { option: 'traceBatchSize', env: 'TERACRON_TRACE_BATCH_SIZE', fallback: 100, min: 1, max: 10000, unit: 'spans', integer: true },
  traceFlushInterval: { option: 'traceFlushInterval', env: 'TERACRON_TRACE_FLUSH_INTERVAL', fallback: 10, min: 1, max: 300, unit: 'seconds' },
  traceSampleRate: { option: 'traceSampleRate', env: 'TERACRON_TRACE_SAMPLE_RATE', fallback: 1, min: 0, max: 1, unit: 'fraction of traces' },
  exitTimeoutMs: { option: 'exitTimeoutMs', env: 'TERACRON_EXIT_TIMEOUT_MS', fallback: 2000, min: 0, max: 30000, unit: 'milliseconds' },
  ringBytes: { option: 'ringBytes', env: 'TERACRON_RING_BYTES', fallback: 8 * 1024 * 1024, min: 4096, max: 256 * 1024 * 1024, unit: 'bytes', integer: true },
  maxSendAttempts: { option: 'maxSendAttempts', env: 'TERACRON_MAX_SEND_ATTEMPTS', fallback: 5, min: 1, max: 20, unit: 'attempts', integer: true },
  spoolMaxBytes: { option: 'spoolMaxBytes', env: 'TERACRON_SPOOL_MAX_BYTES', fallback: 256 * 1024 * 1024, min: 1024 * 1024, max: 64 * 1024 * 1024 * 1024, unit: 'bytes', integer: true },
} as const satisfies Record<string, NumberRule>;

// A Record over keyof makes the compiler insist this list follows TeracronOptions.
const KNOWN_OPTIONS: Record<keyof TeracronOptions, true> = {
  apiKey: true, domain: true, intervalS: true, maxBufferSize: true, flushDeadlineS: true, timeoutS: true,
  debug: true, targetPid: true, monitorChildren: true, metricsEnabled: true, tracingEnabled: true, traceBatchSize: true, traceFlushInterval: true,
  traceSampleRate: true, tracingScrubber: true, traceEmitEvents: true, service: true, environment: true, httpWorkflow: true,
  wireFormat: true, caFile: true, exitTimeoutMs: true, ringBytes: true, maxSendAttempts: true,
  spool: true, spoolDir: true, spoolMaxBytes: true, logLevel: true, captureConsole: true,
};

export function resolveConfig(options: TeracronOptions = {}, env: Env = process.env): TeracronConfig {
  if (options === null) options = {};
  if (typeof options !== 'object') {
    throw new TeracronConfigError(`The options are ${show(options)}, not an object: pass an object such as { apiKey: "tcn_…" }, or nothing to read the environment.`);
  }
  const warnings: string[] = [];
  for (const name of Object.keys(options)) {
    if (!Object.hasOwn(KNOWN_OPTIONS, name)) {
      const meant = closestName(name, Object.keys(KNOWN_OPTIONS));
      warnings.push(`option ${name} is not a teracron option and was ignored; ${meant === undefined ? 'check its spelling.' : `did you mean ${meant}?`}`);
    }
  }
  warnings.push(...unknownEnvWarnings(env));

  const key = resolveKey(options, env);
  const domain = readString('domain', options.domain, 'TERACRON_DOMAIN', env);
  const endpoint = domain === undefined ? parseDomain(DEFAULT_DOMAIN, env) : parseDomain(domain.value, env, domain.source.name);
  const number = (rule: NumberRule, value: unknown): number => readNumber(rule, value, env, warnings);
  const ca = resolveCa(options, env);

  return Object.freeze({
    ...key,
    baseUrl: endpoint.baseUrl,
    domain: endpoint.domain,
    intervalS: number(NUMBER_RULES.intervalS, options.intervalS),
    maxBufferSize: number(NUMBER_RULES.maxBufferSize, options.maxBufferSize),
    flushDeadlineS: number(NUMBER_RULES.flushDeadlineS, options.flushDeadlineS),
    timeoutS: number(NUMBER_RULES.timeoutS, options.timeoutS),
    debug: readBoolean('debug', options.debug, 'TERACRON_DEBUG', env, false),
    targetPid: resolveTargetPid(options, env),
    monitorChildren: readBoolean('monitorChildren', options.monitorChildren, 'TERACRON_MONITOR_CHILDREN', env, false),
    metricsEnabled: readBoolean('metricsEnabled', options.metricsEnabled, 'TERACRON_METRICS_ENABLED', env, true),
    tracingEnabled: readBoolean('tracingEnabled', options.tracingEnabled, 'TERACRON_TRACING_ENABLED', env, true),
    traceBatchSize: number(NUMBER_RULES.traceBatchSize, options.traceBatchSize),
    traceFlushIntervalS: number(NUMBER_RULES.traceFlushInterval, options.traceFlushInterval),
    traceSampleRate: number(NUMBER_RULES.traceSampleRate, options.traceSampleRate),
    tracingScrubber: resolveScrubber(options.tracingScrubber),
    traceEmitEvents: readBoolean('traceEmitEvents', options.traceEmitEvents, 'TERACRON_TRACE_EMIT_EVENTS', env, false),
    service: readString('service', options.service, 'TERACRON_SERVICE', env)?.value ?? findPackageName() ?? DEFAULT_SERVICE,
    environment: readString('environment', options.environment, 'TERACRON_ENVIRONMENT', env)?.value ?? DEFAULT_ENVIRONMENT,
    httpWorkflow: readString('httpWorkflow', options.httpWorkflow, 'TERACRON_HTTP_WORKFLOW', env)?.value ?? DEFAULT_HTTP_WORKFLOW,
    wireFormat: readChoice('wireFormat', options.wireFormat, 'TERACRON_WIRE_FORMAT', env, WIRE_FORMATS, 'msgpack'),
    caFile: ca.caFile,
    caPem: ca.caPem,
    exitTimeoutMs: number(NUMBER_RULES.exitTimeoutMs, options.exitTimeoutMs),
    ringBytes: resolveRingBytes(options, env, warnings),
    maxSendAttempts: number(NUMBER_RULES.maxSendAttempts, options.maxSendAttempts),
    spoolDir: readBoolean('spool', options.spool, 'TERACRON_SPOOL', env, true)
      ? (readString('spoolDir', options.spoolDir, 'TERACRON_SPOOL_DIR', env)?.value ?? defaultSpoolDir(key.slug, env))
      : null,
    spoolMaxBytes: number(NUMBER_RULES.spoolMaxBytes, options.spoolMaxBytes),
    logLevel: readChoice('logLevel', options.logLevel, 'TERACRON_LOG_LEVEL', env, LOG_LEVELS, 'info'),
    captureConsole: readBoolean('captureConsole', options.captureConsole, 'TERACRON_CAPTURE_CONSOLE', env, false),
    warnings: Object.freeze(warnings),
  });
}

function resolveKey(options: TeracronOptions, env: Env): Pick<TeracronConfig, 'apiKey' | 'slug' | 'publicKeyPem' | 'publicKey'> {
  const found = readString('apiKey', options.apiKey, 'TERACRON_API_KEY', env);
  if (found === undefined) {
    throw new TeracronConfigError(
      'TERACRON_API_KEY is not set and no apiKey option was given: pass { apiKey: "tcn_…" } or set the variable to your project\'s key; `teracron keygen` makes one.',
    );
  }
  const apiKey = found.value;
  try {
    const { slug, publicKeyPem } = decodeApiKey(apiKey);
    return { apiKey, slug, publicKeyPem, publicKey: loadPublicKey(publicKeyPem) };
  } catch (cause) {
    // The key is public, but a prefix is enough to tell which key was read without filling logs.
    const prefix = apiKey.length > 8 ? `${apiKey.slice(0, 8)}…` : apiKey;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new TeracronConfigError(`The API key from ${found.source.name} ("${prefix}") cannot be used. ${reason}`, { cause });
  }
}

function resolveTargetPid(options: TeracronOptions, env: Env): number | null {
  // An explicit null means "this process" and, like any option, wins over the variable.
  if (options.targetPid === null) return null;
  const source = pick('targetPid', options.targetPid, 'TERACRON_TARGET_PID', env);
  if (source === undefined) return null;
  const value = typeof source.raw === 'number' ? source.raw : typeof source.raw === 'string' ? parseNumberText(source.raw) : undefined;
  // Not rounded like other counts: a pid off by a fraction is a different, wrong process.
  if (value === undefined || !Number.isInteger(value) || value < 1 || value > 0x7fffffff) {
    throw new TeracronConfigError(
      `${where(source)} is not a process id: use a positive whole number (the pid of the process to watch), or ${source.fromEnv ? 'unset it' : 'leave it out'} to watch this process.`,
    );
  }
  return value;
}

function resolveScrubber(value: unknown): TracingScrubber | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'function') {
    throw new TeracronConfigError(
      `option tracingScrubber=${show(value)} is not a function: pass (data) => data (it gets a shallow copy and returns what to keep), or leave it out.`,
    );
  }
  return value as TracingScrubber;
}

/** Rounded up to a power of two so the ring can wrap offsets with a mask instead of a modulo. */
function resolveRingBytes(options: TeracronOptions, env: Env, warnings: string[]): number {
  const rule = NUMBER_RULES.ringBytes;
  const bytes = readNumber(rule, options.ringBytes, env, warnings);
  let size = rule.min;
  while (size < bytes) size *= 2;
  if (size !== bytes) {
    const source = pick(rule.option, options.ringBytes, rule.env, env);
    warnings.push(`${source?.name ?? rule.env}=${bytes} is not a power of two; using ${size}.`);
  }
  return size;
}

const ERRNO_HINTS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a parent is not a directory',
};

function resolveCa(options: TeracronOptions, env: Env): { caFile: string | null; caPem: string | null } {
  const found = readString('caFile', options.caFile, 'TERACRON_CA_FILE', env);
  if (found === undefined) return { caFile: null, caPem: null };
  const path = found.value;
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'unknown error';
    const hint = ERRNO_HINTS[code];
    throw new TeracronConfigError(
      `${found.source.name} points to ${JSON.stringify(path)}, which cannot be read (${code}${hint ? `: ${hint}` : ''}): give the path of a PEM CA certificate this process can read, or unset it to trust only the system CAs.`,
      { cause },
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new TeracronConfigError(
      `${found.source.name} points to ${JSON.stringify(path)}, which holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" line): give the collector's CA certificate in PEM form (a DER file converts with \`openssl x509 -inform der -in ca.der -out ca.pem\`).`,
    );
  }
  return { caFile: path, caPem: pem };
}

/**
 * The `name` of the nearest package.json at or above `startDir`. A package.json without a
 * name (e.g. a nested `{"type":"module"}`) is skipped, since it does not name the service.
 */
export function findPackageName(startDir?: string): string | undefined {
  let dir: string;
  try {
    dir = resolvePath(startDir ?? process.cwd());
  } catch {
    return undefined; // the working directory was deleted under us
  }
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown } | null;
      if (typeof pkg?.name === 'string' && pkg.name.trim() !== '') return pkg.name.trim();
    } catch {
      // missing or unreadable: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
