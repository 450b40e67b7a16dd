/** The bench runner's check of a bench's rows: what `npm run bench -- --smoke` relies on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rowProblems, summaryRows } from '../../bench/harness';
import type { BenchRow } from '../../bench/harness';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const row = (value: number, bench = 'ingest'): BenchRow => ({ bench, system: 'teracron', metric: 'spans_per_s', value, unit: 'spans/s' });

test('finite rows under the bench\'s own name pass', { timeout: 10_000 }, () => {
  assert.equal(rowProblems('ingest', summaryRows('ingest', 'teracron', 'spans_per_s', 'spans/s', { min: 0, median: 1, max: 2 })), null);
});

test('a bench that returns no rows fails', { timeout: 10_000 }, () => {
  assert.equal(rowProblems('ingest', []), 'it returned no rows');
});

test('NaN, Infinity and rows of another bench are named with their values', { timeout: 10_000 }, () => {
  const problem = rowProblems('ingest', [row(1), row(Number.NaN), row(Number.POSITIVE_INFINITY), row(3, 'pipeline')]);
  assert.equal(problem, '2 of 4 rows are not finite numbers: teracron spans_per_s = NaN, teracron spans_per_s = Infinity; 1 of 4 rows name another bench: "pipeline"');
});
