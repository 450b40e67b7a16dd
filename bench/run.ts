/**
 * `npm run bench [-- --quick | --full] [--scope <name>] [--json <file>]`
 *
 * Runs every bench (or one), each printing a table of min / median / max over interleaved
 * repetitions, and writes the rows `{ bench, system, metric, value, unit }` as JSON when asked.
 * Quick (the default) keeps the whole suite inside a few minutes on 2 cores; --full runs longer
 * and repeats more.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Bench, BenchRow } from './harness';
import { http } from './http';
import { ingest } from './ingest';
import { memory } from './memory';
import { pipeline } from './pipeline';
import { processSample } from './process-sample';
import { recordSpan } from './record-span';
import { spanCost } from './span-cost';
import { machine } from './stats';

const BENCHES: Bench[] = [spanCost, recordSpan, pipeline, memory, ingest, processSample, http];

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      full: { type: 'boolean', default: false },
      scope: { type: 'string' },
      json: { type: 'string' },
    },
    strict: true,
  });
  const full = values.full === true;
  const benches = BENCHES;
  const selected = values.scope === undefined ? benches : benches.filter((bench) => bench.name === values.scope);
  if (selected.length === 0) {
    console.error(`no bench named ${JSON.stringify(values.scope)}; the benches are: ${benches.map((b) => b.name).join(', ')}`);
    return 2;
  }
  console.log(`teracron benchmarks (${full ? 'full' : 'quick'}) on ${machine()}`);
  const rows: BenchRow[] = [];
  const started = Date.now();
  for (const bench of selected) {
    console.log(`\n== ${bench.name}: ${bench.description}`);
    rows.push(...(await bench.run({ quick: !full, reps: full ? 15 : 5 })));
  }
  console.log(`\n${selected.length} bench${selected.length === 1 ? '' : 'es'} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (values.json !== undefined) {
    writeFileSync(values.json, `${JSON.stringify(rows, null, 2)}\n`);
    console.log(`${rows.length} rows written to ${values.json}`);
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  },
);
