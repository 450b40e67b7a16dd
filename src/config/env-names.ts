/**
 * Every TERACRON_* environment variable the product reads, in one place, so that one it does
 * not read (TERACRON_SAMPLE_RATE for TERACRON_TRACE_SAMPLE_RATE) is named in a warning instead of
 * silently doing nothing. test/config/env-names.test.ts checks this list against every
 * TERACRON_ name in src/, both ways: a new variable cannot be forgotten here, nor a removed one
 * kept.
 */
import { closestName } from './closest';
import type { Env } from './env';

const PREFIX = 'TERACRON_';

export const KNOWN_ENV_NAMES: readonly string[] = [
  // The agent's settings (resolve.ts; README "Configuration").
  'TERACRON_API_KEY', 'TERACRON_DOMAIN', 'TERACRON_INTERVAL', 'TERACRON_MAX_BUFFER', 'TERACRON_FLUSH_DEADLINE',
  'TERACRON_TIMEOUT', 'TERACRON_DEBUG', 'TERACRON_TARGET_PID', 'TERACRON_MONITOR_CHILDREN', 'TERACRON_METRICS_ENABLED',
  'TERACRON_TRACING_ENABLED', 'TERACRON_TRACE_BATCH_SIZE', 'TERACRON_TRACE_FLUSH_INTERVAL', 'TERACRON_TRACE_SAMPLE_RATE',
  'TERACRON_TRACE_EMIT_EVENTS', 'TERACRON_SERVICE', 'TERACRON_ENVIRONMENT', 'TERACRON_HTTP_WORKFLOW',
  'TERACRON_WIRE_FORMAT', 'TERACRON_CA_FILE', 'TERACRON_EXIT_TIMEOUT_MS', 'TERACRON_RING_BYTES',
  'TERACRON_MAX_SEND_ATTEMPTS', 'TERACRON_SPOOL', 'TERACRON_SPOOL_DIR', 'TERACRON_SPOOL_MAX_BYTES',
  'TERACRON_LOG_LEVEL', 'TERACRON_CAPTURE_CONSOLE',
  // Read elsewhere: config/domain.ts, cli/credentials.ts, process/active.ts, tracing/context.ts,
  // collector/store-location.ts (the collector's store, not an agent setting).
  'TERACRON_ALLOW_CUSTOM_DOMAIN', 'TERACRON_HOME', 'TERACRON_PROCESS_READER', 'TERACRON_PORTABLE_CONTEXT',
  'TERACRON_STORE',
  // Tests only: makes the worker die for real (worker/test-crash.ts), to prove the restart.
  'TERACRON_TEST_WORKER_CRASH', 'TERACRON_TEST_WORKER_CRASH_AT',
];

const KNOWN = new Set(KNOWN_ENV_NAMES);

/**
 * One warning per TERACRON_* variable in `env` that nothing reads, naming the likely intended
 * one. The prefix is matched in any case: `teracron_debug` is ignored on Linux, where names are
 * case-sensitive, and deserves the warning too (on Windows it is read, so it is not flagged).
 */
export function unknownEnvWarnings(env: Env, platform: NodeJS.Platform = process.platform): string[] {
  const warnings: string[] = [];
  for (const name of Object.keys(env)) {
    const upper = name.toUpperCase();
    if (!upper.startsWith(PREFIX) || KNOWN.has(platform === 'win32' ? upper : name)) continue;
    const meant = closestName(name.slice(PREFIX.length), KNOWN_ENV_NAMES.map((known) => known.slice(PREFIX.length)));
    warnings.push(
      `${name} is set but teracron does not read it, so it has no effect: ` +
        (meant === undefined ? 'check its spelling against the Configuration table of the README.' : `did you mean ${PREFIX}${meant}?`),
    );
  }
  return warnings;
}
