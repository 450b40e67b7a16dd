import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import {
  buildFailureContext,
  commentSafe,
  findFailedSpan,
  jsLiteral,
  mdCode,
  normalizeSpans,
  renderDiagnosis,
  renderRepro,
  sanitizeIdentifier,
} from '../../src/cli/simulate-render';
import type { FailureContext, Span } from '../../src/cli/simulate-render';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const TRACE = 'ab'.repeat(16);
const id = (n: number) => n.toString(16).padStart(32, '0');

const HOSTILE_TYPE = 'Boom*/Error`${process.exit(7)}`';
const HOSTILE_MESSAGE = 'bad */ input `x` ${process.exit(1)} \u2028 after-LS \u2029 after-PS\nsecond line </script><script>alert(1)</script> \u001b[31mred';

/** A failing trace whose every string is written to break out of something. */
function hostileSpans(): Span[] {
  return normalizeSpans([
    { span_id: id(1), parent_span_id: null, workflow: 'check`out', operation: 'constructor', status: 'failed', started_at: 1000, duration_ms: 120, error_type: HOSTILE_TYPE, error_message: HOSTILE_MESSAGE, metadata: {}, captured_params: { user_id: 42 } },
    { span_id: id(2), parent_span_id: id(1), workflow: 'check`out', operation: 'a-b.c', status: 'succeeded', started_at: 1001, duration_ms: 3, metadata: {}, captured_params: {} },
    { span_id: id(3), parent_span_id: id(1), workflow: 'check`out', operation: 'a-b.c', status: 'failed', started_at: 1005, duration_ms: 100, error_type: HOSTILE_TYPE, error_message: HOSTILE_MESSAGE, captured_params: { q: '`${process.exit(1)}`' } },
    { span_id: id(4), parent_span_id: id(3), workflow: 'check`out', operation: 'eval', status: 'failed', started_at: 1006, duration_ms: 90, error_type: HOSTILE_TYPE, error_message: HOSTILE_MESSAGE },
    {
      span_id: id(5),
      parent_span_id: id(4),
      workflow: 'check`out',
      operation: '</script>',
      status: 'failed',
      started_at: 1010,
      duration_ms: 80,
      error_type: HOSTILE_TYPE,
      error_message: HOSTILE_MESSAGE,
      metadata: { region: 'eu */ west', 'line\nbreak': true },
      captured_params: JSON.parse(
        '{"__proto__": {"polluted": true}, "cmd": "\'); require(\\"fs\\").writeFileSync(\\"pwned\\", \\"x\\"); (\'", "</script><script>alert(1)</script>": "v", "tpl": "${globalThis.process.exit(3)}", "ls": "a\u2028b", "empty": null}',
      ) as Record<string, unknown>,
    },
    { span_id: id(6), parent_span_id: id(1), workflow: 'check`out', operation: 'retry', status: 'failed', started_at: 1110, duration_ms: 5, error_type: 'Other', error_message: 'shallow' },
  ]);
}

function hostileContext(): FailureContext {
  const context = buildFailureContext(TRACE, hostileSpans());
  assert.ok(context !== null);
  return context;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

test('the failed span is the deepest origin of a failure chain, not a parent the error passed through', () => {
  assert.equal(findFailedSpan(hostileSpans())?.operation, '</script>');
});

test('among equally deep failed spans the earliest started is chosen', () => {
  const spans = normalizeSpans([
    { span_id: id(1), parent_span_id: null, operation: 'root', status: 'succeeded', started_at: 0 },
    { span_id: id(2), parent_span_id: id(1), operation: 'late', status: 'failed', started_at: 50 },
    { span_id: id(3), parent_span_id: id(1), operation: 'early', status: 'failed', started_at: 10 },
  ]);
  assert.equal(findFailedSpan(spans)?.operation, 'early');
});

test('a trace without a failed span has no failure context', () => {
  const spans = normalizeSpans([{ span_id: id(1), parent_span_id: null, operation: 'ok', status: 'succeeded' }]);
  assert.equal(buildFailureContext(TRACE, spans), null);
});

test('the context holds the path from the root to the failed span', () => {
  assert.deepEqual(hostileContext().path, ['constructor', 'a-b.c', 'eval', '</script>']);
});

test('the context holds the failed span error, params and metadata as recorded', () => {
  const context = hostileContext();
  assert.equal(context.error_type, HOSTILE_TYPE);
  assert.equal(context.error_message, HOSTILE_MESSAGE);
  assert.equal(context.failed_span.depth, 3);
  assert.deepEqual(Object.keys(context.captured_params), ['__proto__', 'cmd', '</script><script>alert(1)</script>', 'tpl', 'ls', 'empty']);
  assert.deepEqual(context.metadata, { region: 'eu */ west', 'line\nbreak': true });
});

test('a __proto__ key in captured params stays a plain key and pollutes nothing', () => {
  const context = hostileContext();
  assert.ok(Object.prototype.hasOwnProperty.call(context.captured_params, '__proto__'));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(context.captured_params), Object.prototype);
});

