/**
 * What stalled uploads cost the collector's memory. Anyone who knows a project's slug (it is
 * public: inside every API key) can open uploads that declare a large body, send most of it and
 * then nothing. Without limits the collector held every such body until the request timed out
 * (100 stalled 8 MiB uploads took one from 55 to 862 MiB for 300 s).
 *
 * A real collector process with its defaults (--max-body-bytes 8 MiB, --max-buffered-bytes
 * 128 MiB, --max-uploads-per-project 32, --body-idle-ms 5000), then the same with the budget and
 * the per-project cap lifted, in the same rep: 100 uploads (10 of 1 MiB in smoke) each send all but
 * the last byte of a maximum-size body and stall. Measured: the rise of the collector's peak
 * resident memory (VmHWM) from just before the uploads, and how the uploads were answered (held
 * ones 408 after the idle timeout, the rest 503 or 429 at once). The peak includes the code and
 * heap the first refusals bring in, so it is a little above the bodies held.
 */
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { encodeBatch, newBatchId } from '../src/wire/batch-codec';
import { sealEnvelope } from '../src/wire/envelope';
import { startCollectorProcess } from '../support/collector-process';
import { stalledUpload } from '../support/stalled-upload';
import { BenchSkipped, summaryRows } from './harness';
import type { Bench, BenchContext, BenchRow } from './harness';
import { benchProject, collectorDataDir } from './project';
import type { BenchProject } from './project';
import { formatRow, machine, summarize } from './stats';

const MiB = 1024 * 1024;
const PLAN = {
  // Smoke shortens the idle timeout (5 s by default) so that a rep takes about a second.
  smoke: { uploads: 10, bodyBytes: MiB, budgetBytes: 4 * MiB, extraArgs: ['--body-idle-ms', '1000'] },
  quick: { uploads: 100, bodyBytes: 8 * MiB, budgetBytes: 128 * MiB, extraArgs: [] },
  full: { uploads: 100, bodyBytes: 8 * MiB, budgetBytes: 128 * MiB, extraArgs: [] },
} as const;
/** Large enough to lift both limits for the uploads of any mode. */
const UNLIMITED = ['--max-buffered-bytes', String(64 * 1024 * MiB), '--max-uploads-per-project', '100000'];

interface Outcome {
  riseMiB: number;
  held: number;
  refused: number;
}

function peakRss(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

async function postTrace(url: string, project: BenchProject): Promise<void> {
  const spans = [{ trace_id: newBatchId(), span_id: newBatchId(), parent_span_id: null, workflow: 'warm-up', operation: 'op', status: 'succeeded' as const, started_at: Date.now(), duration_ms: 1, error_type: null, error_message: null, metadata: {}, captured_params: {} }];
  const body = sealEnvelope(encodeBatch({ type: 'trace', project_slug: project.slug, batch_id: newBatchId(), spans }, 'msgpack'), project.publicKey);
  const res = await request(`${url}/api/v1/traces`, { method: 'POST', body, headers: { 'x-project-slug': project.slug } });
  const text = await res.body.text();
  if (res.statusCode !== 202) throw new Error(`the collector answered ${res.statusCode} to a valid batch: ${text.slice(0, 300)}`);
}

async function measure(project: BenchProject, plan: (typeof PLAN)[keyof typeof PLAN], args: string[]): Promise<Outcome> {
  const collector = await startCollectorProcess(await collectorDataDir(), ['--max-body-bytes', String(plan.bodyBytes), ...plan.extraArgs, ...args]);
  try {
    // A first batch brings in everything ingest loads, so the rise below is the uploads' doing.
    await postTrace(collector.url, project);
    const pid = collector.child.pid!;
    const before = peakRss(pid);
    const uploads = Array.from({ length: plan.uploads }, () => stalledUpload(collector.url, project.slug, plan.bodyBytes, plan.bodyBytes - 1));
    const statuses = await Promise.all(uploads.map((upload) => upload.status));
    const rise = peakRss(pid) - before;
    for (const upload of uploads) upload.socket.destroy();
    const unexpected = statuses.filter((status) => status !== 408 && status !== 503 && status !== 429 && status !== null);
    if (unexpected.length > 0) throw new Error(`stalled uploads were answered ${unexpected.join(', ')}; expected 408, 503 or 429`);
    // Everything held was given back: a batch is accepted again.
    await postTrace(collector.url, project);
    return { riseMiB: rise / MiB, held: statuses.filter((s) => s === 408).length, refused: statuses.filter((s) => s !== 408).length };
  } finally {
    await collector.stop();
  }
}

async function run({ mode, reps }: BenchContext): Promise<BenchRow[]> {
  if (process.platform !== 'linux') throw new BenchSkipped('reads the collector\'s peak memory from /proc');
  const plan = PLAN[mode];
  const project = await benchProject();
  const configs = [
    { name: 'limits on', system: 'teracron-collector', args: ['--max-buffered-bytes', String(plan.budgetBytes)] },
    { name: 'budget and per-project cap lifted', system: 'teracron-collector-unlimited', args: UNLIMITED },
  ];
  const outcomes = new Map<string, Outcome[]>(configs.map((c) => [c.name, []]));
  for (let rep = 0; rep < Math.min(reps, 5); rep++) {
    for (const config of configs) outcomes.get(config.name)!.push(await measure(project, plan, config.args));
  }
  console.log(`stalled-uploads: ${machine()}; ${plan.uploads} uploads of ${plan.bodyBytes / MiB} MiB each stalled one byte short; ` +
    `budget ${plan.budgetBytes / MiB} MiB; ${outcomes.get(configs[0]!.name)!.length} reps`);
  console.log(`${''.padEnd(44)}${'min'.padStart(10)}${'median'.padStart(10)}${'max'.padStart(10)}`);
  const rows: BenchRow[] = [];
  for (const config of configs) {
    const list = outcomes.get(config.name)!;
    const rise = summarize(list.map((o) => o.riseMiB));
    console.log(formatRow(`${config.name}: peak RSS rise`, rise, 'MiB'));
    console.log(`${''.padEnd(44)}uploads held (408 after the idle timeout): ${list.map((o) => o.held).join(', ')}; refused at once: ${list.map((o) => o.refused).join(', ')}`);
    rows.push(...summaryRows('stalled-uploads', config.system, 'peak_rss_rise', 'MiB', rise));
  }
  return rows;
}

export const stalledUploads: Bench = {
  name: 'stalled-uploads',
  description: 'the collector\'s peak memory under 100 stalled 8 MiB uploads, with its limits and without',
  run,
};
