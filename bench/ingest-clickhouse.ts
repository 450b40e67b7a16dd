/**
 * The collector on ClickHouse (`--store clickhouse://…`): spans per second stored through one
 * collector process and through two against the same database, then the query API's latency over
 * a large table of generated spans (10M in --full).
 *
 * A real ClickHouse server is started for the run (support/clickhouse-server.ts: Debian's 18.16
 * or a current binary on PATH, or CLICKHOUSE_URL), on the same 2 cores as the collectors and this
 * sender: what is measured is the whole machine's throughput, not the collector's alone.
 *
 * A 202 from this collector means the rows are in ClickHouse (the writer answers after the
 * insert), so spans per second acknowledged is spans per second stored. Batches are sealed before
 * the clock starts; they hold 5,000 spans each, the most the agent's worker puts in a batch when
 * it is behind (a service sending 150k spans/s is behind).
 *
 * The spans the queries run over are generated in ClickHouse itself (INSERT … SELECT FROM
 * numbers()), rows as the collector writes them: traces of 10 spans across 20 workflows, one in
 * 50 failed, spread over the last 7 days (7 day partitions); the materialized views fill `runs`
 * and `span_traces` as they do on ingest.
 */
import type { KeyObject } from 'node:crypto';
import { request } from 'undici';
import { encodeBatch, newBatchId } from '../src/wire/batch-codec';
import type { WireSpan } from '../src/wire/batch-codec';
import { sealEnvelope } from '../src/wire/envelope';
import { clickHouseAvailable, clickHouseQuery, startClickHouse } from '../support/clickhouse-server';
import type { ClickHouseServer } from '../support/clickhouse-server';
import { startCollectorProcess } from '../support/collector-process';
import type { CollectorProcess } from '../support/collector-process';
import { summaryRows } from './harness';
import type { BenchContext, BenchRow } from './harness';
import { benchProject, collectorDataDir } from './project';
import { formatRow, machine, summarize } from './stats';

const BATCH_SPANS = 5_000;
/**
 * Per collector, standing for the many agents of a fleet: enough batches waiting during one
 * insert that the next insert is large (the writer's inserts grow with what waits; with 4 in
 * flight they stayed at 20k rows and ClickHouse's merges took the CPU).
 */
const IN_FLIGHT_PER_COLLECTOR = 16;
const SPANS_PER_RUN = { smoke: 10_000, quick: 200_000, full: Number(process.env.CH_SPANS ?? '600000') } as const;
/** Spans the queries run over (traces of 10): 10M in --full, as the issue asks. */
const QUERY_SPANS = { smoke: 20_000, quick: 1_000_000, full: Number(process.env.CH_QUERY_SPANS ?? '10000000') } as const;
const QUERY_REPS = { smoke: 2, quick: 5, full: 9 } as const;
const WORKFLOWS = 20;
const DAYS = 7;
const DAY_MS = 86_400_000;
/** Background merges after the bulk insert are waited for (up to this long), so queries meet a settled table. */
const MERGE_SETTLE_MS = 300_000;

interface Sealer {
  slug: string;
  publicKey: KeyObject;
}

/** `count` sealed 5,000-span batches of 10-span traces; `run` keeps ids apart between runs. */
function sealedBatches(project: Sealer, spans: number, run: number): Buffer[] {
  const now = Date.now();
  const batches: Buffer[] = [];
  for (let b = 0; b < spans / BATCH_SPANS; b++) {
    const batch: WireSpan[] = [];
    for (let i = 0; i < BATCH_SPANS; i++) {
      const n = b * BATCH_SPANS + i;
      const rootN = n - (n % 10);
      const id = (k: number): string => `${run.toString(16).padStart(16, '0')}${k.toString(16).padStart(16, '0')}`;
      const failed = n % 500 === 1;
      batch.push({
        trace_id: id(Math.floor(n / 10)),
        span_id: id(n),
        parent_span_id: n % 10 === 0 ? null : id(rootN),
        workflow: `ingest-${Math.floor(n / 10) % WORKFLOWS}`,
        operation: `step-${n % 10}`,
        status: failed ? 'failed' : 'succeeded',
        started_at: now + n,
        duration_ms: 1.25 + (n % 7),
        error_type: failed ? 'TimeoutError' : null,
        error_message: failed ? 'upstream timed out' : null,
        metadata: { route: '/orders/:id', status: 200, cached: false },
        captured_params: {},
      });
    }
    batches.push(sealEnvelope(encodeBatch({ type: 'trace', project_slug: project.slug, batch_id: newBatchId(), spans: batch }, 'msgpack'), project.publicKey));
  }
  return batches;
}

