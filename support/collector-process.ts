/**
 * A real collector in a child process, started through the CLI on a free port: what the tests
 * and the benches talk to over loopback HTTP. The data directory must already hold the keys of
 * the projects it should accept.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './repo-root';

export function cliPath(): string {
  return join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
}

export interface CollectorProcess {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `extraArgs` go to `teracron collector`, `nodeArgs` to node itself (e.g. `--cpu-prof`). */
export function startCollectorProcess(dataDir: string, extraArgs: string[] = [], nodeArgs: string[] = []): Promise<CollectorProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, cliPath(), 'collector', '--data', dataDir, '--port', '0', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /^teracron collector listening on (\S+)$/m.exec(stdout);
      if (match) {
        resolve({
          url: match[1]!,
          child,
          stderr: () => stderr,
          stop: (signal = 'SIGTERM') => {
            child.kill(signal);
            return exited;
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`the collector exited (${code}) before listening: ${stderr}`)));
  });
}

/** GET a query endpoint, with the project's key when one is given; returns status and parsed JSON. */
export async function queryCollector(url: string, path: string, apiKey: string | null): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(`${url}${path}`, { headers: apiKey === null ? {} : { authorization: `Bearer ${apiKey}` } });
  return { status: response.status, body: await response.json(), headers: response.headers };
}
