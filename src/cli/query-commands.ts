/**
 * `teracron whoami | events | workflows | trace <id>`: the query API from a terminal. With
 * `--json` the API's answer goes to stdout as one JSON document; without it a table or tree goes
 * to stderr (SPEC §8). Exit codes: 0 ok, 1 the request failed, 2 a usage error (checked locally
 * before any request).
 */
import { wantsHelp } from './commands';
import { answeredTraceId, formatDuration, formatTime, cell, checkTraceId, parseFlags, printJson, RequestError, runCommand, say, table, TARGET_OPTIONS, UsageError, EXIT_OK, EXIT_USAGE } from './output';
import { queryApi, resolveTarget } from './query-client';
import type { Target } from './query-client';
import { indexSpans, normalizeSpans } from './simulate-render';
import type { Span } from './simulate-render';

const TARGET_USAGE = '[--json] [--domain d] [--api-key k]';

export const USAGE: Record<string, string> = {
  whoami: `teracron whoami ${TARGET_USAGE}`,
  events: `teracron events [--workflow w] [--status succeeded|failed|in_progress] [--limit n] [--since iso|30m|2h|7d] ${TARGET_USAGE}`,
  workflows: `teracron workflows [--limit n] [--since iso|30m|2h|7d] ${TARGET_USAGE}`,
  trace: `teracron trace <trace_id, or its first 8+ characters> ${TARGET_USAGE}`,
};

export async function run(argv: string[]): Promise<number> {
  const [command = '', ...rest] = argv;
  const usage = USAGE[command];
  if (usage === undefined) {
    say(`teracron: ${JSON.stringify(command)} is not a query command (${Object.keys(USAGE).join(', ')}).`);
    return EXIT_USAGE;
  }
  if (wantsHelp(rest)) {
    process.stdout.write(`usage: ${usage}\n`);
    return EXIT_OK;
  }
  return runCommand(command, usage, () => {
    switch (command) {
      case 'whoami':
        return whoami(rest);
      case 'events':
        return events(rest);
      case 'workflows':
        return workflows(rest);
      default:
        return trace(rest);
    }
  });
}

interface Flags {
  domain?: string | undefined;
  'api-key'?: string | undefined;
  json?: boolean | undefined;
}

export function targetFrom(values: Flags): Target {
  return resolveTarget({ domain: values.domain, apiKey: values['api-key'] });
}

async function whoami(argv: string[]): Promise<number> {
  const { values } = parseFlags({ args: argv, options: TARGET_OPTIONS });
  const target = targetFrom(values);
  const body = await queryApi(target, '/v1/auth/whoami');
  if (values.json) {
    await printJson(body);
    return EXIT_OK;
  }
  const slug = (body as { project_slug?: unknown }).project_slug;
  if (typeof slug !== 'string') throw new RequestError(`${target.baseUrl} answered whoami without a project_slug: is it a Teracron collector?`);
  say(`project ${cell(slug)} on ${target.baseUrl} (API key from ${target.keySource})`);
  if (slug !== target.slug) say(`note: the key names project ${target.slug}, but the server answered for ${cell(slug)}.`);
  return EXIT_OK;
}

const STATUSES = ['succeeded', 'failed', 'in_progress'];
const RELATIVE = /^(\d+)(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`--limit ${JSON.stringify(text)} is not a whole number of at least 1 (the server caps it at 1000).`);
  return Number(text);
}

/** `--since` as ISO 8601 (`2024-05-01`, `2024-05-01T12:00:00Z`) or a span back from now (`30m`, `2h`, `7d`). */
export function parseSince(text: string | undefined, now = Date.now()): string | undefined {
  if (text === undefined) return undefined;
  const relative = RELATIVE.exec(text);
  if (relative !== null) return new Date(now - Number(relative[1]) * (UNIT_MS[relative[2] ?? 's'] ?? 1000)).toISOString();
  const time = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new UsageError(`--since ${JSON.stringify(text)} is not a time: give ISO 8601 (2024-05-01 or 2024-05-01T12:00:00Z) or a span back from now (30m, 2h, 7d).`);
  }
  return new Date(time).toISOString();
}

export function listOf(body: unknown, field: string, target: Target): Array<Record<string, unknown>> {
  const list = (body as Record<string, unknown> | null)?.[field];
  if (!Array.isArray(list)) throw new RequestError(`${target.baseUrl} answered without a "${field}" list: is it a Teracron collector?`);
  return list.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null);
}

