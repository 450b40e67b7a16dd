/**
 * A real collector for tests: a data directory holding the vector project's keys (so envelopes
 * made by the independent implementation open), started as a child process through the CLI.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, envelopeVectors } from './vectors';

export function cliPath(): string {
  return join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
}

/** A fresh data dir with keys/<vector slug>.pem (0600) and .apikey. */
export function vectorDataDir(): string {
  const vectors = envelopeVectors();
  const dir = mkdtempSync(join(tmpdir(), 'teracron-collector-'));
  mkdirSync(join(dir, 'keys'), { mode: 0o700 });
  writeFileSync(join(dir, 'keys', `${vectors.slug}.pem`), vectors.private_key_pem, { mode: 0o600 });
  writeFileSync(join(dir, 'keys', `${vectors.slug}.apikey`), `${vectors.api_key}\n`, { mode: 0o644 });
  return dir;
}

export interface CollectorProcess {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startCollectorProcess(dataDir: string, extraArgs: string[] = []): Promise<CollectorProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath(), 'collector', '--data', dataDir, '--port', '0', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
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

/** GET a query endpoint with the project's key; returns status and parsed JSON. */
export async function query(url: string, path: string, apiKey: string | null = envelopeVectors().api_key): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(`${url}${path}`, { headers: apiKey === null ? {} : { authorization: `Bearer ${apiKey}` } });
  return { status: response.status, body: await response.json(), headers: response.headers };
}