test('siblings are summarised by status and other failures are listed', () => {
  const spans = hostileSpans();
  const context = buildFailureContext(TRACE, spans);
  assert.ok(context !== null);
  assert.deepEqual({ ...context.siblings, spans: context.siblings.spans.length }, { total: 0, succeeded: 0, failed: 0, other: 0, spans: 0, truncated: false });
  assert.deepEqual(
    context.other_failures.map((span) => span.operation),
    ['retry'],
  );
  // One level up, a-b.c has a succeeded twin and a failed sibling.
  const upper = buildFailureContext(TRACE, spans.filter((span) => span.operation !== 'eval' && span.operation !== '</script>'));
  assert.ok(upper !== null);
  assert.equal(upper.failed_span.operation, 'a-b.c');
  assert.deepEqual([upper.siblings.total, upper.siblings.succeeded, upper.siblings.failed], [2, 1, 1]);
});

test('durations give the failed span share of the trace and its offset from the start', () => {
  const d = hostileContext().durations;
  assert.equal(d.trace_ms, 120);
  assert.equal(d.failed_span_ms, 80);
  assert.equal(d.failed_span_share, 80 / 120);
  assert.equal(d.failed_span_offset_ms, 10);
  assert.deepEqual(d.path.map((step) => step.duration_ms), [120, 100, 90, 80]);
});

test('spans with missing or wrongly typed fields are normalised, not trusted', () => {
  const spans = normalizeSpans([null, 'x', { span_id: 7 }, { span_id: id(1), operation: { toString: 'boom' }, status: 3, started_at: '5', metadata: [1], captured_params: 'no' }, { span_id: id(1), operation: 'duplicate' }]);
  assert.equal(spans.length, 1);
  assert.deepEqual(spans[0], {
    span_id: id(1),
    parent_span_id: null,
    workflow: null,
    operation: '(unnamed)',
    status: 'unknown',
    started_at: null,
    duration_ms: null,
    error_type: null,
    error_message: null,
    metadata: {},
    captured_params: {},
  });
});

test('a parent cycle does not hang the path search', () => {
  const spans = normalizeSpans([
    { span_id: id(1), parent_span_id: id(2), operation: 'a', status: 'failed' },
    { span_id: id(2), parent_span_id: id(1), operation: 'b', status: 'succeeded' },
  ]);
  const context = buildFailureContext(TRACE, spans);
  assert.ok(context !== null);
  assert.deepEqual(context.path, ['a']);
});

test('identifiers are rebuilt from [A-Za-z0-9_$] and reserved words are suffixed', () => {
  assert.equal(sanitizeIdentifier('constructor'), 'constructor');
  assert.equal(sanitizeIdentifier('a-b.c'), 'a_b_c');
  assert.equal(sanitizeIdentifier('eval'), 'eval_');
  assert.equal(sanitizeIdentifier('arguments'), 'arguments_');
  assert.equal(sanitizeIdentifier('class'), 'class_');
  assert.equal(sanitizeIdentifier('await'), 'await_');
  assert.equal(sanitizeIdentifier('</script>'), '__script_');
  assert.equal(sanitizeIdentifier('9lives'), '_9lives');
  assert.equal(sanitizeIdentifier(''), '_');
  assert.equal(sanitizeIdentifier('café'), 'caf_');
  for (const raw of ['${x}', 'a\u2028b', '`', '\\u0061', 'x'.repeat(500), '__proto__', '0', 'Error', 'require']) {
    assert.match(sanitizeIdentifier(raw), IDENTIFIER, raw);
  }
});

