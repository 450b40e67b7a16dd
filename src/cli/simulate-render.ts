/**
 * From the spans of a failed trace to three artefacts: a JSON failure context, a markdown
 * diagnosis and an inert JavaScript repro. Pure functions over data, so the hostile-input
 * cases can be tested without a collector.
 *
 * Everything in a span was written by whatever code was traced, so it is data, never code:
 * - identifiers in the repro are rebuilt from [A-Za-z0-9_$] only, reserved words suffixed;
 * - values enter the repro only as JSON literals (with U+2028/2029 and `<` escaped, and
 *   `__proto__` keys written so that they stay plain keys);
 * - comments hold only a conservative character set (no `/`, `*`, `<`, line breaks);
 * - markdown holds server text only inside code spans or fences longer than any backtick run.
 */
import { clean } from './output';

export interface Span {
  span_id: string;
  parent_span_id: string | null;
  workflow: string | null;
  operation: string;
  status: string;
  started_at: number | null;
  duration_ms: number | null;
  error_type: string | null;
  error_message: string | null;
  metadata: Record<string, unknown>;
  captured_params: Record<string, unknown>;
}

type Fields = Record<string, unknown>;

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function fields(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  // A null-prototype copy: a `__proto__` key from the server stays a plain key.
  const copy: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [key, item] of Object.entries(value)) copy[key] = item;
  return copy;
}

/** The spans of a trace answer, each field checked; spans without a string span_id are dropped, duplicates keep the first. */
export function normalizeSpans(raw: unknown): Span[] {
  const list = Array.isArray(raw) ? raw : [];
  const seen = new Set<string>();
  const spans: Span[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) continue;
    const span = item as Fields;
    const id = str(span.span_id);
    if (id === null || id === '' || seen.has(id)) continue;
    seen.add(id);
    spans.push({
      span_id: id,
      parent_span_id: str(span.parent_span_id) || null,
      workflow: str(span.workflow),
      operation: str(span.operation) ?? '(unnamed)',
      status: str(span.status) ?? 'unknown',
      started_at: num(span.started_at),
      duration_ms: num(span.duration_ms),
      error_type: str(span.error_type),
      error_message: str(span.error_message),
      metadata: fields(span.metadata),
      captured_params: fields(span.captured_params),
    });
  }
  return spans;
}

export interface SpanIndex {
  byId: Map<string, Span>;
  /** Children in the order given (the API orders by started_at). */
  children: Map<string, Span[]>;
  /** Spans without a parent in this trace, plus any cut out of a parent cycle. */
  roots: Span[];
  /** Root → span, cycle-safe. */
  pathTo(span: Span): Span[];
}

export function indexSpans(spans: Span[]): SpanIndex {
  const byId = new Map(spans.map((span) => [span.span_id, span]));
  const children = new Map<string, Span[]>();
  const roots: Span[] = [];
  for (const span of spans) {
    const parent = span.parent_span_id;
    if (parent === null || parent === span.span_id || !byId.has(parent)) {
      roots.push(span);
      continue;
    }
    const list = children.get(parent) ?? [];
    list.push(span);
    children.set(parent, list);
  }
  // Spans in a parent cycle are reachable from no root: the first of each cycle becomes one.
  const reached = new Set<string>();
  const visit = (span: Span): void => {
    const stack = [span];
    while (stack.length > 0) {
      const next = stack.pop() as Span;
      if (reached.has(next.span_id)) continue;
      reached.add(next.span_id);
      stack.push(...(children.get(next.span_id) ?? []));
    }
  };
  roots.forEach(visit);
  for (const span of spans) {
    if (!reached.has(span.span_id)) {
      roots.push(span);
      visit(span);
    }
  }
  const rootIds = new Set(roots.map((span) => span.span_id));
  const pathTo = (span: Span): Span[] => {
    const path = [span];
    const seen = new Set([span.span_id]);
    let current = span;
    while (!rootIds.has(current.span_id)) {
      const parent = byId.get(current.parent_span_id ?? '');
      if (parent === undefined || seen.has(parent.span_id)) break;
      seen.add(parent.span_id);
      path.unshift(parent);
      current = parent;
    }
    return path;
  };
  return { byId, children, roots, pathTo };
}

/**
 * Where the failure started: among failed spans with no failed descendant (the origins of the
 * failure chains, as opposed to parents the error merely passed through), the deepest, then
 * the earliest started.
 */
