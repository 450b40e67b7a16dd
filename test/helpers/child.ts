/** Runs a child process (a compiled script under node, or a command) and collects its output and exit. */
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { join } from 'node:path';

export interface NodeResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Date.now() in the parent when the child exited. */
  exitedAt: number;
}

export interface ChildResult extends NodeResult {
  /** stdout as JSON lines. */
  lines: Array<Record<string, unknown>>;
}

/**
 * The exit budget for a child whose agent ships at exit. The default (TERACRON_EXIT_TIMEOUT_MS,
 * 2 s) is what an application should wait, but a loaded machine can overrun it and then what is
 * left is dropped; tests about what arrives raise it (bench/ is where speed is judged). Only a
 * broken exit path ever waits it out, so it costs nothing when things work.
 */
export const EXIT_BUDGET_MS = 20_000;
export const exitBudgetEnv = { TERACRON_EXIT_TIMEOUT_MS: String(EXIT_BUDGET_MS) } as const;

export function fixturePath(name: string): string {
  return join(__dirname, '..', 'fixtures', `${name}.js`);
}

export type NodeChild = ChildProcessByStdio<null, Readable, Readable>;

export interface RunOptions {
  /** The child's whole environment. */
  env: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** Gets the running child, for tests that signal it or watch its output as it comes. */
  onStart?: (child: NodeChild) => void;
}

/** `<command> <args…>`, output collected, killed (and rejected) after `timeoutMs`. */
export function runCommand(command: string, args: string[], options: RunOptions): Promise<NodeResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    let exitedAt = 0;
    child.on('exit', () => {
      exitedAt = Date.now();
    });
    // 'close' comes after both 'exit' and the end of stdout/stderr, so all output is in.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, exitedAt });
    });
    options.onStart?.(child);
  });
}

/**
 * What every child a test starts gets besides its own variables: PATH, and the test run's
 * TERACRON_SPOOL (off: scripts/run-tests.mjs says why), so that a child's agent spools only
 * where its test asks it to.
 */
export function baseChildEnv(): Record<string, string | undefined> {
  return { PATH: process.env.PATH, TERACRON_SPOOL: process.env.TERACRON_SPOOL };
}

/** `node <args…>` with exactly `env` (and baseChildEnv()). */
export function runNode(args: string[], env: Record<string, string | undefined>, timeoutMs = 30_000, onStart?: (child: NodeChild) => void): Promise<NodeResult> {
  return runCommand(process.execPath, args, { env: { ...baseChildEnv(), ...env }, timeoutMs, ...(onStart ? { onStart } : {}) });
}

export async function runFixture(name: string, env: Record<string, string | undefined>, timeoutMs = 30_000): Promise<ChildResult> {
  const result = await runNode([fixturePath(name)], env, timeoutMs);
  const lines = result.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { ...result, lines };
}
