/**
 * Collector ingest throughput: spans per second decrypted, validated and stored, for msgpack and
 * JSON batches of 100 and 1,000 spans, in one run, interleaved, repeated. The collector runs as
 * its own process (as in production); this process only sends pre-sealed batches, 4 in flight.
 * The collector's data folder is fresh and holds only the bench project's keys. Then the same on
 * ClickHouse (ingest-clickhouse.ts).
 */
import type { KeyObject } from 'node:crypto';
import { request } from 'undici';
import { encodeBatch, newBatchId } from '../src/wire/batch-codec';
import type { WireFormat, WireSpan } from '../src/wire/batch-codec';
import { sealEnvelope } from '../src/wire/envelope';
import { startCollectorProcess } from '../support/collector-process';
import { summaryRows } from './harness';
import { clickHouseIngestRows } from './ingest-clickhouse';
import type { Bench, BenchContext, BenchRow } from './harness';
import { benchProject, collectorDataDir } from './project';
import { formatRow, machine, summarize } from './stats';

/** Spans per run (SPANS overrides quick and full); smoke still sends two 1,000-span batches. */
const SPANS_PER_RUN = { smoke: 2_000, quick: 20_000, full: Number(process.env.SPANS ?? '60000') } as const;
const IN_FLIGHT = 4;

interface Sealer {
  slug: string;
  publicKey: KeyObject;
}

function makeBatches(project: Sealer, spansPerRun: number, format: WireFormat, batchSize: number, runId: number): Buffer[] {
  const now = Date.now();
  const batches: Buffer[] = [];
  for (let b = 0; b < spansPerRun / batchSize; b++) {
    const spans: WireSpan[] = [];
    for (let i = 0; i < batchSize; i++) {
      const n = b * batchSize + i;
      const traceNumber = runId * 1_000_000 + Math.floor(n / 10);
      spans.push({
        trace_id: traceNumber.toString(16).padStart(32, '0'),
        span_id: (runId * 10_000_000 + n + 1).toString(16).padStart(32, '0'),
        parent_span_id: n % 10 === 0 ? null : (runId * 10_000_000 + n - (n % 10) + 1).toString(16).padStart(32, '0'),
        workflow: 'ingest-bench',
        operation: `step-${n % 10}`,
        status: n % 50 === 0 ? 'failed' : 'succeeded',
        started_at: now + n,
        duration_ms: 1.25,
        error_type: n % 50 === 0 ? 'TimeoutError' : null,
        error_message: n % 50 === 0 ? 'upstream timed out' : null,
        metadata: { route: '/orders/:id', status: 200, cached: false },
        captured_params: {},
      });
    }
    batches.push(sealEnvelope(encodeBatch({ type: 'trace', project_slug: project.slug, batch_id: newBatchId(), spans }, format), project.publicKey));
  }
  return batches;
}

/** Posts every batch, IN_FLIGHT at a time; returns spans per second. */
async function send(url: string, slug: string, spansPerRun: number, batches: Buffer[]): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < batches.length) {
        const body = batches[next++]!;
        const res = await request(`${url}/api/v1/traces`, { method: 'POST', body, headers: { 'x-project-slug': slug } });
        const answer = await res.body.text();
        if (res.statusCode !== 202) throw new Error(`the collector answered ${res.statusCode} to a trace batch: ${answer.slice(0, 500)}`);
      }
    }),
  );
  return spansPerRun / ((performance.now() - start) / 1000);
}

async function run(context: BenchContext): Promise<BenchRow[]> {
  const rows = await sqliteRows(context);
  return [...rows, ...(await clickHouseIngestRows(context))];
}

async function sqliteRows({ mode, reps: REPS }: BenchContext): Promise<BenchRow[]> {
  // Fewer spans per run in quick and smoke mode; every configuration still gets `reps` interleaved runs.
  const spansPerRun = SPANS_PER_RUN[mode];
  const project = await benchProject();
  const collector = await startCollectorProcess(await collectorDataDir());
  const configs: Array<[WireFormat, number]> = [
    ['msgpack', 100],
    ['json', 100],
    ['msgpack', 1000],
    ['json', 1000],
  ];
  const results = new Map<string, number[]>();
  let runId = 1;
  try {
    for (let rep = 0; rep < REPS; rep++) {
      for (const [format, size] of configs) {
        const batches = makeBatches(project, spansPerRun, format, size, runId++);
        const rate = await send(collector.url, project.slug, spansPerRun, batches);
        const name = `${format}, ${size} spans per batch`;
        results.set(name, [...(results.get(name) ?? []), rate]);
      }
    }
  } finally {
    await collector.stop();
  }
  console.log(`ingest: ${machine()}; ${REPS} reps × ${spansPerRun} spans per config, ${IN_FLIGHT} batches in flight, collector in its own process`);
  console.log(`${''.padEnd(44)}${'min'.padStart(10)}${'median'.padStart(10)}${'max'.padStart(10)}`);
  const rows: BenchRow[] = [];
  for (const [name, values] of results) {
    console.log(formatRow(name, summarize(values), 'spans/s stored', 0));
    rows.push(...summaryRows('ingest', 'teracron-collector', `spans_per_s_${name.replace(/, (\d+) spans per batch/, '_batch_$1')}`, 'spans/s', summarize(values)));
  }
  return rows;
}

export const ingest: Bench = {
  name: 'ingest',
  description: 'collector ingest throughput, msgpack and JSON, batches of 100 and 1,000 spans; on ClickHouse, one and two collectors, and query latency',
  run,
};

if (require.main === module) void run({ mode: 'full', reps: Number(process.env.REPS ?? '3') });
