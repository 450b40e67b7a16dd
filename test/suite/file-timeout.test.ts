/**
 * The suite's own rule: every test file states a time budget (test/helpers/file-timeout.ts),
 * within what the runner's backstop allows, and a file past its budget fails instead of hanging.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fixturePath, runNode } from '../helpers/child';
import { MAX_FILE_TIMEOUT_MS, fileTimeout } from '../helpers/file-timeout';
import { waitFor } from '../helpers/wait';
import { repoRoot } from '../../support/repo-root';

fileTimeout(60_000);

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

test('every test file states its budget with fileTimeout(), at most MAX_FILE_TIMEOUT_MS', () => {
  const root = join(repoRoot(), 'test');
  const files = testFiles(root);
  assert.ok(files.length > 50, `${files.length} test files found under ${root}`);
  const wrong = files.flatMap((file) => {
    const budgets = [...readFileSync(file, 'utf8').matchAll(/^fileTimeout\(([\d_]+)\);$/gm)].map((match) => Number(match[1]!.replaceAll('_', '')));
    const ok = budgets.length === 1 && budgets[0]! <= MAX_FILE_TIMEOUT_MS;
    return ok ? [] : [`${relative(root, file)}: ${budgets.length === 0 ? 'no fileTimeout(ms) line' : budgets.join(', ')}`];
  });
  assert.deepEqual(wrong, []);
});

// The watchdog finds the children in /proc.
test('a file still running past its budget fails, names the test still running and kills the child process it started', { skip: process.platform !== 'linux' && 'finding child processes needs /proc' }, async () => {
  const pidFile = join(mkdtempSync(join(tmpdir(), 'teracron-hang-')), 'pid');
  const run = await runNode(['--test', fixturePath('hangs-past-budget')], { PID_FILE: pidFile });
  assert.equal(run.code, 1, run.stdout);
  const output = run.stdout + run.stderr;
  assert.match(output, /still running 3000 ms after it started \(its fileTimeout\); tests running: "waits for a child that never exits"; open handles: [^;]*ProcessWrap/);
  assert.ok(existsSync(pidFile), 'the fixture started its child');
  const pid = Number(readFileSync(pidFile, 'utf8'));
  assert.match(output, new RegExp(`child processes killed: ${pid}\\b`));
  // Gone, or a zombie that only waits for init to reap it.
  await waitFor(`child ${pid} to be gone`, () => !existsSync(`/proc/${pid}`) || /^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')));
});
