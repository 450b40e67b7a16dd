/**
 * `teracron issues`: errors grouped by fingerprint (GET /api/v1/issues), most recently seen first
 * or by count. `teracron issue <fingerprint>` shows one.
 */
import { wantsHelp } from './commands';
import { cell, clean, EXIT_OK, formatTime, parseFlags, printJson, runCommand, say, table, TARGET_OPTIONS, UsageError } from './output';
import { listOf, parseLimit, targetFrom } from './query-commands';
import { queryApi } from './query-client';

export const USAGE = 'teracron issues [--status open|resolved|ignored] [--service s] [--sort last_seen|count] [--limit n] [--json] [--domain d] [--api-key k]';

const STATUSES = ['open', 'resolved', 'ignored'];
const SORTS = ['last_seen', 'count'];
/** What the table shows of a fingerprint; `teracron issue` takes it (8 or more characters). */
const SHOWN_FINGERPRINT = 12;

export async function run(argv: string[]): Promise<number> {
  const rest = argv.slice(1);
  if (wantsHelp(rest)) {
    process.stdout.write(`usage: ${USAGE}\n`);
    return EXIT_OK;
  }
  return runCommand('issues', USAGE, () => issues(rest));
}

async function issues(argv: string[]): Promise<number> {
  const { values } = parseFlags({
    args: argv,
    options: { ...TARGET_OPTIONS, status: { type: 'string' }, service: { type: 'string' }, sort: { type: 'string' }, limit: { type: 'string' } },
  });
  if (values.status !== undefined && !STATUSES.includes(values.status)) throw new UsageError(`--status ${JSON.stringify(clean(values.status))} is not one of ${STATUSES.join(', ')}.`);
  if (values.sort !== undefined && !SORTS.includes(values.sort)) throw new UsageError(`--sort ${JSON.stringify(clean(values.sort))} is not one of ${SORTS.join(', ')}.`);
  const target = targetFrom(values);
  const body = await queryApi(target, '/api/v1/issues', { status: values.status, service: values.service, sort: values.sort, limit: parseLimit(values.limit) });
  if (values.json) {
    await printJson(body);
    return EXIT_OK;
  }
  const list = listOf(body, 'issues', target);
  if (list.length === 0) {
    say('No issues match.');
    return EXIT_OK;
  }
  const rows = list.map((issue) => [
    cell(typeof issue.fingerprint === 'string' ? issue.fingerprint.slice(0, SHOWN_FINGERPRINT) : null),
    statusText(issue),
    cell(issue.count),
    formatTime(issue.last_seen),
    cell(Array.isArray(issue.services) ? issue.services.join(', ') : null, 30),
    cell(`${String(issue.type ?? 'Error')}: ${String(issue.message ?? '')}`, 160),
  ]);
  say(`${table(['issue', 'status', 'count', 'last seen', 'services', 'error'], rows)}\n\n${list.length} issue${list.length === 1 ? '' : 's'}. \`teracron issue <issue>\` shows one.`);
  return EXIT_OK;
}

/** `open`, `resolved`, `ignored`, or `regressed` for an issue open again after it was resolved. */
export function statusText(issue: Record<string, unknown>): string {
  return issue.regression === true ? 'regressed' : cell(issue.status, 12);
}
