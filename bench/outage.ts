/**
 * What a collector outage costs: an application records spans at a steady rate into a real
 * collector (SQLite, its own process); `beforeS` in, the collector is stopped, and `outageS`
 * later started again on the same port and data; the application keeps recording `afterS` more,
 * then waits until what it holds is sent. The same run with the spool off
 * (TERACRON_SPOOL=0, what the agent did before it had one) and on, interleaved.
 *
 * Reported per run: spans recorded, spans the collector holds at the end (each span is its own
 * trace, so its run count for the run's workflow), and where the rest went: dropped on a full
 * ring, dropped after retries, deleted from a full spool; plus how long the application took to
 * send everything once the collector was back.
 *
 *   smoke  1 s outage at 5,000 spans/s
 *   quick  30 s outage at 10,000 spans/s
 *   full   that, and a 60 s outage at 100,000 spans/s
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TeracronStats } from '../src/client';
import { queryCollector, startCollectorProcess } from '../support/collector-process';
import { freePorts } from '../support/free-ports';
import type { CollectorProcess } from '../support/collector-process';
import type { Bench, BenchContext, BenchRow } from './harness';
import { benchProject, collectorDataDir } from './project';
import { machine } from './stats';

/** Seconds of recording before the outage and after it. */
const SCENARIOS = {
  smoke: [{ rate: 5_000, beforeS: 1, outageS: 1, afterS: 1 }],
  quick: [{ rate: 10_000, beforeS: 3, outageS: 30, afterS: 5 }],
  full: [{ rate: 10_000, beforeS: 3, outageS: 30, afterS: 5 }, { rate: 100_000, beforeS: 3, outageS: 60, afterS: 5 }],
} as const;
type Scenario = (typeof SCENARIOS)[keyof typeof SCENARIOS][number];

type ProducerStats = TeracronStats;

interface Outcome {
  stats: ProducerStats;
  stored: number;
  drainS: number;
}

function runProducer(env: NodeJS.ProcessEnv): Promise<{ stats: ProducerStats; drainS: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, 'outage-producer.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop();
      if (code !== 0 || line === undefined || line === '') return reject(new Error(`the outage producer exited ${code}: ${err.slice(-2000)}`));
      resolve(JSON.parse(line) as { stats: ProducerStats; drainS: number });
    });
  });
}

async function runOnce({ rate, beforeS, outageS, afterS }: Scenario, spool: boolean, run: number): Promise<Outcome> {
  const project = await benchProject();
  const [port] = await freePorts(1);
  const dataDir = await collectorDataDir();
  const spoolDir = mkdtempSync(join(tmpdir(), 'teracron-bench-spool-'));
  const workflow = `outage-${run}`;
  let collector: CollectorProcess | null = await startCollectorProcess(dataDir, ['--port', String(port)]);
  try {
    const producing = runProducer({
      PATH: process.env.PATH,
      TERACRON_API_KEY: project.apiKey,
      TERACRON_DOMAIN: `http://127.0.0.1:${port}`,
      TERACRON_METRICS_ENABLED: '0',
      TERACRON_TRACE_FLUSH_INTERVAL: '1',
      TERACRON_SPOOL: spool ? '1' : '0',
      TERACRON_SPOOL_DIR: spoolDir,
      RATE: String(rate),
      DURATION_MS: String((beforeS + outageS + afterS) * 1000),
      WORKFLOW: workflow,
    });
    await new Promise((resolve) => setTimeout(resolve, beforeS * 1000));
    await collector.stop();
    collector = null;
    await new Promise((resolve) => setTimeout(resolve, outageS * 1000));
    collector = await startCollectorProcess(dataDir, ['--port', String(port)]);
    const { stats, drainS } = await producing;
    const { body } = await queryCollector(collector.url, '/api/v1/workflows?limit=1000', project.apiKey);
    const stored = (body.workflows as Array<{ workflow: string; total_runs: number }>).find((w) => w.workflow === workflow)?.total_runs ?? 0;
    return { stats, stored, drainS };
  } finally {
    await collector?.stop();
    rmSync(spoolDir, { recursive: true, force: true });
  }
}

async function run({ mode }: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  let runNumber = 0;
  console.log(`outage: ${machine()}; the collector (SQLite) is stopped while the application records and started again after the outage`);
  for (const scenario of SCENARIOS[mode]) {
    const { rate, outageS } = scenario;
    for (const spool of [false, true]) {
      const { stats, stored, drainS } = await runOnce(scenario, spool, runNumber++);
      const system = spool ? 'teracron-spool' : 'teracron-no-spool';
      const lost = stats.produced - stored;
      console.log(
        `${`${outageS} s outage at ${rate.toLocaleString('en-US')} spans/s, spool ${spool ? 'on ' : 'off'}`.padEnd(44)}` +
          `recorded ${stats.produced.toLocaleString('en-US')}, stored ${stored.toLocaleString('en-US')} (${((100 * stored) / stats.produced).toFixed(2)} %); ` +
          `dropped: ring full ${stats.droppedRingFull.toLocaleString('en-US')}, after retries ${stats.droppedSendFailed.toLocaleString('en-US')}, spool full ${stats.droppedSpoolFull.toLocaleString('en-US')}; ` +
          `spooled ${stats.spooled.toLocaleString('en-US')}, replayed ${stats.replayed.toLocaleString('en-US')}; pending ${stats.pending}; sent in ${drainS.toFixed(1)} s after recording`,
      );
      const metric = (name: string): string => `${name}_${outageS}s_at_${rate}`;
      rows.push(
        { bench: 'outage', system, metric: metric('stored_pct'), value: (100 * stored) / stats.produced, unit: '%' },
        { bench: 'outage', system, metric: metric('lost'), value: lost, unit: 'spans' },
        { bench: 'outage', system, metric: metric('dropped_ring_full'), value: stats.droppedRingFull, unit: 'spans' },
        { bench: 'outage', system, metric: metric('dropped_send_failed'), value: stats.droppedSendFailed, unit: 'spans' },
        { bench: 'outage', system, metric: metric('spooled'), value: stats.spooled, unit: 'spans' },
      );
    }
  }
  return rows;
}

export const outage: Bench = {
  name: 'outage',
  description: 'spans stored across a collector outage, with the spool off and on',
  run,
};
