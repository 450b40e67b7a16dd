/**
 * `teracron logs`: the project's logs, newest first, filtered as GET /api/v1/logs filters them.
 * With `--follow` it prints the latest few oldest first, then polls about every second and
 * prints what is new, oldest first, until SIGINT.
 *
 * Following goes by the logs' own times, which senders set: a batch can arrive a few seconds
 * after logs stamped later than its own. Each poll therefore asks again for the last LOOKBACK_MS
 * before the newest log seen, and prints only the ids it has not printed, so a late log is shown
 * (after the ones already on screen) and none twice.
 */
import { wantsHelp } from './commands';
import { cell, clean, EXIT_OK, formatTime, parseFlags, printJson, runCommand, say, table, TARGET_OPTIONS, UsageError } from './output';
import { listOf, parseLimit, parseSince, targetFrom } from './query-commands';
import { queryApi } from './query-client';
import type { Query, Target } from './query-client';
import { LOG_LEVELS } from '../collector/store/types';

export const USAGE =
  'teracron logs [--level debug|info|warn|error|fatal] [--service s] [--module m] [--grep text] [--trace trace_id] ' +
  '[--since iso|30m|2h|7d] [--limit n] [--follow] [--json] [--domain d] [--api-key k]';

const POLL_MS = 1000;
const LOOKBACK_MS = 15_000;
/** Pages of 1000 one poll reads at most: a bound on what a flood makes one poll fetch. */
const MAX_PAGES = 10;
const TRACE_ID = /^[0-9a-f]{32}$/;

type Log = Record<string, unknown> & { id: string; timestamp: number };

export async function run(argv: string[]): Promise<number> {
  const rest = argv.slice(1);
  if (wantsHelp(rest)) {
    process.stdout.write(`usage: ${USAGE}\n`);
    return EXIT_OK;
  }
  return runCommand('logs', USAGE, () => logs(rest));
}

async function logs(argv: string[]): Promise<number> {
  const { values } = parseFlags({
    args: argv,
    options: {
      ...TARGET_OPTIONS,
      level: { type: 'string' }, service: { type: 'string' }, module: { type: 'string' }, grep: { type: 'string' }, trace: { type: 'string' },
      since: { type: 'string' }, limit: { type: 'string' }, follow: { type: 'boolean', short: 'f' },
    },
  });
  if (values.level !== undefined && !(LOG_LEVELS as readonly string[]).includes(values.level)) {
    throw new UsageError(`--level ${JSON.stringify(clean(values.level))} is not one of ${LOG_LEVELS.join(', ')} (it is a minimum: warn shows warn, error and fatal).`);
  }
  if (values.trace !== undefined && !TRACE_ID.test(values.trace)) {
    throw new UsageError(`--trace ${JSON.stringify(clean(values.trace))} is not a whole trace id: give its 32 lowercase hex characters.`);
  }
  const filters: Query = { level: values.level, service: values.service, module: values.module, q: values.grep, trace_id: values.trace, from: parseSince(values.since) };
  const limit = parseLimit(values.limit);
  const target = targetFrom(values);
  if (values.follow) return follow(target, filters, limit ?? 20, values.json === true);
  const body = await queryApi(target, '/api/v1/logs', { ...filters, limit });
  if (values.json) {
    await printJson(body);
    return EXIT_OK;
  }
  const list = listOf(body, 'logs', target);
  if (list.length === 0) {
    say('No logs match.');
    return EXIT_OK;
  }
  const more = (body as { next_cursor?: unknown }).next_cursor ? ' More match: raise --limit or narrow the filters.' : '';
  say(`${table(['time', 'level', 'service', 'module', 'trace', 'message'], list.map(row))}\n\n${list.length} log${list.length === 1 ? '' : 's'}, newest first.${more}`);
  return EXIT_OK;
}

function row(log: Record<string, unknown>): string[] {
  return [formatTime(log.timestamp), cell(log.level, 5), cell(log.service, 24), cell(log.module, 24), cell(typeof log.trace_id === 'string' ? log.trace_id.slice(0, 8) : null), message(log)];
}

function message(log: Record<string, unknown>): string {
  const error = log.error_type != null || log.error_message != null ? ` (${log.error_type ?? 'Error'}: ${log.error_message ?? ''})` : '';
  return cell(`${String(log.message ?? '')}${error}`, 240);
}

/** One line per log while following: fixed widths, so lines printed a poll apart still align. */
function line(log: Record<string, unknown>): string {
  const [time, level, service, module, trace, text] = row(log) as [string, string, string, string, string, string];
  return `${time}  ${level.padEnd(5)}  ${service.padEnd(16)}  ${module.padEnd(16)}  ${trace.padEnd(8)}  ${text}`;
}

async function follow(target: Target, filters: Query, limit: number, json: boolean): Promise<number> {
  const seen = new Map<string, number>();
  let newest = Number.NEGATIVE_INFINITY;
  const show = (fresh: Log[]): void => {
    for (const log of fresh) {
      if (json) process.stdout.write(`${JSON.stringify(log)}\n`);
      else say(line(log));
    }
  };
  const remember = (list: Log[]): void => {
    for (const log of list) {
      seen.set(log.id, log.timestamp);
      if (log.timestamp > newest) newest = log.timestamp;
    }
    for (const [id, time] of seen) if (time < newest - LOOKBACK_MS) seen.delete(id);
  };

  const first = (listOf(await queryApi(target, '/api/v1/logs', { ...filters, limit }), 'logs', target) as Log[]).reverse();
  show(first);
  remember(first);
  // Logs of the lookback window left out of the first page are older than it: not new.
  if (first.length > 0) remember(await poll(target, filters, newest - LOOKBACK_MS, seen));

  let stopped = false;
  let wake: () => void = () => undefined;
  const stop = (): void => {
    stopped = true;
    wake();
  };
  process.once('SIGINT', stop);
  try {
    while (!stopped) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, POLL_MS);
      });
      if (stopped) break;
      const fresh = await poll(target, filters, Number.isFinite(newest) ? newest - LOOKBACK_MS : undefined, seen);
      show(fresh);
      remember(fresh);
    }
  } finally {
    process.off('SIGINT', stop);
  }
  return EXIT_OK;
}

/** The logs from `from` on (and the filters' own `from`) not seen yet, oldest first. */
async function poll(target: Target, filters: Query, from: number | undefined, seen: Map<string, number>): Promise<Log[]> {
  const since = typeof filters.from === 'string' ? Date.parse(filters.from) : undefined;
  const start = from === undefined ? since : since === undefined ? from : Math.max(from, since);
  const found: Log[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const body = await queryApi(target, '/api/v1/logs', { ...filters, from: start, limit: 1000, cursor });
    found.push(...(listOf(body, 'logs', target) as Log[]));
    const next = (body as { next_cursor?: unknown }).next_cursor;
    if (typeof next !== 'string') break;
    cursor = next;
  }
  return found.filter((log) => !seen.has(log.id)).reverse();
}
