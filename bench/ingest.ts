/**
 * Collector ingest throughput: spans per second decrypted, validated and stored, for msgpack and
 * JSON batches of 100 and 1,000 spans, in one run, interleaved, repeated. The collector runs as
 * its own process (as in production); this process only sends pre-sealed batches, 4 in flight.
 */
import { request } from 'undici';
import { encodeBatch, newBatchId } from '../src/wire/batch-codec';
import type { WireFormat, WireSpan } from '../src/wire/batch-codec';
import { loadPublicKey, sealEnvelope } from '../src/wire/envelope';
import { startCollectorProcess, vectorDataDir } from '../test/helpers/collector';
import { envelopeVectors } from '../test/helpers/vectors';
import { summaryRows } from './harness';
import type { Bench, BenchContext, BenchRow } from './harness';
import { formatRow, machine, summarize } from './stats';

let SPANS_PER_RUN = Number(process.env.SPANS ?? '60000');
const IN_FLIGHT = 4;

const vectors = envelopeVectors();
const publicKey = loadPublicKey(vectors.public_key_pem);

function makeBatches(format: WireFormat, batchSize: number, runId: number): Buffer[] {
  const now = Date.now();
  const batches: Buffer[] = [];
  for (let b = 0; b < SPANS_PER_RUN / batchSize; b++) {
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
    batches.push(sealEnvelope(encodeBatch({ type: 'trace', project_slug: vectors.slug, batch_id: newBatchId(), spans }, format), publicKey));
  }
  return batches;
}

async function send(url: string, batches: Buffer[]): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < batches.length) {
        const body = batches[next++]!;
        const res = await request(`${url}/api/v1/traces`, { method: 'POST', body, headers: { 'x-project-slug': vectors.slug } });
        await res.body.dump();
        if (res.statusCode !== 202) throw new Error(`the collector answered ${res.statusCode}`);
      }
    }),
  );
  return SPANS_PER_RUN / ((performance.now() - start) / 1000);
}

async function run({ quick, reps }: BenchContext): Promise<BenchRow[]> {
  // Fewer spans per run in quick mode; every configuration still gets `reps` interleaved runs.
  SPANS_PER_RUN = quick ? 20_000 : Number(process.env.SPANS ?? '60000');
  const REPS = reps;
  // A high rate limit: this measures the store, not the limiter.
  const collector = await startCollectorProcess(vectorDataDir());
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
        const batches = makeBatches(format, size, runId++);
        const rate = await send(collector.url, batches);
        const name = `${format}, ${size} spans per batch`;
        results.set(name, [...(results.get(name) ?? []), rate]);
      }
    }
  } finally {
    await collector.stop();
  }
  console.log(`ingest: ${machine()}; ${REPS} reps × ${SPANS_PER_RUN} spans per config, ${IN_FLIGHT} batches in flight, collector in its own process`);
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
  description: 'collector ingest throughput, msgpack and JSON, batches of 100 and 1,000 spans',
  run,
};

if (require.main === module) void run({ quick: false, reps: Number(process.env.REPS ?? '3') });
