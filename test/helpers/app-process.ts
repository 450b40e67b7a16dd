/**
 * Runs test/fixtures/framework-app as a server in a child process, with or without the agent,
 * and talks to it over loopback. The child stops (shipping what its agent holds) when its stdin
 * is closed.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { baseChildEnv, fixturePath } from './child';
import { repoRoot } from '../../support/repo-root';

export type Framework = 'express' | 'express4' | 'fastify' | 'koa';
/** off: no teracron; idle: integration installed, agent never started; up: up() in the app; preload: node -r teracron/auto. */
export type Mode = 'off' | 'idle' | 'up' | 'preload';

export interface AppProcess {
  url: string;
  stderr(): string;
  /** Closes stdin and resolves with the exit code once the child is gone. */
  stop(): Promise<number | null>;
}

export function startApp(framework: Framework, mode: Mode, env: Record<string, string | undefined> = {}, timeoutMs = 20_000): Promise<AppProcess> {
  const args = mode === 'preload' ? ['-r', 'teracron/auto', fixturePath('framework-app')] : [fixturePath('framework-app')];
  // cwd at the repository root, where `teracron/auto` resolves to this package itself.
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(process.execPath, args, {
    cwd: repoRoot(),
    env: { ...baseChildEnv(), NODE_ENV: 'production', FRAMEWORK: framework, TERACRON: mode, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${framework} (${mode}) did not start within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${framework} (${mode}) exited (${code}) before listening\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /\{"listening":(\d+)\}/.exec(stdout);
      if (match === null) return;
      clearTimeout(timer);
      resolve({
        url: `http://127.0.0.1:${match[1]}`,
        stderr: () => stderr,
        stop: () => {
          child.stdin.end();
          const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
          return exited.finally(() => clearTimeout(kill));
        },
      });
    });
  });
}

export interface Answer {
  status: number;
  contentType: string | null;
  body: string;
}

export async function get(url: string): Promise<Answer> {
  const response = await fetch(url);
  return { status: response.status, contentType: response.headers.get('content-type'), body: await response.text() };
}