/** Posts every batch, spread over the collectors round-robin, IN_FLIGHT_PER_COLLECTOR each; returns spans/s acknowledged. */
async function send(collectors: CollectorProcess[], slug: string, batches: Buffer[]): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    collectors.flatMap((collector) =>
      Array.from({ length: IN_FLIGHT_PER_COLLECTOR }, async () => {
        while (next < batches.length) {
          const body = batches[next++]!;
          const res = await request(`${collector.url}/api/v1/traces`, { method: 'POST', body, headers: { 'x-project-slug': slug } });
          const answer = await res.body.text();
          if (res.statusCode !== 202) throw new Error(`the collector on ClickHouse answered ${res.statusCode} to a trace batch: ${answer.slice(0, 500)}`);
        }
      }),
    ),
  );
  return (batches.length * BATCH_SPANS) / ((performance.now() - start) / 1000);
}

/** The collector's rows for `spans` generated spans, written by ClickHouse from numbers(). */
function generateSql(slug: string, spans: number, now: number): string {
  const traces = Math.max(1, Math.floor(spans / 10));
  const first = now - DAYS * DAY_MS;
  const gap = Math.max(1, Math.floor((DAYS * DAY_MS) / traces));
  // Ids are the hex of an MD5: 32 characters, as the agent's.
  const traceId = `lower(hex(MD5(concat('t', toString(intDiv(number, 10))))))`;
  const spanIdOf = (n: string): string => `lower(hex(MD5(concat('s', toString(${n})))))`;
  const failed = `(intDiv(number, 10) % 50 = 7 AND number % 10 < 2)`;
  const startedAt = `(${first} + intDiv(number, 10) * ${gap} + number % 10)`;
  return `INSERT INTO spans (project, trace_id, span_id, parent_span_id, workflow, operation, status, started_at, duration_ms,
      error_type, error_message, metadata, captured_params, service, environment, host, pid, version, day)
    SELECT '${slug}', ${traceId}, ${spanIdOf('number')},
      if(number % 10 = 0, NULL, ${spanIdOf('number - number % 10')}),
      concat('workflow-', toString(intDiv(number, 10) % ${WORKFLOWS})), concat('step-', toString(number % 10)),
      if(${failed}, 'failed', 'succeeded'), ${startedAt}, (cityHash64(number) % 100000) / 100.0,
      if(${failed}, 'TimeoutError', NULL), if(${failed}, 'upstream timed out', NULL),
      '{"route":"/orders/:id","status":200}', '{}', 'bench', 'bench', 'bench-host', toInt64(4242), toUInt8(1),
      toUInt32(intDiv(toUInt64(${startedAt}), ${DAY_MS}))
    FROM system.numbers LIMIT ${traces * 10}`;
}

