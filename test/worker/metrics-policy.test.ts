/**
 * The metrics loop's arithmetic and shipping policy, with a fixed clock: CPU % from CPU-time
 * deltas, the first reading measured from the process's start, a reused pid starting a new
 * series, and a buffer that is due after maxBufferSize rounds or flushDeadlineS.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { ProcessNotFoundError } from '../../src/errors';
import type { ProcessReader, ProcessSample } from '../../src/process/types';
import { createRingBuffer, ringViews, STAT_METRICS_SAMPLED } from '../../src/ring/layout';
import { addRound, createMetricsShipper, isDue } from '../../src/worker/metrics-shipper';
import type { SenderState } from '../../src/worker/sender';
import { cpuBasisPoints, createProcessSampler, discoverChildren, sampleAll } from '../../src/worker/process-sampler';
import type { MetricsEntry } from '../../src/wire/metrics-batch';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

/** A scripted process table: what a reader would see, changed by the test between rounds. */
function scriptedReader(table: Map<number, ProcessSample>, children: number[] = []): ProcessReader {
  return {
    kind: 'fallback',
    readProcess(pid) {
      const sample = table.get(pid);
      if (sample === undefined) throw new ProcessNotFoundError(pid);
      return { ...sample };
    },
    listChildren: () => children.filter((pid) => table.has(pid)),
  };
}

function proc(pid: number, fields: Partial<ProcessSample> = {}): ProcessSample {
  return { pid, ppid: 1, rss: 50e6, vms: 900e6, uss: 30e6, pss: 35e6, swap: 0, cpuUserUs: 0, cpuSystemUs: 0, threads: 7, startTime: 1_000_000, command: 'node', ...fields };
}

test('CPU is the CPU-time delta over wall time, in basis points of all cores, capped at 10000', () => {
  assert.equal(cpuBasisPoints(500_000, 1_000, 2), 2_500, 'half a core of two cores is 25%');
  assert.equal(cpuBasisPoints(2_000_000, 1_000, 2), 10_000, 'two full cores');
  assert.equal(cpuBasisPoints(5_000_000, 1_000, 2), 10_000, 'clock skew cannot exceed 100%');
  assert.equal(cpuBasisPoints(0, 1_000, 2), 0);
  assert.equal(cpuBasisPoints(1_000, 0, 2), 0, 'no wall time, no figure');
});

test('the first reading measures from the start of the process, later ones from the previous reading', () => {
  const table = new Map([[42, proc(42, { cpuUserUs: 3_000_000, cpuSystemUs: 1_000_000, startTime: 1_000_000 })]]);
  const s = createProcessSampler({ reader: scriptedReader(table), rootPid: 42, self: false, children: false, debug: false });
  const cores = s.cores;
  const [first] = sampleAll(s, null, 1_010_000);
  assert.equal(first!.cpu_usage_pct, cpuBasisPoints(4_000_000, 10_000, cores));
  assert.equal(first!.command, 'node', 'a sidecar names the processes it watches');
  table.set(42, proc(42, { cpuUserUs: 3_500_000, cpuSystemUs: 1_000_000, startTime: 1_000_000 }));
  const [second] = sampleAll(s, null, 1_011_000);
  assert.equal(second!.cpu_usage_pct, cpuBasisPoints(500_000, 1_000, cores));
  assert.equal(second!.rss, 50e6);
  assert.equal(second!.heap_used, 0, 'no heap figures for another process');
});

test('a reused pid ends the series; a root that exits is reported gone', () => {
  const table = new Map([[42, proc(42, { startTime: 1_000_000 })]]);
  const s = createProcessSampler({ reader: scriptedReader(table), rootPid: 42, self: false, children: false, debug: false });
  assert.equal(sampleAll(s, null, 1_010_000).length, 1);
  table.set(42, proc(42, { startTime: 1_005_000 }));
  assert.equal(sampleAll(s, null, 1_011_000).length, 0);
  assert.equal(s.rootGone, true);
});

test('descendants are found between rounds, read at once, and dropped when they exit', () => {
  const table = new Map([[10, proc(10)], [11, proc(11, { ppid: 10, command: 'worker' })]]);
  const s = createProcessSampler({ reader: scriptedReader(table, [11, 12]), rootPid: 10, self: false, children: true, debug: false });
  assert.deepEqual(sampleAll(s, null, 2_000_000).map((e) => e.pid), [10]);
  assert.deepEqual(discoverChildren(s, 2_000_100).map((e) => [e.pid, e.ppid, e.command]), [[11, 10, 'worker']]);
  assert.deepEqual(discoverChildren(s, 2_000_200), [], 'already watched');
  table.set(12, proc(12, { ppid: 11, command: 'grandchild' }));
  assert.deepEqual(discoverChildren(s, 2_000_300).map((e) => e.pid), [12]);
  table.delete(11);
  assert.deepEqual(sampleAll(s, null, 2_001_000).map((e) => e.pid).sort(), [10, 12]);
});

test('the buffer is due after maxBufferSize rounds or once its oldest entry is flushDeadlineS old', () => {
  const views = ringViews(createRingBuffer(4096));
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 4096 });
  const m = createMetricsShipper({ views, sender: {} as SenderState, publicKey, sdkVersion: '0', runtimeVersion: '20', service: 'svc', host: 'h', maxRounds: 3, deadlineMs: 60_000 });
  const entry = (timestamp: number): MetricsEntry => ({ timestamp, heap_total: 0, heap_used: 0, rss: 1, external: 0, array_buffers: 0, cpu_usage_pct: 0, event_loop_lag: 0 });
  assert.equal(isDue(m, 0), false, 'nothing buffered');
  addRound(m, [entry(1_000)], true);
  addRound(m, [entry(2_000), entry(2_000)], false);
  assert.equal(isDue(m, 3_000), false, 'one round, discovery readings do not count as rounds');
  assert.equal(isDue(m, 61_000), true, 'the first entry is 60 s old');
  addRound(m, [entry(3_000)], true);
  addRound(m, [entry(4_000)], true);
  assert.equal(isDue(m, 5_000), true, 'three rounds');
  assert.equal(views.stats[STAT_METRICS_SAMPLED], 5);
});