test('comment text never holds a line break, a comment terminator or a tag opener', () => {
  const safe = commentSafe(`a */ b\nc\u2028d\u2029e\rf </script> ${'x'.repeat(200)}`);
  assert.doesNotMatch(safe, /[\n\r\u2028\u2029*/<]/);
  assert.ok(safe.length <= 80);
});

test('a JS literal evaluates back to the same data, __proto__ included as an own key', () => {
  const data = JSON.parse('{"__proto__": {"x": 1}, "s": "`${1+1}` </script> \\u2028", "n": [1, 2.5, true, null], "o": {"__proto__": []}}') as unknown;
  const literal = jsLiteral(data);
  assert.doesNotMatch(literal, /[\u2028\u2029]|<\/script/);
  const back = runInNewContext(`(${literal})`, Object.create(null)) as unknown;
  assert.equal(JSON.stringify(back), JSON.stringify(data));
});

test('a markdown code span fence is longer than any backtick run in the text', () => {
  assert.equal(mdCode('a ``` b'), '````a ``` b````');
  assert.equal(mdCode('`x`'), '`` `x` ``');
  assert.equal(mdCode('one\ntwo\u2028three'), '`one two three`');
  assert.equal(mdCode('\u001b[2J'), '`\\u001b[2J`');
});