async function events(argv: string[]): Promise<number> {
  const { values } = parseFlags({
    args: argv,
    options: { ...TARGET_OPTIONS, workflow: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' }, since: { type: 'string' } },
  });
  if (values.status !== undefined && !STATUSES.includes(values.status)) {
    throw new UsageError(`--status ${JSON.stringify(values.status)} is not one of ${STATUSES.join(', ')}.`);
  }
  const query = { workflow: values.workflow, status: values.status, limit: parseLimit(values.limit), since: parseSince(values.since) };
  const target = targetFrom(values);
  const body = await queryApi(target, '/api/v1/events', query);
  if (values.json) {
    await printJson(body);
    return EXIT_OK;
  }
  const runs = listOf(body, 'events', target);
  if (runs.length === 0) {
    say('No workflow runs match.');
    return EXIT_OK;
  }
  const rows = runs.map((r) => [formatTime(r.started_at), cell(r.trace_id, 64), cell(r.workflow, 30), cell(r.operation, 30), cell(r.status, 12), formatDuration(r.duration_ms), cell(r.span_count), cell(r.error_summary, 70)]);
  const failed = runs.filter((r) => r.status === 'failed').length;
  say(`${table(['started', 'trace', 'workflow', 'operation', 'status', 'duration', 'spans', 'error'], rows)}\n\n${runs.length} run${runs.length === 1 ? '' : 's'}, ${failed} failed. \`teracron trace <trace>\` shows one run.`);
  return EXIT_OK;
}

async function workflows(argv: string[]): Promise<number> {
  const { values } = parseFlags({ args: argv, options: { ...TARGET_OPTIONS, limit: { type: 'string' }, since: { type: 'string' } } });
  const query = { limit: parseLimit(values.limit), since: parseSince(values.since) };
  const target = targetFrom(values);
  const body = await queryApi(target, '/api/v1/workflows', query);
  if (values.json) {
    await printJson(body);
    return EXIT_OK;
  }
  const list = listOf(body, 'workflows', target);
  if (list.length === 0) {
    say('No workflows recorded yet.');
    return EXIT_OK;
  }
  const rows = list.map((w) => {
    const total = typeof w.total_runs === 'number' ? w.total_runs : 0;
    const failedRuns = typeof w.failed_runs === 'number' ? w.failed_runs : 0;
    const rate = total > 0 ? `${((failedRuns / total) * 100).toFixed(1)}%` : '-';
    return [cell(w.workflow, 40), cell(w.total_runs), cell(w.failed_runs), rate, formatDuration(w.avg_duration_ms), formatDuration(w.p95_duration_ms), formatTime(w.last_run_at)];
  });
  say(table(['workflow', 'runs', 'failed', 'failure rate', 'avg duration', 'p95', 'last run'], rows));
  return EXIT_OK;
}

async function trace(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags({ args: argv, options: TARGET_OPTIONS, allowPositionals: true });
  if (positionals.length > 1) throw new UsageError(`trace takes one trace id, got ${positionals.length}.`);
  const asked = checkTraceId(positionals[0]);
  const target = targetFrom(values);
  const body = await queryApi(target, `/api/v1/traces/${asked}`);
  if (values.json) {
    await printJson(body);
    return EXIT_OK;
  }
  say(renderTraceTree(answeredTraceId(body, asked), normalizeSpans((body as { spans?: unknown } | null)?.spans)));
  return EXIT_OK;
}

/** The spans as a tree by parent, children in start order, durations and failures marked. */
export function renderTraceTree(traceId: string, spans: Span[]): string {
  if (spans.length === 0) return `trace ${traceId}: no spans.`;
  const index = indexSpans(spans);
  const failed = spans.filter((span) => span.status === 'failed').length;
  const workflow = spans.find((span) => span.workflow !== null)?.workflow;
  const lines = [`trace ${traceId}${workflow ? `  workflow ${cell(workflow, 60)}` : ''}  ${spans.length} span${spans.length === 1 ? '' : 's'}, ${failed} failed`, ''];
  const seen = new Set<string>();
  // An explicit stack: a hostile or very deep trace must not overflow the call stack.
  const stack = [...index.roots].reverse().map((span) => ({ span, prefix: '', branch: '', childPrefix: '' }));
  while (stack.length > 0) {
    const { span, prefix, branch, childPrefix } = stack.pop() as (typeof stack)[number];
    if (seen.has(span.span_id)) continue;
    seen.add(span.span_id);
    lines.push(`${prefix}${branch}${describe(span, index.byId)}`);
    const children = (index.children.get(span.span_id) ?? []).filter((child) => !seen.has(child.span_id));
    for (let i = children.length - 1; i >= 0; i -= 1) {
      const last = i === children.length - 1;
      stack.push({ span: children[i] as Span, prefix: childPrefix, branch: last ? '└─ ' : '├─ ', childPrefix: `${childPrefix}${last ? '   ' : '│  '}` });
    }
  }
  return lines.join('\n');
}

function describe(span: Span, byId: Map<string, Span>): string {
  let text = `${cell(span.operation, 80)}  ${formatDuration(span.duration_ms)}`;
  if (span.status === 'failed') {
    const error = span.error_type !== null || span.error_message !== null ? `  ${cell(`${span.error_type ?? 'Error'}: ${span.error_message ?? ''}`, 120)}` : '';
    text += `  ✗ FAILED${error}`;
  } else if (span.status === 'started' || span.status === 'in_progress') {
    text += '  … in progress';
  } else if (span.status !== 'succeeded') {
    text += `  (${cell(span.status, 20)})`;
  }
  if (span.parent_span_id !== null && !byId.has(span.parent_span_id)) text += `  (parent ${cell(span.parent_span_id, 64)} not in this trace)`;
  return text;
}
