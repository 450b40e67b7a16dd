/**
 * The idle agent's memory, piece by piece: each step of memory-account-subject.ts in a fresh
 * process, steps interleaved, repeated; medians of USS, RSS and each thread's V8 heap, and what
 * each step adds over the one it builds on. Not part of `npm run bench` (it explains the idle
 * figure of bench/memory.ts rather than tracking one):
 *
 *   npx tsc -p tsconfig.json && node dist/bench/memory-account.js [--reps 5] [--idle-ms 1000]
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSink } from './memory';
import type { Sink } from './memory';
import { STEPS } from './memory-account-subject';
import type { AccountReport, StepName } from './memory-account-subject';
import { benchProject } from './project';
import { machine, summarize } from './stats';

const SUBJECT = join(__dirname, 'memory-account-subject.js');
const PROBE = join(__dirname, 'memory-account-probe.js');
const MIB = 1024 * 1024;
const SUBJECT_TIMEOUT_MS = 60_000;

function runSubject(step: StepName, sink: Sink, apiKey: string, idleMs: number): Promise<AccountReport> {
  const child = spawn(process.execPath, ['-r', PROBE, SUBJECT, step, '--sink', sink.url, '--idle-ms', String(idleMs)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TERACRON_API_KEY: apiKey },
  });
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), SUBJECT_TIMEOUT_MS);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('\n')) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(stdout.slice(0, stdout.indexOf('\n'))) as AccountReport);
      } catch {
        reject(new Error(`memory-account subject "${step}" gave no report. stdout: ${stdout.trim() || '(empty)'} stderr: ${stderr.trim() || '(empty)'}`));
      }
    });
  });
}

const COLUMNS = [
  ['USS', (r: AccountReport) => r.uss],
  ['RSS', (r: AccountReport) => r.rss],
  ['main used', (r: AccountReport) => r.mainHeapUsed],
  ['main total', (r: AccountReport) => r.mainHeapTotal],
  ['wkr used', (r: AccountReport) => r.workerHeapUsed],
  ['wkr total', (r: AccountReport) => r.workerHeapTotal],
] as const;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { reps: { type: 'string', default: '5' }, 'idle-ms': { type: 'string', default: '1000' } } });
  const reps = Number(values.reps);
  const idleMs = Number(values['idle-ms']);
  const { apiKey } = await benchProject();
  const sink = await startSink();
  const reports: AccountReport[] = [];
  try {
    for (let rep = 0; rep < reps; rep++) {
      // Rotated, so that no step always runs first or right after the same one.
      for (let i = 0; i < STEPS.length; i++) reports.push(await runSubject(STEPS[(i + rep) % STEPS.length]!.name, sink, apiKey, idleMs));
    }
  } finally {
    await sink.close();
  }
  const median = (step: StepName, pick: (r: AccountReport) => number): number => summarize(reports.filter((r) => r.step === step).map(pick)).median;
  const mib = (bytes: number): string => (bytes / MIB).toFixed(1);
  const signed = (bytes: number): string => `${bytes >= 0 ? '+' : ''}${mib(bytes)}`;

  console.log(`memory account: ${machine()}; ${reps} reps, each step a fresh process, ${idleMs} ms idle after setup; medians in MiB (Δ: over the step named in "after"; heaps: V8 used / total, main thread and worker)`);
  console.log(['step'.padEnd(36), ...COLUMNS.map(([label]) => label.padStart(11) + 'Δ'.padStart(6)), '  after'].join(''));
  for (const step of STEPS) {
    const cells = COLUMNS.map(([, pick]) => {
      const value = median(step.name, pick);
      const delta = step.after === null ? '' : signed(value - median(step.after, pick));
      return mib(value).padStart(11) + delta.padStart(6);
    });
    console.log([step.name.padEnd(36), ...cells, `  ${step.after ?? ''}`].join(''));
  }
  const over = (step: StepName, pick: (r: AccountReport) => number): string => signed(median(step, pick) - median('no agent', pick));
  console.log(`\nagent idle over no agent: USS ${over('agent idle (teracron/auto)', (r) => r.uss)} MiB, RSS ${over('agent idle (teracron/auto)', (r) => r.rss)} MiB`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
