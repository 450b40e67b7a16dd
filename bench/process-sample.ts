/**
 * Cost of one process sample: the native addon's readProcess(), the TypeScript /proc fallback,
 * and pidusage (npm, the usual choice), in the same process, interleaved, repeated. Each reads
 * an idle Node child holding about 100 MiB (as a sidecar would), a `sleep` (a tiny address
 * space, so the readers' own parsing shows rather than the kernel's page-table walk behind
 * smaps_rollup), and this process itself.
 *
 * They do not read the same amount: readProcess() gives RSS, VMS, USS, PSS, swap, CPU times,
 * threads, start time and parent (stat, statm and smaps_rollup); pidusage gives CPU % and RSS
 * (stat, plus /proc/uptime). process.memoryUsage() is listed for context: RSS and V8 figures of
 * this process only.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createFallbackReader } from '../src/process/fallback';
import { loadNativeReader } from '../src/process/native';
import { summaryRows } from './harness';
import type { Bench, BenchContext, BenchRow } from './harness';
import { formatRow, machine, summarize } from './stats';

type Pidusage = ((pid: number) => Promise<{ cpu: number; memory: number }>) & { clear(): void };

function loadPidusage(): Pidusage {
  const requirePeer = createRequire(join(__dirname, '..', '..', 'bench', 'package.json'));
  try {
    return requirePeer('pidusage') as Pidusage;
  } catch (err) {
    throw new Error(`pidusage is not installed for the benchmarks: run \`npm ci --prefix bench\` (or \`npm run bench\`, which does). ${(err as Error).message}`);
  }
}

/** A child that allocates and touches ~100 MiB, then idles. */
function startSubject(): Promise<ChildProcess> {
  const script = "const b = Buffer.alloc(100 * 1024 * 1024, 1); setInterval(() => b[0]++, 1000); process.stdout.write('ready\\n');";
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('error', reject);
  });
}

function startSleep(): ChildProcess {
  return spawn('sleep', ['600'], { stdio: 'ignore' });
}

let sink = 0;

async function timeCalls(calls: number, read: () => unknown): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < calls; i++) {
    const result = read();
    if (result instanceof Promise) sink += ((await result) as { memory: number }).memory;
    else sink += (result as { rss: number }).rss;
  }
  return ((performance.now() - start) * 1000) / calls;
}

/** Calls per case and repetition, and untimed calls per case first. */
const CALLS = { smoke: 20, quick: 500, full: 2_000 } as const;
const WARMUP_CALLS = { smoke: 5, quick: 50, full: 50 } as const;

async function run({ mode, reps }: BenchContext): Promise<BenchRow[]> {
  const pidusage = loadPidusage();
  const native = loadNativeReader();
  const fallback = createFallbackReader();
  const child = await startSubject();
  const childPid = child.pid!;
  const sleeper = startSleep();
  const sleepPid = sleeper.pid!;
  const calls = CALLS[mode];
  const cases: Record<string, () => unknown> = {
    'addon readProcess(child)': () => native.readProcess(childPid),
    'fallback readProcess(child)': () => fallback.readProcess(childPid),
    'pidusage(child)': () => pidusage(childPid),
    'addon readProcess(sleep)': () => native.readProcess(sleepPid),
    'fallback readProcess(sleep)': () => fallback.readProcess(sleepPid),
    'pidusage(sleep)': () => pidusage(sleepPid),
    'addon readProcess(self)': () => native.readProcess(process.pid),
    'fallback readProcess(self)': () => fallback.readProcess(process.pid),
    'pidusage(self)': () => pidusage(process.pid),
    'process.memoryUsage() (self, for context)': () => process.memoryUsage(),
  };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  try {
    for (const read of Object.values(cases)) await timeCalls(WARMUP_CALLS[mode], read);
    for (let rep = 0; rep < reps; rep++) {
      for (const [name, read] of Object.entries(cases)) samples[name]!.push(await timeCalls(calls, read));
    }
  } finally {
    child.kill();
    sleeper.kill();
    pidusage.clear();
  }
  console.log(`process-sample: ${machine()}; ${reps} reps × ${calls} calls, interleaved; child holds ~100 MiB`);
  console.log(`${''.padEnd(44)}${'min'.padStart(10)}${'median'.padStart(10)}${'max'.padStart(10)}`);
  const rows: BenchRow[] = [];
  for (const [name, values] of Object.entries(samples)) {
    const summary = summarize(values);
    console.log(formatRow(name, summary, 'µs/sample'));
    const system = name.startsWith('addon') ? 'teracron' : name.startsWith('fallback') ? 'teracron-fallback' : name.startsWith('pidusage') ? 'pidusage' : 'baseline';
    const metric = `${/\((\w+)/.exec(name)![1]}_sample_us`;
    rows.push(...summaryRows('process-sample', system === 'baseline' ? 'process.memoryUsage' : system, metric, 'µs', summary));
  }
  const median = (name: string): number => summarize(samples[name]!).median;
  for (const subject of ['child', 'sleep', 'self']) {
    const addon = median(`addon readProcess(${subject})`);
    console.log(`${subject}: fallback / addon ${(median(`fallback readProcess(${subject})`) / addon).toFixed(2)}×, pidusage / addon ${(median(`pidusage(${subject})`) / addon).toFixed(2)}×`);
  }
  if (Number.isNaN(sink)) console.log('(unreachable: keeps the results alive)');
  return rows;
}

export const processSample: Bench = {
  name: 'process-sample',
  description: 'one process sample: the addon, the TypeScript /proc fallback, and pidusage',
  run,
};

if (require.main === module) void run({ mode: 'quick', reps: Number(process.env.REPS ?? '15') });
