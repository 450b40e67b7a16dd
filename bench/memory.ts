/**
 * Memory of a process with no agent, with teracron and with OpenTelemetry JS: RSS and USS when
 * idle, and under a steady span load (20,000 traced calls per 100 ms tick, 200,000 spans/s,
 * or what the machine manages, reported). Every figure comes from a fresh child process
 * (bench/memory-subject.ts) that reads its own /proc; systems are interleaved, order rotated
 * each repetition, min / median / max over the repetitions.
 *
 * teracron ships to a loopback sink in this process that answers 202 without decrypting, so
 * the subject holds only what the agent itself holds; OpenTelemetry exports into a discarding
 * exporter inside the subject.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BenchSkipped, summaryRows } from './harness';
import type { Bench, BenchContext, BenchRow } from './harness';
import { SYSTEMS } from './memory-subject';
import type { Phase, SubjectReport, System } from './memory-subject';
import { benchProject } from './project';
import { formatRow, machine, summarize } from './stats';
import type { Summary } from './stats';

const SUBJECT = join(__dirname, 'memory-subject.js');
const TICK_MS = 100;
const PER_TICK = 20_000;
const MIB = 1024 * 1024;
const SUBJECT_TIMEOUT_MS = 60_000;

export interface Sink {
  url: string;
  close(): Promise<void>;
}

/** A loopback endpoint that answers 202 to everything, without reading what it is sent. */
export async function startSink(): Promise<Sink> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(202).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function checkOpenTelemetry(): void {
  const requirePeer = createRequire(join(__dirname, '..', '..', 'bench', 'package.json'));
  try {
    requirePeer.resolve('@opentelemetry/sdk-trace-node');
    requirePeer.resolve('@opentelemetry/sdk-trace-base');
  } catch (err) {
    throw new Error(`OpenTelemetry is not installed for the benchmarks: run \`npm ci --prefix bench\` (or \`npm run bench\`, which does). ${(err as Error).message}`);
  }
}

/** Runs one subject, takes its report line, then ends it: what it would do next is not measured. */
function runSubject(system: System, phase: Phase, sink: Sink, apiKey: string, times: Times): Promise<SubjectReport> {
  const args = [SUBJECT, system, phase, '--sink', sink.url, '--idle-ms', String(times.idleMs), '--load-ms', String(times.loadMs), '--tick-ms', String(TICK_MS), '--per-tick', String(PER_TICK)];
  // The agent as users run it: its spool on (bench/run.ts turns it off for the other benches),
  // in a directory of this subject's own, so no other run ever replays into this sink.
  const spoolDir = mkdtempSync(join(tmpdir(), 'teracron-bench-memory-spool-'));
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TERACRON_API_KEY: apiKey, TERACRON_SPOOL: '1', TERACRON_SPOOL_DIR: spoolDir },
  });
  child.on('close', () => rmSync(spoolDir, { recursive: true, force: true }));
  return new Promise<SubjectReport>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let report: SubjectReport | null = null;
    const timer = setTimeout(() => child.kill('SIGKILL'), SUBJECT_TIMEOUT_MS);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (report !== null || newline < 0) return;
      try {
        report = JSON.parse(stdout.slice(0, newline)) as SubjectReport;
      } catch {
        return; // not a report: the exit handler says what was printed
      }
      child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (report !== null) resolve(report);
      else reject(new Error(`memory subject ${system} ${phase} ended (${signal ?? `code ${code}`}) without a report. stdout: ${stdout.trim() || '(empty)'} stderr: ${stderr.trim() || '(empty)'}`));
    });
  });
}

const METRICS = [
  { phase: 'idle', field: 'rss', metric: 'idle_rss_bytes', label: 'idle RSS' },
  { phase: 'idle', field: 'uss', metric: 'idle_uss_bytes', label: 'idle USS' },
  { phase: 'load', field: 'rss', metric: 'load_rss_bytes', label: 'load RSS' },
  { phase: 'load', field: 'uss', metric: 'load_uss_bytes', label: 'load USS' },
] as const;

function toMiB(summary: Summary): Summary {
  return { min: summary.min / MIB, median: summary.median / MIB, max: summary.max / MIB };
}

interface Times {
  /** How long a subject idles after setup before its memory is read. */
  idleMs: number;
  /** How long a subject runs the span load. */
  loadMs: number;
}

// 2 s of load keeps the quick run under a minute. After 1 s teracron's worker is still behind the
// load (a quarter delivered, the backlog resident); by 2 s it has caught up. Smoke mode only
// proves that every subject starts, loads and reports.
const TIMES = {
  smoke: { idleMs: 200, loadMs: 300 },
  quick: { idleMs: 1000, loadMs: 2000 },
  full: { idleMs: 1000, loadMs: 3000 },
} as const satisfies Record<BenchContext['mode'], Times>;