test('the diagnosis names the failed operation, the path, the inputs and the timing', () => {
  const md = renderDiagnosis(hostileContext());
  assert.match(md, /^# Failure in workflow ``check`out``$/m);
  assert.match(md, /^4\. `<\/script>`: failed, 80 ms ← failed here$/m);
  assert.match(md, /^- `cmd`: /m);
  assert.match(md, /ran for 80 ms, 67% of the trace's 120 ms/);
  assert.match(md, /went up through `constructor` → `a-b\.c` → `eval`, which failed too/);
  assert.match(md, /Recorded inputs that are empty or null: `empty`/);
  assert.match(md, /1 other span failed elsewhere in the trace: `retry`/);
});

test('the diagnosis is titled with the run\'s (root span\'s) workflow; the failed span keeps its own where it is described', () => {
  const spans = normalizeSpans([
    { span_id: id(1), parent_span_id: null, workflow: 'http', operation: 'POST /orders', status: 'failed', started_at: 1000, duration_ms: 40, error_type: 'StockError', error_message: 'sold out' },
    { span_id: id(2), parent_span_id: id(1), workflow: 'inventory', operation: 'reserve', status: 'failed', started_at: 1005, duration_ms: 20, error_type: 'StockError', error_message: 'sold out' },
  ]);
  const context = buildFailureContext(TRACE, spans);
  assert.ok(context !== null);
  assert.equal(context.workflow, 'http');
  assert.equal(context.failed_span.operation, 'reserve');
  assert.equal(context.failed_span.workflow, 'inventory');
  const md = renderDiagnosis(context);
  assert.match(md, /^# Failure in workflow `http`$/m);
  assert.match(md, /^`reserve` \(workflow `inventory`, span `0+2`\) failed with `StockError`:$/m);
});

test('a failed span in the run\'s own workflow is not given its workflow twice', () => {
  const spans = normalizeSpans([
    { span_id: id(1), parent_span_id: null, workflow: 'checkout', operation: 'run', status: 'failed', started_at: 1000, duration_ms: 40, error_type: 'E', error_message: 'm' },
  ]);
  const md = renderDiagnosis(buildFailureContext(TRACE, spans)!);
  assert.match(md, /^# Failure in workflow `checkout`$/m);
  assert.match(md, /^`run` \(span `0+1`\) failed with `E`:$/m);
});

test('the diagnosis keeps the hostile error message inside a fence it cannot close', () => {
  const md = renderDiagnosis(hostileContext());
  const fence = /^(`{3,})text\n([\s\S]*?)\n\1$/m.exec(md);
  assert.ok(fence !== null, 'a fenced block');
  assert.ok(!(fence[2] ?? '').includes(fence[1] ?? ''), 'the fence does not occur inside the block');
  assert.ok((fence[2] ?? '').includes('${process.exit(1)}'));
  assert.doesNotMatch(md, /\u001b/);
});

test('the repro script holds no raw line separators, no </script> and only safe identifiers and comments', () => {
  const context = hostileContext();
  const repro = renderRepro(context, hostileSpans());
  assert.doesNotMatch(repro, /[\u2028\u2029\u001b]/);
  assert.doesNotMatch(repro, /<\/script/i);
  // Outside its string literals the script uses no module system, process, eval or Function.
  const code = repro.replace(/"(?:[^"\\\n]|\\.)*"/g, '""');
  assert.doesNotMatch(code, /\b(require|process|import|globalThis|Function)\b|\beval\(/);
  const names = [...repro.matchAll(/^function ([^(]*)\(/gm)].map((m) => m[1]);
  assert.deepEqual(names, ['constructor', 'a_b_c', 'eval_', '__script_']);
  for (const line of repro.split('\n').filter((l) => l.trimStart().startsWith('//'))) {
    assert.doesNotMatch(line.replace(/^\s*\/\//, ''), /\*\/|</, line);
  }
});

test('a repeated operation on the path gets distinct function names', () => {
  const spans = normalizeSpans([
    { span_id: id(1), parent_span_id: null, operation: 'step', status: 'failed' },
    { span_id: id(2), parent_span_id: id(1), operation: 'step', status: 'failed' },
    { span_id: id(3), parent_span_id: id(2), operation: 'ERROR_TYPE', status: 'failed', error_message: 'x' },
  ]);
  const context = buildFailureContext(TRACE, spans);
  assert.ok(context !== null);
  const names = [...renderRepro(context, spans).matchAll(/^function ([^(]*)\(/gm)].map((m) => m[1]);
  assert.deepEqual(names, ['step', 'step_2', 'ERROR_TYPE_2']);
});

function writeRepro(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'teracron-repro-'));
  const file = join(dir, 'repro.js');
  writeFileSync(file, renderRepro(hostileContext(), hostileSpans()));
  return { dir, file };
}

test('the repro script passes node --check', () => {
  const { dir, file } = writeRepro();
  try {
    const result = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('running the repro throws only the recorded error, exits non-zero and writes nothing', () => {
  const { dir, file } = writeRepro();
  try {
    // The permission model denies file writes, child processes and workers: any side effect
    // would fail with ERR_ACCESS_DENIED instead of the recorded error.
    const result = spawnSync(process.execPath, ['--experimental-permission', `--allow-fs-read=${file}`, file], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
      timeout: 30_000,
    });
    assert.equal(result.status, 1, result.stderr);
    assert.equal(result.stdout, '');
    assert.ok(result.stderr.includes(`${HOSTILE_TYPE}: ${HOSTILE_MESSAGE}`), result.stderr);
    assert.doesNotMatch(result.stderr, /ERR_ACCESS_DENIED/);
    // The stack shows the recorded call path, innermost first.
    const frames = [...result.stderr.matchAll(/^ {4}at (\S+) \(/gm)].map((m) => m[1]);
    assert.deepEqual(frames.slice(0, 4), ['__script_', 'eval_', 'a_b_c', 'constructor']);
    assert.deepEqual(readdirSync(dir), ['repro.js']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the repro runs as an ES module too, with the same error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'teracron-repro-'));
  try {
    const file = join(dir, 'repro.mjs');
    writeFileSync(file, renderRepro(hostileContext(), hostileSpans()));
    const result = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH } });
    assert.equal(result.status, 1);
    assert.ok(result.stderr.includes(`${HOSTILE_TYPE}: ${HOSTILE_MESSAGE}`), result.stderr);
    assert.deepEqual(readdirSync(dir), ['repro.mjs']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
