/**
 * One of the demo's services (shop, payments) as a child process: `node -r teracron/auto
 * <script>` with the agent's settings in its environment, ready once it prints `listening
 * <port>`, its output prefixed with its name, its agent's stats asked for over IPC, stopped
 * with SIGTERM.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TeracronStats } from 'teracron';
import type { ServiceMessage, StatsRequest } from '../shop/service';

export interface ServiceProcess {
  name: string;
  pid: number;
  url: string;
  /** Resolves with the exit code (or 128 + signal) when the process ends, for whatever reason. */
  exited: Promise<number>;
  /** The agent's counters now, or null when the service does not answer within `timeoutMs`. */
  stats(timeoutMs?: number): Promise<TeracronStats | null>;
  /** The agent's counters after it stopped and shipped what it held (sent just before exit). */
  finalStats(): TeracronStats | null;
  /** SIGTERM, then SIGKILL if it has not exited after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<number>;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
/** The package's root (dist/examples/demo/../../..), where `-r teracron/auto` resolves to this package. */
const PACKAGE_ROOT = join(__dirname, '..', '..', '..');

export function startService(name: string, script: string, args: string[], env: NodeJS.ProcessEnv, readyTimeoutMs = 20_000): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['-r', 'teracron/auto', script, ...args], { env, cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? 128 + (SIGNALS[signal ?? ''] ?? 0)));
  });
  const pending = new Map<number, (stats: TeracronStats) => void>();
  let nextId = 1;
  let final: TeracronStats | null = null;
  child.on('message', (message: ServiceMessage) => {
    if (message.type === 'final') final = message.stats;
    else if (message.type === 'stats') pending.get(message.id)?.(message.stats);
  });
  // A child that is gone has closed its channel; a failed send is answered by the timeout.
  child.on('error', () => {});
  createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`[${name}] ${line}\n`));
  const stdout = createInterface({ input: child.stdout! });

  return new Promise((resolve, reject) => {
    let ready = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not print "listening <port>" within ${readyTimeoutMs / 1000} s`));
    }, readyTimeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`${name} exited (code ${code}) before listening; its output is above, prefixed [${name}]`));
    });
    stdout.on('line', (line) => {
      const match = ready ? null : /^listening (\d+)$/.exec(line);
      if (match === null) {
        process.stdout.write(`[${name}] ${line}\n`);
        return;
      }
      ready = true;
      clearTimeout(timer);
      resolve({
        name,
        pid: child.pid!,
        url: `http://127.0.0.1:${match[1]}`,
        exited,
        stats: (timeoutMs = 1000) => askStats(child, pending, nextId++, timeoutMs),
        finalStats: () => final,
        stop: (timeoutMs = 15_000) => stop(child, exited, timeoutMs),
      });
    });
  });
}

function askStats(child: ChildProcess, pending: Map<number, (stats: TeracronStats) => void>, id: number, timeoutMs: number): Promise<TeracronStats | null> {
  if (!child.connected) return Promise.resolve(null);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      resolve(null);
    }, timeoutMs);
    pending.set(id, (stats) => {
      clearTimeout(timer);
      pending.delete(id);
      resolve(stats);
    });
    child.send({ type: 'stats', id } satisfies StatsRequest, (error) => {
      if (error) {
        clearTimeout(timer);
        pending.delete(id);
        resolve(null);
      }
    });
  });
}

async function stop(child: ChildProcess, exited: Promise<number>, timeoutMs: number): Promise<number> {
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
  const outcome = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (outcome !== 'late') return outcome;
  child.kill('SIGKILL');
  return exited;
}
