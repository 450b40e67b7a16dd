/**
 * What `teracron run` and `teracron-agent` share: an agent client that samples another process
 * (and, if asked, its descendants) instead of its own, and a cheap check that the watched
 * process is still the same one.
 */
import { writeSync } from 'node:fs';
import { TeracronClient } from '../client';
import { NUMBER_RULES } from '../config/resolve';
import { TeracronConfigError, TeracronProcessError } from '../errors';
import { readProcess } from '../process';
import { readStartTime } from '../process/fallback';
import { inFlagWords } from './output';

export interface MonitorFlags {
  'api-key'?: string | undefined;
  domain?: string | undefined;
  interval?: string | undefined;
  service?: string | undefined;
  debug?: boolean | undefined;
}

/** Flags both commands take, for node:util parseArgs. */
export const MONITOR_OPTIONS = {
  'api-key': { type: 'string' },
  domain: { type: 'string' },
  interval: { type: 'string' },
  service: { type: 'string' },
  debug: { type: 'boolean' },
} as const;

/**
 * Starts sampling `pid`. A configuration problem (no key, say) is reported and gives null, so
 * that `teracron run` still runs the command: monitoring must never stop the work itself.
 */
export function startMonitor(command: string, pid: number, children: boolean, flags: MonitorFlags, env: NodeJS.ProcessEnv = process.env): TeracronClient | null {
  try {
    checkFlags(flags, env);
    return new TeracronClient({
      ...(flags['api-key'] !== undefined ? { apiKey: flags['api-key'] } : {}),
      ...(flags.domain !== undefined ? { domain: flags.domain } : {}),
      ...(flags.interval !== undefined ? { intervalS: Number(flags.interval) } : {}),
      ...(flags.service !== undefined ? { service: flags.service } : {}),
      ...(flags.debug ? { debug: true } : {}),
      targetPid: pid,
      monitorChildren: children,
      // A sidecar records no spans of its own.
      tracingEnabled: false,
    }).start();
  } catch (err) {
    if (!(err instanceof TeracronConfigError)) throw err;
    writeSync(2, `${command}: not monitoring process ${pid}: ${inFlagWords(err.message)}\n`);
    return null;
  }
}

/**
 * What the library would word for `up()`, checked here first and said for the command line:
 * the missing key, and an --interval the library would quietly clamp (with a warning naming
 * `option intervalS`), which on a command line is a typo worth refusing.
 */
function checkFlags(flags: MonitorFlags, env: NodeJS.ProcessEnv): void {
  const flagKey = flags['api-key']?.trim() ?? '';
  const envKey = env.TERACRON_API_KEY?.trim() ?? '';
  if (flagKey === '' && envKey === '') {
    throw new TeracronConfigError(
      `no API key: pass --api-key tcn_… or set TERACRON_API_KEY to your project's key (\`teracron keygen --dir <dir>\` makes one for your own collector).`,
    );
  }
  if (flags.interval !== undefined) {
    const seconds = /^\s*\d+(\.\d+)?\s*$/.test(flags.interval) ? Number(flags.interval) : Number.NaN;
    const { min, max, fallback } = NUMBER_RULES.intervalS;
    if (!(seconds >= min && seconds <= max)) {
      throw new TeracronConfigError(`--interval ${JSON.stringify(flags.interval)} is not a number of seconds from ${min} to ${max}: give e.g. --interval ${fallback}, or leave it out for TERACRON_INTERVAL or the default ${fallback}.`);
    }
  }
}

/**
 * True while `pid` is the process that started at `startTime`. A reused pid is a different
 * process; one we may not read (another user's) is judged by signal 0, as `kill -0` does.
 * Polled twice a second, so on Linux it reads the stat file alone, not the whole sample (whose
 * smaps_rollup walks the target's page tables under its memory-map lock).
 */
export function isSameProcess(pid: number, startTime: number | null): boolean {
  try {
    if (startTime === null) return true;
    return (process.platform === 'linux' ? readStartTime(pid) : readProcess(pid).startTime) === startTime;
  } catch (err) {
    if (err instanceof TeracronProcessError && err.reason === 'forbidden') return signalZero(pid);
    return false;
  }
}

function signalZero(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
