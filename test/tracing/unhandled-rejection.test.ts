/**
 * A traced async function's rejection is exactly as unhandled as the untraced one's: the same
 * crash under Node's default --unhandled-rejections=throw, the same warning under =warn, the
 * same unhandledRejection events for an app that listens, and none when the caller handles it.
 * Real child processes (test/fixtures/unhandled-rejection.ts), each wrapper against `none`.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { exitBudgetEnv, fixturePath, runNode } from '../helpers/child';
import type { NodeResult } from '../helpers/child';
import { serve } from '../helpers/http';
import type { TestServer } from '../helpers/http';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(180_000);

const WRAPPERS = ['trace', 'withSpan', 'traced'] as const;
const ERROR_LINE = 'TypeError: order 7 could not be charged';

const vectors = envelopeVectors();
// The agent needs somewhere to send; what it sends is not the question here.
let sink: TestServer;

before(async () => {
  sink = await serve((req, res) => {
    req.resume();
    req.on('end', () => res.end());
  });
});

after(() => sink.close());

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The fixture's exit line: events seen, and whether the caller's catch got the error. */
  report: { events: boolean[]; caught: boolean | null };
  /** How often stderr names the error. */
  errorLines: number;
  stderr: string;
}

async function run(wrap: string, env: Record<string, string>, nodeFlags: string[] = []): Promise<Outcome> {
  const result: NodeResult = await runNode([...nodeFlags, fixturePath('unhandled-rejection')], {
    TERACRON_API_KEY: vectors.api_key,
    TERACRON_DOMAIN: sink.url,
    ...exitBudgetEnv,
    WRAP: wrap,
    ...env,
  });
  const line = result.stdout.split('\n').find((text) => text.startsWith('{'));
  assert.ok(line, `WRAP=${wrap} printed its exit line; stdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return {
    code: result.code,
    signal: result.signal,
    report: JSON.parse(line) as Outcome['report'],
    errorLines: result.stderr.split('\n').filter((text) => text.includes(ERROR_LINE)).length,
    stderr: result.stderr,
  };
}

/** Runs the untraced function and every wrapper the same way; each must end like the untraced one. */
async function compare(env: Record<string, string>, nodeFlags: string[], expected: Omit<Outcome, 'stderr'>): Promise<void> {
  const outcomes = await Promise.all(['none', ...WRAPPERS].map((wrap) => run(wrap, env, nodeFlags)));
  const [untraced, ...traced] = outcomes;
  const { stderr: _, ...plain } = untraced!;
  assert.deepEqual(plain, expected, `the untraced function, stderr:\n${untraced!.stderr}`);
  traced.forEach((outcome, i) => {
    const { stderr, ...seen } = outcome;
    assert.deepEqual(seen, expected, `WRAP=${WRAPPERS[i]} behaves like the untraced function; its stderr:\n${stderr}`);
  });
}

test('an unhandled rejection crashes the process under the default mode, traced or not, naming the same error', async () => {
  await compare({}, [], { code: 1, signal: null, report: { events: [], caught: null }, errorLines: 1 });
});

test('under --unhandled-rejections=warn, traced or not, the process warns once and carries on', async () => {
  await compare({}, ['--unhandled-rejections=warn'], { code: 0, signal: null, report: { events: [], caught: null }, errorLines: 1 });
});

test('an app listening for unhandledRejection gets one event with the very error, traced or not', async () => {
  await compare({ APP_HANDLER: '1' }, [], { code: 0, signal: null, report: { events: [true], caught: null }, errorLines: 0 });
});

test('a rejection the caller handles raises no event and no crash, traced or not', async () => {
  await compare({ APP_HANDLER: '1', CALLER: 'handles' }, [], { code: 0, signal: null, report: { events: [], caught: true }, errorLines: 0 });
});