async function run(context: BenchContext): Promise<BenchRow[]> {
  if (process.platform !== 'linux') throw new BenchSkipped(`it reads /proc, which Linux has and ${process.platform} does not`);
  checkOpenTelemetry();
  const times = TIMES[context.mode];
  const { apiKey } = await benchProject();
  const sink = await startSink();
  const reports: SubjectReport[] = [];
  try {
    for (let rep = 0; rep < context.reps; rep++) {
      // Rotate the order so that no system always runs first (or right after another's load).
      const order = SYSTEMS.map((_, i) => SYSTEMS[(i + rep) % SYSTEMS.length]!);
      for (const phase of ['idle', 'load'] as const) {
        for (const system of order) reports.push(await runSubject(system, phase, sink, apiKey, times));
      }
    }
  } finally {
    await sink.close();
  }

  const of = (system: System, phase: Phase): SubjectReport[] => reports.filter((r) => r.system === system && r.phase === phase);
  const summaryOf = (system: System, phase: Phase, pick: (r: SubjectReport) => number): Summary => summarize(of(system, phase).map(pick));

  console.log(`memory: ${machine()}; ${context.reps} reps, each figure from a fresh process, systems interleaved`);
  console.log(`idle: ${times.idleMs} ms after setup; load: ${PER_TICK} traced calls every ${TICK_MS} ms for ${times.loadMs} ms; memory read at the end, before shutdown`);
  console.log(`${''.padEnd(44)}${'min'.padStart(10)}${'median'.padStart(10)}${'max'.padStart(10)}`);
  const rows: BenchRow[] = [];
  for (const { phase, field, metric, label } of METRICS) {
    for (const system of SYSTEMS) {
      const summary = summaryOf(system, phase, (r) => r[field]);
      rows.push(...summaryRows('memory', system, metric, 'bytes', summary));
      console.log(formatRow(`${system} ${label}`, toMiB(summary), 'MiB'));
    }
  }
  const extras: Array<[string, Phase, (r: SubjectReport) => number]> = [
    ['idle PSS', 'idle', (r) => r.pss],
    ['load PSS', 'load', (r) => r.pss],
    ['load peak RSS (VmHWM)', 'load', (r) => r.peakRss],
    ['idle main-thread heap', 'idle', (r) => r.heapTotal],
    ['load main-thread heap', 'load', (r) => r.heapTotal],
  ];
  for (const [label, phase, pick] of extras) {
    for (const system of SYSTEMS) console.log(formatRow(`${system} ${label}`, toMiB(summaryOf(system, phase, pick)), 'MiB'));
  }

  console.log('');
  const median = (system: System, phase: Phase, pick: (r: SubjectReport) => number): number => summaryOf(system, phase, pick).median;
  const over = (system: System, phase: Phase, field: 'rss' | 'uss'): string => ((median(system, phase, (r) => r[field]) - median('baseline', phase, (r) => r[field])) / MIB).toFixed(1);
  for (const system of ['teracron', 'opentelemetry'] as const) {
    console.log(`${system} over no agent (medians): idle RSS +${over(system, 'idle', 'rss')} MiB, USS +${over(system, 'idle', 'uss')} MiB; load RSS +${over(system, 'load', 'rss')} MiB, USS +${over(system, 'load', 'uss')} MiB`);
  }
  for (const system of SYSTEMS) {
    const load = of(system, 'load');
    const calls = load.reduce((sum, r) => sum + r.calls, 0);
    const rate = median(system, 'load', (r) => r.calls / (r.elapsedMs / 1000));
    const busy = median(system, 'load', (r) => r.busyMs / r.elapsedMs);
    const delivered = load.reduce((sum, r) => sum + r.delivered, 0);
    const dropped = load.reduce((sum, r) => sum + r.dropped, 0);
    const shipping = system === 'baseline' ? '' : `; delivered by the time memory was read ${((100 * delivered) / calls).toFixed(1)}%${system === 'teracron' ? `, dropped (ring full) ${((100 * dropped) / calls).toFixed(1)}%` : ''}`;
    console.log(`${system} load: ${Math.round(rate).toLocaleString('en-US')} calls/s (median), main thread busy ${(100 * busy).toFixed(0)}% of the time${shipping}`);
  }
  return rows;
}

export const memory: Bench = {
  name: 'memory',
  description: 'RSS and USS of an idle process and of one under span load: no agent, teracron, OpenTelemetry JS',
  run,
};

if (require.main === module) {
  memory.run({ mode: 'quick', reps: 5 }).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
