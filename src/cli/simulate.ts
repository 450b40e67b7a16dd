/**
 * `teracron simulate <trace_id> [--out dir] [--json]`: turns a failed trace into a failure
 * context, a diagnosis and an inert repro script (built in simulate-render.ts). Nothing that
 * comes from the server is executed here; the repro is written, never run.
 */
import { closeSync, constants, mkdirSync, openSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { wantsHelp } from './commands';
import { answeredTraceId, checkTraceId, clean, parseFlags, printJson, RequestError, runCommand, say, TARGET_OPTIONS, UsageError, EXIT_FAILED, EXIT_OK } from './output';
import { queryApi } from './query-client';
import { targetFrom } from './query-commands';
import { buildFailureContext, normalizeSpans, renderDiagnosis, renderRepro } from './simulate-render';

export const USAGE = 'teracron simulate <trace_id, or its first 8+ characters> [--out dir] [--json] [--domain d] [--api-key k]';

export const OUTPUT_FILES = { context: 'failure-context.json', diagnosis: 'diagnosis.md', repro: 'repro.js' } as const;

export async function run(argv: string[]): Promise<number> {
  const rest = argv.slice(1);
  if (wantsHelp(rest)) {
    process.stdout.write(`usage: ${USAGE}\n`);
    return EXIT_OK;
  }
  return runCommand('simulate', USAGE, () => simulate(rest));
}

async function simulate(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags({ args: argv, options: { ...TARGET_OPTIONS, out: { type: 'string' } }, allowPositionals: true });
  if (positionals.length > 1) throw new UsageError(`simulate takes one trace id, got ${positionals.length}.`);
  const asked = checkTraceId(positionals[0]);
  if (values.out !== undefined && values.out.trim() === '') throw new UsageError('--out needs a directory.');
  const target = targetFrom(values);

  const body = await queryApi(target, `/api/v1/traces/${asked}`);
  const traceId = answeredTraceId(body, asked);
  const raw = (body as { spans?: unknown } | null)?.spans;
  if (!Array.isArray(raw)) throw new RequestError(`${target.baseUrl} answered the trace without a "spans" list: is it a Teracron collector?`);
  const spans = normalizeSpans(raw);
  const context = buildFailureContext(traceId, spans);
  if (context === null) {
    const counts = new Map<string, number>();
    for (const span of spans) counts.set(span.status, (counts.get(span.status) ?? 0) + 1);
    const shown = [...counts].map(([status, n]) => `${n} ${clean(status)}`).join(', ');
    say(`teracron simulate: no span of trace ${traceId} failed (${spans.length} span${spans.length === 1 ? '' : 's'}${shown ? `: ${shown}` : ''}); there is nothing to simulate.`);
    return EXIT_FAILED;
  }

  const diagnosis = renderDiagnosis(context);
  const contextJson = `${JSON.stringify(context, null, 2)}\n`;
  if (values.out !== undefined) {
    const dir = resolve(values.out);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const written = [
      writeOutput(join(dir, OUTPUT_FILES.context), contextJson),
      writeOutput(join(dir, OUTPUT_FILES.diagnosis), diagnosis),
      writeOutput(join(dir, OUTPUT_FILES.repro), renderRepro(context, spans)),
    ];
    say(
      `${clean(context.failed_span.operation)} failed with ${clean(context.error_type ?? 'Error')}; wrote:\n${written.map((path) => `  ${path}`).join('\n')}\n` +
        `\`node ${join(dir, OUTPUT_FILES.repro)}\` replays the call path with stubs and throws the recorded error; it does nothing else.`,
    );
  } else {
    say(diagnosis);
  }
  if (values.json) await printJson(context);
  return EXIT_OK;
}

/**
 * 0600, since the context holds captured arguments; O_NOFOLLOW so that a planted symbolic link
 * cannot redirect the write to another file.
 */
function writeOutput(path: string, text: string): string {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | (constants.O_NOFOLLOW ?? 0), 0o600);
  try {
    const data = Buffer.from(text, 'utf8');
    let offset = 0;
    while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
  } finally {
    closeSync(fd);
  }
  return path;
}