async function settleMerges(server: ClickHouseServer): Promise<void> {
  const deadline = Date.now() + MERGE_SETTLE_MS;
  while (Date.now() < deadline) {
    const merging = Number((await clickHouseQuery(server, `SELECT count() FROM system.merges WHERE database = '${server.database}'`)).trim());
    if (merging === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** ms for one GET of the query API; throws on anything but 200. */
async function timedGet(collector: CollectorProcess, apiKey: string, path: string): Promise<number> {
  const start = performance.now();
  const res = await request(`${collector.url}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });
  const text = await res.body.text();
  const ms = performance.now() - start;
  if (res.statusCode !== 200) throw new Error(`GET ${path} on ClickHouse answered ${res.statusCode}: ${text.slice(0, 500)}`);
  return ms;
}

export async function clickHouseIngestRows({ mode, reps }: BenchContext): Promise<BenchRow[]> {
  const unavailable = clickHouseAvailable();
  if (unavailable !== null) {
    console.log(`ingest on ClickHouse: not run: ${unavailable}`);
    return [];
  }
  const project = await benchProject();
  const server = await startClickHouse({ database: 'teracron_bench' });
  const collectors: CollectorProcess[] = [];
  try {
    for (let i = 0; i < 2; i++) collectors.push(await startCollectorProcess(await collectorDataDir(), ['--store', server.storeUrl, '--retention-days', '30']));
    const spansPerRun = Math.ceil(SPANS_PER_RUN[mode] / BATCH_SPANS) * BATCH_SPANS;
    const rates = { one: [] as number[], two: [] as number[] };
    let run = 1;
    // A first run warms the collectors (JIT, connections) and ClickHouse's parts; it is not counted.
    await send(collectors.slice(0, 1), project.slug, sealedBatches(project, BATCH_SPANS * 4, run++));
    for (let rep = 0; rep < reps; rep++) {
      rates.one.push(await send(collectors.slice(0, 1), project.slug, sealedBatches(project, spansPerRun, run++)));
      rates.two.push(await send(collectors, project.slug, sealedBatches(project, spansPerRun, run++)));
    }

    const querySpans = QUERY_SPANS[mode];
    const generateStart = performance.now();
    await clickHouseQuery(server, generateSql(project.slug, querySpans, Date.now()));
    const generateS = (performance.now() - generateStart) / 1000;
    await settleMerges(server);
    const stored = Number((await clickHouseQuery(server, `SELECT count() FROM spans WHERE project = '${project.slug}'`)).trim());
    const midTrace = (await clickHouseQuery(server, `SELECT lower(hex(MD5(concat('t', toString(${Math.floor(querySpans / 20)})))))`)).trim();
    const queries: Array<[string, string]> = [
      ['workflows', '/api/v1/workflows'],
      ['runs, newest 50', '/api/v1/events?limit=50'],
      ['runs of one workflow, failed', '/api/v1/events?workflow=workflow-7&status=failed&limit=50'],
      ['trace of 10 spans', `/api/v1/traces/${midTrace}`],
    ];
    const latencies = new Map<string, number[]>(queries.map(([name]) => [name, []]));
    for (let rep = 0; rep < QUERY_REPS[mode]; rep++) {
      for (const [name, path] of queries) latencies.get(name)!.push(await timedGet(collectors[rep % 2]!, project.apiKey, path));
    }

    console.log(`ingest on ClickHouse: ${machine()}; ${(await clickHouseQuery(server, 'SELECT version()')).trim()} on the same cores; ` +
      `${reps} reps × ${spansPerRun} spans in ${BATCH_SPANS}-span msgpack batches, ${IN_FLIGHT_PER_COLLECTOR} in flight per collector`);
    console.log(`${''.padEnd(44)}${'min'.padStart(10)}${'median'.padStart(10)}${'max'.padStart(10)}`);
    const rows: BenchRow[] = [];
    for (const [name, values, metric] of [['one collector', rates.one, 'spans_per_s_one_collector'], ['two collectors, one database', rates.two, 'spans_per_s_two_collectors']] as const) {
      console.log(formatRow(name, summarize(values), 'spans/s stored', 0));
      rows.push(...summaryRows('ingest', 'teracron-collector-clickhouse', metric, 'spans/s', summarize(values)));
    }
    console.log(`queries over ${stored.toLocaleString('en-US')} stored spans (${querySpans.toLocaleString('en-US')} generated in ${generateS.toFixed(1)} s), ${QUERY_REPS[mode]} each:`);
    for (const [name, values] of latencies) {
      console.log(formatRow(name, summarize(values), 'ms', 1));
      rows.push(...summaryRows('ingest', 'teracron-collector-clickhouse', `query_ms_${name.replace(/[^a-z0-9]+/g, '_').replace(/_$/, '')}`, 'ms', summarize(values)));
    }
    rows.push({ bench: 'ingest', system: 'teracron-collector-clickhouse', metric: 'query_spans_stored', value: stored, unit: 'spans' });
    return rows;
  } finally {
    await Promise.all(collectors.map((collector) => collector.stop()));
    await server.stop();
  }
}
