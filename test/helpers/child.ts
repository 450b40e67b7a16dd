/** Runs a compiled fixture in a child process and collects its JSON lines and exit. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: Array<Record<string, unknown>>;
  stderr: string;
  /** Date.now() in the parent when the child exited. */
  exitedAt: number;
}

export function fixturePath(name: string): string {
  return join(__dirname, '..', 'fixtures', `${name}.js`);
}

export function runFixture(name: string, env: Record<string, string>, timeoutMs = 30_000): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixturePath(name)], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fixture ${name} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    let exitedAt = 0;
    child.on('exit', () => {
      exitedAt = Date.now();
    });
    // 'close' comes after both 'exit' and the end of stdout/stderr, so all output is in.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = stdout
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      resolve({ code, signal, lines, stderr, exitedAt });
    });
  });
}
