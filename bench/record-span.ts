/**
 * Main-thread cost of one `client.recordSpan()` (no metadata) against calling an empty function
 * with the same argument, in the same process, interleaved, repeated.
 *
 * The worker ships to a loopback sink that answers 202 without decrypting, so the ring keeps
 * draining; each timed chunk is small enough to fit in the ring, and the worker catches up
 * between chunks (untimed), so the numbers are for the real write path, never the drop path.
 */
import { performance } from 'node:perf_hooks';
import type { SpanInput } from '../src/recorder/recorder';
import { clientWithSink } from './sink';
import { summaryRows } from './harness';
import type { Bench, BenchContext, BenchRow } from './harness';
import { formatRow, machine, summarize } from './stats';

const CHUNK = 20_000;
/** Chunks per repetition, and chunks of each path run untimed first so the JIT has optimised both. */
const CHUNKS_PER_REP = { smoke: 2, quick: 10, full: 10 } as const;
const WARMUP_CHUNKS = { smoke: 1, quick: 5, full: 5 } as const;

let sink = 0;
let clockSink = 0;
function emptyFunction(span: SpanInput): boolean {
  sink += span.workflow.length;
  return true;
}

function timeChunk(record: (span: SpanInput) => boolean): number {
  const start = performance.now();
  for (let i = 0; i < CHUNK; i++) record({ workflow: 'checkout', operation: 'charge' });
  return ((performance.now() - start) * 1e6) / CHUNK;
}

/** For context: one clock read, which recordSpan makes when the caller gives no times. */
function timeClockChunk(): number {
  const start = performance.now();
  for (let i = 0; i < CHUNK; i++) clockSink += performance.now();
  return ((performance.now() - start) * 1e6) / CHUNK;
}

/** The form the tracing layer uses: it has read both clocks itself. */
function timeChunkWithTimes(record: (span: SpanInput) => boolean): number {
  const start = performance.now();
  for (let i = 0; i < CHUNK; i++) record({ workflow: 'checkout', operation: 'charge', startTime: start, endTime: start + i });
  return ((performance.now() - start) * 1e6) / CHUNK;
}

async function run({ mode, reps: REPS }: BenchContext): Promise<BenchRow[]> {
  const chunks = CHUNKS_PER_REP[mode];
  const endpoint = await clientWithSink();
  const client = endpoint.client;
  const record = (span: SpanInput): boolean => client.recordSpan(span);

  for (let i = 0; i < WARMUP_CHUNKS[mode]; i++) {
    timeChunk(emptyFunction);
    timeChunk(record);
    await client.flush();
  }

  const baseline: number[] = [];
  const recorded: number[] = [];
  const overhead: number[] = [];
  const recordedWithTimes: number[] = [];
  const clock: number[] = [];
  const overheadWithTimes: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    let base = 0;
    let span = 0;
    let spanWithTimes = 0;
    let clockRead = 0;
    for (let c = 0; c < chunks; c++) {
      clockRead += timeClockChunk();
      base += timeChunk(emptyFunction);
      span += timeChunk(record);
      await client.flush();
      spanWithTimes += timeChunkWithTimes(record);
      await client.flush();
    }
    baseline.push(base / chunks);
    recorded.push(span / chunks);
    overhead.push((span - base) / chunks);
    recordedWithTimes.push(spanWithTimes / chunks);
    overheadWithTimes.push((spanWithTimes - base) / chunks);
    clock.push(clockRead / chunks);
  }
  await endpoint.close();

  const stats = client.stats();
  if (stats.droppedRingFull > 0) throw new Error(`${stats.droppedRingFull} spans hit a full ring: the figures would be for the drop path`);
  console.log(`record-span: ${machine()}; ${REPS} reps × ${chunks} chunks × ${CHUNK} calls, interleaved`);
  console.log(`${''.padEnd(44)}${'min'.padStart(10)}${'median'.padStart(10)}${'max'.padStart(10)}`);
  console.log(formatRow('empty function', summarize(baseline), 'ns/call'));
  console.log(formatRow('client.recordSpan({ workflow, operation })', summarize(recorded), 'ns/call'));
  console.log(formatRow('recordSpan minus empty function', summarize(overhead), 'ns/call'));
  console.log(formatRow('recordSpan, times given by the caller', summarize(recordedWithTimes), 'ns/call'));
  console.log(formatRow('  minus empty function', summarize(overheadWithTimes), 'ns/call'));
  console.log(formatRow('performance.now() alone', summarize(clock), 'ns/call'));
  console.log(`delivered ${stats.sent} of ${stats.produced} spans, ${stats.droppedRingFull} dropped (ring full)`);
  if (Number.isNaN(sink + clockSink)) console.log('(unreachable: keeps the benchmarked results alive)');
  return [
    ...summaryRows('record-span', 'baseline', 'call_ns', 'ns', summarize(baseline)),
    ...summaryRows('record-span', 'teracron', 'record_span_ns', 'ns', summarize(recorded)),
    ...summaryRows('record-span', 'teracron', 'record_span_overhead_ns', 'ns', summarize(overhead)),
    ...summaryRows('record-span', 'teracron', 'record_span_times_given_overhead_ns', 'ns', summarize(overheadWithTimes)),
    ...summaryRows('record-span', 'baseline', 'performance_now_ns', 'ns', summarize(clock)),
  ];
}

export const recordSpan: Bench = {
  name: 'record-span',
  description: 'main-thread cost of one client.recordSpan() against an empty function',
  run,
};

if (require.main === module) void run({ mode: 'quick', reps: Number(process.env.REPS ?? '15') });