export function findFailedSpan(spans: Span[], index = indexSpans(spans)): Span | null {
  const failed = spans.filter((span) => span.status === 'failed');
  const passedThrough = new Set<string>();
  for (const span of failed) {
    for (const ancestor of index.pathTo(span).slice(0, -1)) passedThrough.add(ancestor.span_id);
  }
  const origins = failed
    .filter((span) => !passedThrough.has(span.span_id))
    .map((span) => ({ span, depth: index.pathTo(span).length }));
  origins.sort((a, b) => b.depth - a.depth || (a.span.started_at ?? Infinity) - (b.span.started_at ?? Infinity));
  return origins[0]?.span ?? null;
}

export interface StepSummary {
  span_id: string;
  operation: string;
  status: string;
  duration_ms: number | null;
}

export interface FailureContext {
  trace_id: string;
  /** The run's: the root span's workflow (a request's `http`), not the failed span's. */
  workflow: string | null;
  span_count: number;
  failed_span: StepSummary & { workflow: string | null; parent_span_id: string | null; depth: number; started_at: number | null };
  /** Operations from the root to the failed span. */
  path: string[];
  path_spans: StepSummary[];
  error_type: string | null;
  error_message: string | null;
  captured_params: Record<string, unknown>;
  metadata: Record<string, unknown>;
  siblings: { total: number; succeeded: number; failed: number; other: number; spans: Array<StepSummary & { error: string | null }>; truncated: boolean };
  other_failures: Array<StepSummary & { error: string | null }>;
  durations: {
    trace_ms: number | null;
    failed_span_ms: number | null;
    /** failed_span_ms / trace_ms, 0–1. */
    failed_span_share: number | null;
    /** From the trace's first start to the failed span's start. */
    failed_span_offset_ms: number | null;
    path: Array<{ operation: string; duration_ms: number | null }>;
  };
}

const MAX_LISTED = 20;

function summary(span: Span): StepSummary {
  return { span_id: span.span_id, operation: span.operation, status: span.status, duration_ms: span.duration_ms };
}

function errorOf(span: Span): string | null {
  if (span.error_type === null && span.error_message === null) return null;
  return `${span.error_type ?? 'Error'}: ${span.error_message ?? ''}`;
}

function plain(record: Record<string, unknown>): Record<string, unknown> {
  // Back to an ordinary object for JSON.stringify; a `__proto__` key becomes an own property.
  return JSON.parse(JSON.stringify(record)) as Record<string, unknown>;
}

/** The failure context of a trace, or null when no span failed. */
export function buildFailureContext(traceId: string, spans: Span[]): FailureContext | null {
  const index = indexSpans(spans);
  const failed = findFailedSpan(spans, index);
  if (failed === null) return null;
  const path = index.pathTo(failed);
  const siblings = (failed.parent_span_id !== null && index.byId.has(failed.parent_span_id) ? index.children.get(failed.parent_span_id) ?? [] : index.roots).filter(
    (span) => span !== failed,
  );
  const starts = spans.map((span) => span.started_at).filter((n): n is number => n !== null);
  const ends = spans.map((span) => (span.started_at !== null && span.duration_ms !== null ? span.started_at + span.duration_ms : null)).filter((n): n is number => n !== null);
  const first = starts.length > 0 ? Math.min(...starts) : null;
  const root = index.roots.length === 1 ? index.roots[0] : undefined;
  const traceMs = root?.duration_ms ?? (first !== null && ends.length > 0 ? Math.max(...ends) - first : null);
  const failedMs = failed.duration_ms;
  return {
    trace_id: traceId,
    // path[0] is the root of the failed span's run; the failure is that run's, whichever workflow the span was in.
    workflow: path[0]?.workflow ?? failed.workflow,
    span_count: spans.length,
    failed_span: { ...summary(failed), workflow: failed.workflow, parent_span_id: failed.parent_span_id, depth: path.length - 1, started_at: failed.started_at },
    path: path.map((span) => span.operation),
    path_spans: path.map(summary),
    error_type: failed.error_type,
    error_message: failed.error_message,
    captured_params: plain(failed.captured_params),
    metadata: plain(failed.metadata),
    siblings: {
      total: siblings.length,
      succeeded: siblings.filter((span) => span.status === 'succeeded').length,
      failed: siblings.filter((span) => span.status === 'failed').length,
      other: siblings.filter((span) => span.status !== 'succeeded' && span.status !== 'failed').length,
      spans: siblings.slice(0, MAX_LISTED).map((span) => ({ ...summary(span), error: errorOf(span) })),
      truncated: siblings.length > MAX_LISTED,
    },
    other_failures: spans
      .filter((span) => span.status === 'failed' && span !== failed && !path.includes(span))
      .slice(0, MAX_LISTED)
      .map((span) => ({ ...summary(span), error: errorOf(span) })),
    durations: {
      trace_ms: traceMs,
      failed_span_ms: failedMs,
      failed_span_share: traceMs !== null && traceMs > 0 && failedMs !== null ? Math.min(1, failedMs / traceMs) : null,
      failed_span_offset_ms: first !== null && failed.started_at !== null ? failed.started_at - first : null,
      path: path.map((span) => ({ operation: span.operation, duration_ms: span.duration_ms })),
    },
  };
}

