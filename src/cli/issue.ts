/**
 * `teracron issue <fingerprint>`: one issue (GET /api/v1/issues/:fingerprint): what it is, where
 * it is thrown (its in-app frames), its latest message and stack, its last day hour by hour, and
 * its latest occurrences with their trace ids. The fingerprint may be cut to its first 8 or more
 * characters, as `teracron issues` shows it: the issues list resolves it.
 */
import { wantsHelp } from './commands';
import { cell, clean, EXIT_OK, formatTime, parseFlags, printJson, RequestError, runCommand, say, table, TARGET_OPTIONS, UsageError } from './output';
import { statusText } from './issues';
import { listOf, targetFrom } from './query-commands';
import { queryApi } from './query-client';
import type { Target } from './query-client';

export const USAGE = 'teracron issue <fingerprint, or its first 8+ characters> [--json] [--domain d] [--api-key k]';

const FINGERPRINT_LENGTH = 64;
const MIN_PREFIX = 8;
const HEX = /^[0-9a-f]+$/;
const BARS = '▁▂▃▄▅▆▇█';

export async function run(argv: string[]): Promise<number> {
  const rest = argv.slice(1);
  if (wantsHelp(rest)) {
    process.stdout.write(`usage: ${USAGE}\n`);
    return EXIT_OK;
  }
  return runCommand('issue', USAGE, () => issue(rest));
}

async function issue(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags({ args: argv, options: TARGET_OPTIONS, allowPositionals: true });
  if (positionals.length > 1) throw new UsageError(`issue takes one fingerprint, got ${positionals.length}.`);
  const asked = checkFingerprint(positionals[0]);
  const target = targetFrom(values);
  const fingerprint = asked.length === FINGERPRINT_LENGTH ? asked : await resolvePrefix(target, asked);
  const body = await queryApi(target, `/api/v1/issues/${fingerprint}`);
  if (values.json) {
    await printJson(body);
    return EXIT_OK;
  }
  say(renderIssue(body as Record<string, unknown>));
  return EXIT_OK;
}

function checkFingerprint(value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError('the fingerprint is missing (`teracron issues` lists them).');
  const shown = JSON.stringify(clean(value.length > 80 ? `${value.slice(0, 80)}…` : value));
  if (!HEX.test(value)) {
    const lower = value.toLowerCase();
    if (HEX.test(lower)) throw new UsageError(`the fingerprint ${shown} has upper-case letters: fingerprints are lowercase hex (try ${lower}).`);
    throw new UsageError(`the fingerprint ${shown} is not one: fingerprints are lowercase hex (0-9, a-f).`);
  }
  if (value.length > FINGERPRINT_LENGTH) throw new UsageError(`the fingerprint ${shown} has ${value.length} characters: a fingerprint has ${FINGERPRINT_LENGTH}.`);
  if (value.length < MIN_PREFIX) throw new UsageError(`the fingerprint ${shown} has ${value.length} characters: give at least ${MIN_PREFIX} (\`teracron issues\` shows 12) or all ${FINGERPRINT_LENGTH}.`);
  return value;
}

/** The one issue among the latest 1000 whose fingerprint starts with `prefix`. */
async function resolvePrefix(target: Target, prefix: string): Promise<string> {
  const matches = listOf(await queryApi(target, '/api/v1/issues', { limit: 1000 }), 'issues', target)
    .map((i) => i.fingerprint)
    .filter((f): f is string => typeof f === 'string' && f.startsWith(prefix));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new RequestError(`no issue of the latest 1000 on ${target.baseUrl} has a fingerprint starting with ${prefix}: check it with \`teracron issues\`, or give all ${FINGERPRINT_LENGTH} characters.`);
  throw new RequestError(`the fingerprint prefix ${prefix} is ambiguous: it starts ${matches.length} issues (${matches.slice(0, 5).join(', ')}${matches.length > 5 ? ', …' : ''}); give more of its characters.`);
}

function renderIssue(body: Record<string, unknown>): string {
  const issue = (body.issue ?? {}) as Record<string, unknown>;
  const hourly = Array.isArray(body.hourly) ? (body.hourly as Array<{ count?: unknown }>).map((h) => (typeof h.count === 'number' ? h.count : 0)) : [];
  const recent = hourly.reduce((sum, n) => sum + n, 0);
  const fields: Array<[string, string]> = [
    ['status', issue.regression === true ? 'open: a regression, it occurred again after it was resolved' : statusText(issue)],
    ['count', `${cell(issue.count)} (${recent} in the last ${hourly.length} h)`],
    ['by hour', sparkline(hourly)],
    ['first seen', formatTime(issue.first_seen)],
    ['last seen', formatTime(issue.last_seen)],
    ['services', cell(Array.isArray(issue.services) ? issue.services.join(', ') : null, 200)],
    ['last trace', cell(issue.last_trace_id, 64)],
  ];
  const lines = [`issue ${cell(issue.fingerprint, 64)}`, cell(`${String(issue.type ?? 'Error')}: ${String(issue.message ?? '')}`, 400), ''];
  for (const [label, value] of fields) lines.push(`${label.padEnd(10)}  ${value}`);
  const frames = Array.isArray(issue.frames) ? issue.frames : [];
  lines.push('', 'frames', ...(frames.length === 0 ? ['  (none in-app: grouped by type and message)'] : frames.map((f) => `  ${cell(f, 200)}`)));
  lines.push('', 'latest message', `  ${cell(body.latest_message, 400)}`);
  if (typeof body.latest_stack === 'string') lines.push('', 'latest stack', ...body.latest_stack.split('\n').slice(0, 40).map((l) => `  ${clean(l)}`));
  const occurrences = Array.isArray(body.occurrences) ? (body.occurrences as Array<Record<string, unknown>>) : [];
  if (occurrences.length > 0) {
    const rows = occurrences.map((o) => [formatTime(o.timestamp), cell(o.source, 4), cell(o.level, 5), cell(o.service, 24), cell(o.trace_id, 32), cell(o.message, 160)]);
    lines.push('', 'latest occurrences', table(['time', 'from', 'level', 'service', 'trace', 'message'], rows));
  }
  return lines.join('\n');
}

/** Hour by hour, oldest first; `·` for an hour without any. */
function sparkline(counts: number[]): string {
  const max = Math.max(0, ...counts);
  if (max === 0) return counts.length === 0 ? '-' : '·'.repeat(counts.length);
  return counts.map((n) => (n === 0 ? '·' : BARS[Math.min(BARS.length - 1, Math.floor((n / max) * (BARS.length - 1)))]!)).join('');
}