// ---- markdown ----------------------------------------------------------------------------

/** Server text as an inline code span: one line, control characters escaped, a fence longer than any backtick run. */
export function mdCode(text: string, max = 200): string {
  let line = clean(text.replace(/[\r\n\u2028\u2029]+/g, ' '));
  if (line.length > max) line = `${line.slice(0, max - 1)}…`;
  if (line === '') return '(empty)';
  const longest = Math.max(0, ...(line.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = line.startsWith('`') || line.endsWith('`') || line.startsWith(' ') ? ' ' : '';
  return `${fence}${pad}${line}${pad}${fence}`;
}

/** Multi-line server text as a fenced block whose fence no line of the text can close. */
function mdBlock(text: string): string {
  const body = clean(text.replace(/\r\n?|\u2028|\u2029/g, '\n'));
  const longest = Math.max(2, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}text\n${body}\n${fence}`;
}

function ms(value: number | null): string {
  if (value === null) return 'unknown';
  return value < 10 ? `${value.toFixed(2)} ms` : `${Math.round(value)} ms`;
}

function valueText(value: unknown): string {
  return mdCode(JSON.stringify(value) ?? String(value));
}

const KNOWN_STATUS = new Set(['succeeded', 'failed', 'started', 'in_progress']);

function statusText(status: string): string {
  return KNOWN_STATUS.has(status) ? status : mdCode(status, 40);
}

function listFields(record: Record<string, unknown>, none: string): string[] {
  const entries = Object.entries(record);
  if (entries.length === 0) return [none];
  return entries.map(([key, value]) => `- ${mdCode(key, 128)}: ${valueText(value)}`);
}

const TIMEOUT = /time(d)?[\s_-]?out|deadline|ETIMEDOUT|ESOCKETTIMEDOUT/i;

export function renderDiagnosis(ctx: FailureContext): string {
  const failed = ctx.failed_span;
  const error = `${ctx.error_type ?? 'Error'}: ${ctx.error_message ?? '(no message recorded)'}`;
  const out: string[] = [];
  out.push(`# Failure in ${ctx.workflow !== null ? `workflow ${mdCode(ctx.workflow)}` : 'an unnamed workflow'}`, '');
  out.push(`Trace ${mdCode(ctx.trace_id)}, ${ctx.span_count} span${ctx.span_count === 1 ? '' : 's'}.`, '');

  out.push('## What failed', '');
  const ownWorkflow = failed.workflow !== null && failed.workflow !== ctx.workflow ? `workflow ${mdCode(failed.workflow)}, ` : '';
  out.push(`${mdCode(failed.operation)} (${ownWorkflow}span ${mdCode(failed.span_id)}) failed with ${mdCode(ctx.error_type ?? 'Error')}:`, '');
  out.push(mdBlock(ctx.error_message ?? '(no message recorded)'), '');

  out.push('## Where in the call path', '');
  ctx.path_spans.forEach((step, i) => {
    const mark = i === ctx.path_spans.length - 1 ? ' ← failed here' : '';
    out.push(`${i + 1}. ${mdCode(step.operation)}: ${statusText(step.status)}, ${ms(step.duration_ms)}${mark}`);
  });
  out.push('');

  out.push('## Inputs recorded', '');
  out.push(...listFields(ctx.captured_params, 'No arguments were recorded for this span (arguments are recorded only with an explicit `capture`).'), '');
  out.push('## Metadata', '');
  out.push(...listFields(ctx.metadata, 'None recorded.'), '');

  const d = ctx.durations;
  out.push('## Timing', '');
  out.push(`- The failed span ran for ${ms(d.failed_span_ms)}${d.failed_span_share !== null ? `, ${Math.round(d.failed_span_share * 100)}% of the trace's ${ms(d.trace_ms)}` : ''}.`);
  if (d.failed_span_offset_ms !== null) out.push(`- It started ${ms(d.failed_span_offset_ms)} after the trace began.`);
  out.push('');

  const s = ctx.siblings;
  out.push('## Siblings', '');
  if (s.total === 0) {
    out.push('The failed span had no siblings.');
  } else {
    out.push(`${s.total} other span${s.total === 1 ? '' : 's'} under the same parent: ${s.succeeded} succeeded, ${s.failed} failed, ${s.other} other.`, '');
    for (const sib of s.spans) out.push(`- ${mdCode(sib.operation)}: ${statusText(sib.status)}, ${ms(sib.duration_ms)}${sib.error !== null ? `, ${mdCode(sib.error)}` : ''}`);
    if (s.truncated) out.push(`- … and ${s.total - s.spans.length} more.`);
  }
  out.push('');

  out.push('## What to look at next', '');
  out.push(...nextSteps(ctx, error).map((line) => `- ${line}`), '');
  return out.join('\n');
}

function nextSteps(ctx: FailureContext, error: string): string[] {
  const steps: string[] = [];
  const failed = ctx.failed_span;
  steps.push(`Start in ${mdCode(failed.operation)}, ${failed.depth === 0 ? 'the root of the trace' : `${failed.depth} level${failed.depth === 1 ? '' : 's'} below the root`}: it raised ${mdCode(error)} and no span below it failed.`);
  const ancestors = ctx.path_spans.slice(0, -1);
  const propagated = ancestors.filter((step) => step.status === 'failed');
  if (propagated.length > 0) {
    steps.push(`The error went up through ${propagated.map((step) => mdCode(step.operation)).join(' → ')}, which failed too: ${propagated.length === 1 ? 'it did not handle it' : 'none of them handled it'}.`);
  }
  const handledBy = [...ancestors].reverse().find((step) => step.status === 'succeeded');
  if (handledBy !== undefined) steps.push(`${mdCode(handledBy.operation)} succeeded although a span below it failed: the error was caught there; check that the fallback is intended.`);
  const params = Object.entries(ctx.captured_params);
  if (params.length === 0) {
    steps.push('No inputs were recorded: record this function\'s arguments with `capture` to see what it was called with next time.');
  } else {
    const empty = params.filter(([, value]) => value === null || value === '' || value === 'undefined' || value === 'null').map(([key]) => mdCode(key, 128));
    steps.push(empty.length > 0 ? `Recorded inputs that are empty or null: ${empty.join(', ')}; check whether the caller should have set them.` : 'Compare the recorded inputs with what this operation expects.');
  }
  const share = ctx.durations.failed_span_share;
  if (TIMEOUT.test(`${ctx.error_type ?? ''} ${ctx.error_message ?? ''}`)) {
    steps.push(`The error reads like a timeout after ${ms(ctx.durations.failed_span_ms)}: look at the dependency it waited on and at the configured time limit.`);
  } else if (share !== null && share >= 0.8 && ctx.path_spans.length > 1) {
    steps.push(`It took ${Math.round(share * 100)}% of the whole trace before failing: look for something slow it waited on.`);
  }
  const sameOperation = ctx.siblings.spans.filter((sib) => sib.operation === failed.operation);
  const sameOk = sameOperation.filter((sib) => sib.status === 'succeeded');
  if (sameOk.length > 0) {
    steps.push(`${sameOk.length} other call${sameOk.length === 1 ? '' : 's'} of ${mdCode(failed.operation)} under the same parent succeeded (e.g. span ${mdCode(sameOk[0]?.span_id ?? '')}): compare their inputs with ${mdCode(`teracron trace ${ctx.trace_id}`)}.`);
  } else if (sameOperation.length > 0) {
    steps.push(`${mdCode(failed.operation)} ran ${sameOperation.length + 1} times under the same parent and never succeeded: a retry did not help, so the cause is probably not transient.`);
  }
  if (ctx.other_failures.length > 0) {
    steps.push(`${ctx.other_failures.length} other span${ctx.other_failures.length === 1 ? '' : 's'} failed elsewhere in the trace: ${ctx.other_failures.slice(0, 5).map((span) => `${mdCode(span.operation)} (${mdCode(span.error ?? 'no error recorded')})`).join(', ')}.`);
  }
  return steps;
}

// ---- the repro script ----------------------------------------------------------------------

const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    // strict mode and module code
    'implements interface let package private protected public static yield await eval arguments ' +
    // globals and module-wrapper names a top-level function must not shadow
    'undefined NaN Infinity globalThis Error Object require module exports __filename __dirname process'
  ).split(' '),
);

const MAX_IDENTIFIER = 64;

/** A name that can only be a plain identifier: [A-Za-z_$][A-Za-z0-9_$]*, reserved words suffixed with `_`. */
export function sanitizeIdentifier(raw: string): string {
  let name = raw.replace(/[^A-Za-z0-9_$]/g, '_').slice(0, MAX_IDENTIFIER);
  if (name === '') name = '_';
  if (/^[0-9]/.test(name)) name = `_${name}`.slice(0, MAX_IDENTIFIER);
  if (RESERVED.has(name)) name = `${name}_`;
  return name;
}

/** Text for a `//` comment: letters, digits and harmless punctuation only, never a line break, `/`, `*` or `<`. */
export function commentSafe(text: string, max = 80): string {
  const safe = text.replace(/[^A-Za-z0-9 _.,:;()+=#@!?'"[\]{}%&-]/g, '_');
  return safe.length > max ? `${safe.slice(0, max - 3)}...` : safe;
}

/** A string literal that stays inert in a script, a template or an HTML <script>. */
function stringLiteral(text: string): string {
  return JSON.stringify(text).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029').replace(/</g, '\\u003c');
}

/** A JavaScript literal for JSON-like data: every leaf through JSON.stringify, `__proto__` kept a plain key. */
export function jsLiteral(value: unknown, indent = '', depth = 0): string {
  if (value === null || value === undefined || depth > 32) return 'null';
  if (typeof value === 'string') return stringLiteral(value);
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value !== 'object') return stringLiteral(String(value));
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((item) => `${inner}${jsLiteral(item, inner, depth + 1)}`).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  const lines = entries.map(([key, item]) => {
    // `{ "__proto__": x }` would set the prototype; a computed key is an ordinary property.
    const name = key === '__proto__' ? `[${stringLiteral(key)}]` : stringLiteral(key);
    return `${inner}${name}: ${jsLiteral(item, inner, depth + 1)}`;
  });
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

export function renderRepro(ctx: FailureContext, spans: Span[]): string {
  const byId = new Map(spans.map((span) => [span.span_id, span]));
  const used = new Set(['ERROR_TYPE', 'ERROR_MESSAGE']);
  const unique = (raw: string): string => {
    const base = sanitizeIdentifier(raw);
    let name = base;
    for (let n = 2; used.has(name); n += 1) name = `${base}_${n}`;
    used.add(name);
    return name;
  };
  // Named after the recorded type where that is a plain identifier, so Node prints `PaymentError: …`.
  const errorClass = unique(ctx.error_type ?? 'Error');
  const names = ctx.path_spans.map((step) => unique(step.operation));
  const paramsOf = (i: number, indent: string) => jsLiteral(plain(byId.get(ctx.path_spans[i]?.span_id ?? '')?.captured_params ?? {}), indent);
  const total = names.length;
  const out: string[] = [
    `// Inert reproduction of a failed teracron trace (trace ${commentSafe(ctx.trace_id)}), made by teracron simulate.`,
    '// It reads and writes no files, opens no connections and looks at no environment: each step of',
    '// the recorded call path is a stub named after its operation, and the failing step throws the',
    '// recorded error with the recorded message. Run it with: node repro.js',
    "'use strict';",
    '',
    `const ERROR_TYPE = ${stringLiteral(ctx.error_type ?? 'Error')};`,
    `const ERROR_MESSAGE = ${stringLiteral(ctx.error_message ?? '')};`,
    '',
    `class ${errorClass} extends Error {}`,
    "// Set before any instance exists, so the stack trace's first line shows the recorded type as is.",
    `${errorClass}.prototype.name = ERROR_TYPE;`,
    `if (Error.stackTraceLimit < ${total + 5}) Error.stackTraceLimit = ${total + 5};`,
  ];
  names.forEach((name, i) => {
    const step = ctx.path_spans[i] as StepSummary;
    out.push('', `// Step ${i + 1} of ${total}: ${commentSafe(step.operation)} (recorded ${commentSafe(step.status)}, ${commentSafe(ms(step.duration_ms))}).`);
    out.push(`function ${name}(params) {`);
    if (i === total - 1) {
      out.push(`  throw new ${errorClass}(ERROR_MESSAGE);`);
    } else {
      out.push(`  return ${names[i + 1]}(${paramsOf(i + 1, '  ')});`);
    }
    out.push('}');
  });
  out.push('', `${names[0]}(${paramsOf(0, '')});`, '');
  return out.join('\n');
}
