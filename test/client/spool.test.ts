/**
 * The spool end to end, with a real collector process and real files: an outage while the
 * application records, an application that exits while the collector is down and a second run
 * that sends what the first kept, a process killed while it spools, the spool's size limit, and
 * directories that cannot take it. Each test has a spool directory of its own (TERACRON_SPOOL is
 * off for every other test: scripts/run-tests.mjs).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { TeracronStats } from '../../src/client';
import { parseSpoolName } from '../../src/worker/spool/spool-record';
import { freePorts } from '../../support/free-ports';
import { exitBudgetEnv, fixturePath, runFixture, runNode } from '../helpers/child';
import type { ChildResult, NodeChild } from '../helpers/child';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import type { CollectorProcess } from '../helpers/collector';
import { fileTimeout } from '../helpers/file-timeout';
import { envelopeVectors } from '../helpers/vectors';
import { waitFor } from '../helpers/wait';

fileTimeout(300_000);

const vectors = envelopeVectors();
const made: string[] = [];
const collectors: CollectorProcess[] = [];
after(async () => {
  await Promise.all(collectors.map((c) => c.stop()));
  for (const dir of made) {
    spawnSync('umount', [join(dir, 'small')], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'teracron-spool-test-'));
  made.push(dir);
  return dir;
}

/** A port nothing listens on (yet): the collector's, before it starts. */
async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

async function startCollector(port: number, dataDir = vectorDataDir()): Promise<CollectorProcess> {
  const collector = await startCollectorProcess(dataDir, ['--port', String(port)]);
  collectors.push(collector);
  return collector;
}

function appEnv(port: number, spoolDir: string, extra: Record<string, string>): Record<string, string> {
  return {
    TERACRON_API_KEY: vectors.api_key,
    TERACRON_DOMAIN: `http://127.0.0.1:${port}`,
    TERACRON_METRICS_ENABLED: '0',
    TERACRON_TRACE_FLUSH_INTERVAL: '1',
    TERACRON_SPOOL: '1',
    TERACRON_SPOOL_DIR: spoolDir,
    ...exitBudgetEnv,
    ...extra,
  };
}

type AppStats = Omit<TeracronStats, 'lastError'> & { lastError: string | null };

function statsOf(result: ChildResult): AppStats & { elP99Ms: number } {
  const line = result.lines.find((l) => 'stats' in l) as { stats: AppStats; elP99Ms: number } | undefined;
  assert.ok(line, `the app printed its stats; code ${result.code}; stderr: ${result.stderr}`);
  return { ...line.stats, elP99Ms: line.elP99Ms };
}

/** Runs shown for a workflow: each recorded span is its own trace, so this is spans stored. */
async function runsOf(collector: CollectorProcess, workflow: string): Promise<number> {
  const { body } = await query(collector.url, '/api/v1/workflows?limit=1000');
  return (body.workflows as Array<{ workflow: string; total_runs: number }>).find((w) => w.workflow === workflow)?.total_runs ?? 0;
}

/** Spool files by name: what each holds, from its name. */
function spoolFiles(dir: string): Array<{ file: string; items: number }> {
  return readdirSync(dir).flatMap((file) => {
    const name = parseSpoolName(file);
    return name === null ? [] : [{ file, items: name.items }];
  });
}

test('an application that exits while the collector is down keeps its spans in the spool, and its next run sends them once the collector is back', async () => {
  const port = await freePort();
  const spool = join(tempDir(), 'spool');
  const first = await runFixture('spool-app', appEnv(port, spool, { RATE: '20000', DURATION_MS: '500', WORKFLOW: 'exit-then-replay', END: 'exit' }), 60_000);
  assert.equal(first.code, 0, first.stderr);
  const before = statsOf(first);
  assert.ok(before.produced > 5000, `recorded ${before.produced}`);
  assert.equal(before.spooled, before.produced, JSON.stringify(before));
  assert.deepEqual([before.sent, before.droppedSendFailed, before.droppedRingFull, before.pending], [0, 0, 0, 0]);
  const files = spoolFiles(spool);
  assert.equal(files.reduce((sum, f) => sum + f.items, 0), before.produced);
  assert.equal(statSync(spool).mode & 0o777, 0o700);
  for (const { file } of files) assert.equal(statSync(join(spool, file)).mode & 0o777, 0o600);

  const collector = await startCollector(port);
  const second = await runFixture('spool-app', appEnv(port, spool, { END: 'replay', REPLAYED: String(before.produced), WAIT_MS: '60000' }), 90_000);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(statsOf(second).replayed, before.produced);
  assert.deepEqual(spoolFiles(spool), []);
  assert.equal(await runsOf(collector, 'exit-then-replay'), before.produced);
});

test('batches still unanswered when the exit budget runs out are spooled, not left pending, and the next run sends them', async () => {
  // A collector that takes connections and requests and never answers.
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const silentPort = (silent.address() as { port: number }).port;
  const spool = join(tempDir(), 'spool');
  try {
    const budgetMs = 3000;
    const first = await runFixture('spool-app', appEnv(silentPort, spool, {
      RATE: '20000', DURATION_MS: '300', WORKFLOW: 'unanswered', END: 'exit', TERACRON_EXIT_TIMEOUT_MS: String(budgetMs), TERACRON_TIMEOUT: '30',
    }), 60_000);
    assert.equal(first.code, 0, first.stderr);
    const stats = statsOf(first);
    assert.ok(stats.produced > 1000, JSON.stringify(stats));
    assert.deepEqual([stats.sent, stats.droppedSendFailed, stats.pending], [0, 0, 0], JSON.stringify(stats));
    assert.equal(stats.spooled, stats.produced);
    assert.equal(spoolFiles(spool).reduce((sum, f) => sum + f.items, 0), stats.produced);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }

  const port = await freePort();
  const collector = await startCollector(port);
  const produced = spoolFiles(spool).reduce((sum, f) => sum + f.items, 0);
  const second = await runFixture('spool-app', appEnv(port, spool, { END: 'replay', REPLAYED: String(produced), WAIT_MS: '60000' }), 90_000);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(statsOf(second).replayed, produced);
  assert.equal(await runsOf(collector, 'unanswered'), produced);
});

test('a 30 s collector outage while the application records 20,000 spans/s: every span is stored once, none dropped, and the ring never fills', async (t) => {
  const port = await freePort();
  const spool = join(tempDir(), 'spool');
  const running = runFixture('spool-app', appEnv(port, spool, { RATE: '20000', DURATION_MS: '35000', WORKFLOW: 'outage', END: 'drain' }), 240_000);
  void running.catch(() => {});
  // The collector comes up 30 s after the application starts recording.
  await new Promise((resolve) => setTimeout(resolve, 30_000));
  const collector = await startCollector(port);
  const result = await running;
  assert.equal(result.code, 0, result.stderr);
  const stats = statsOf(result);
  t.diagnostic(`outage: ${JSON.stringify(stats)}`);
  assert.equal(stats.droppedRingFull, 0, JSON.stringify(stats));
  assert.equal(stats.droppedSendFailed, 0, JSON.stringify(stats));
  assert.equal(stats.pending, 0, JSON.stringify(stats));
  assert.ok(stats.spooled > 400_000, `spooled ${stats.spooled} of ${stats.produced}`);
  assert.equal(stats.replayed, stats.spooled);
  assert.equal(stats.sent + stats.spooled, stats.produced);
  await waitFor('every span recorded to be stored', async () => (await runsOf(collector, 'outage')) === stats.produced, { timeoutMs: 60_000, intervalMs: 500, seen: async () => runsOf(collector, 'outage') });
  assert.deepEqual(spoolFiles(spool), []);
  // Spooling happens on the worker: the application's loop kept its pace (10 ms ticks).
  assert.ok(stats.elP99Ms < 200, `event-loop delay p99 ${stats.elP99Ms} ms during the outage`);
});

test('at its size limit the spool deletes the oldest batches and counts exactly what they held', async () => {
  const port = await freePort();
  const spool = join(tempDir(), 'spool');
  const result = await runFixture('spool-app', appEnv(port, spool, { RATE: '40000', DURATION_MS: '3000', WORKFLOW: 'limit', END: 'exit', TERACRON_SPOOL_MAX_BYTES: String(1024 * 1024) }), 60_000);
  assert.equal(result.code, 0, result.stderr);
  const stats = statsOf(result);
  assert.ok(stats.droppedSpoolFull > 0, `nothing was deleted: ${JSON.stringify(stats)}`);
  const kept = spoolFiles(spool).reduce((sum, f) => sum + f.items, 0);
  assert.equal(stats.spooled - stats.droppedSpoolFull, kept, JSON.stringify(stats));
  assert.equal(stats.sent + stats.spooled + stats.droppedSendFailed + stats.droppedRingFull, stats.produced);
  const bytes = readdirSync(spool).reduce((sum, file) => sum + statSync(join(spool, file)).size, 0);
  assert.ok(bytes <= 1024 * 1024, `${bytes} bytes kept`);
  assert.match(result.stderr, /reached its limit \(spoolMaxBytes 1048576\): deleted the oldest/);
});

test('a process killed while it spools leaves no half file to send; the next run sends every whole one, once', async () => {
  const port = await freePort();
  const spool = join(tempDir(), 'spool');
  let child: NodeChild | undefined;
  const running = runNode([fixturePath('spool-app')], appEnv(port, spool, { RATE: '50000', DURATION_MS: '60000', WORKFLOW: 'killed', END: 'drain' }), 90_000, (c) => (child = c));
  await waitFor('the application to spool a few batches', async () => spoolFiles(spool).length >= 5 ? true : undefined, { timeoutMs: 60_000, intervalMs: 20 });
  child!.kill('SIGKILL');
  const killed = await running;
  assert.equal(killed.signal, 'SIGKILL');
  const whole = spoolFiles(spool).reduce((sum, f) => sum + f.items, 0);
  // A half-written file, as a kill mid-write leaves it, is never sent and goes when found.
  writeFileSync(join(spool, `.tmp-${child!.pid}-0abc-99`), Buffer.alloc(5000, 1));

  const collector = await startCollector(port);
  const second = await runFixture('spool-app', appEnv(port, spool, { END: 'replay', REPLAYED: String(whole), WAIT_MS: '60000' }), 90_000);
  assert.equal(second.code, 0, second.stderr);
  const stats = statsOf(second);
  assert.equal(stats.replayed, whole);
  assert.equal(stats.spoolCorrupt, 0);
  assert.deepEqual(readdirSync(spool), []);
  assert.equal(await runsOf(collector, 'killed'), whole);
});

for (const [name, prepare] of [
  ['a path under a file (no directory can be made there)', (root: string): string => {
    writeFileSync(join(root, 'a-file'), 'x');
    return join(root, 'a-file', 'spool');
  }],
  ['a full disk (a 256 KiB tmpfs)', (root: string): string => {
    const small = join(root, 'small');
    execFileSync('mkdir', ['-p', small]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', small]);
    return small;
  }],
  ['a read-only directory (a read-only tmpfs)', (root: string): string => {
    const small = join(root, 'small');
    execFileSync('mkdir', ['-p', small]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=256k', 'tmpfs', small]);
    return small;
  }],
] as const) {
  test(`a spool on ${name} gives one clear warning and the batches are counted as dropped, never an exception`, { skip: process.platform !== 'linux' && 'mounts tmpfs' }, async () => {
    const port = await freePort();
    const dir = prepare(tempDir());
    const result = await runFixture('spool-app', appEnv(port, dir, { RATE: '40000', DURATION_MS: '1500', WORKFLOW: 'unspoolable', END: 'exit' }), 60_000);
    assert.equal(result.code, 0, result.stderr);
    const stats = statsOf(result);
    assert.equal(stats.sent + stats.spooled + stats.droppedSendFailed + stats.droppedRingFull + stats.pending, stats.produced, JSON.stringify(stats));
    assert.ok(stats.droppedSendFailed > 0, JSON.stringify(stats));
    const warnings = result.stderr.split('\n').filter((line) => line.includes('could not write to the spool directory'));
    assert.equal(warnings.length, 1, result.stderr);
    assert.match(warnings[0]!, /(ENOTDIR|ENOSPC|EROFS|EEXIST)/);
    assert.match(warnings[0]!, /Set TERACRON_SPOOL_DIR to a writable directory with room, or TERACRON_SPOOL=0/);
    assert.doesNotMatch(result.stderr, /Uncaught|unhandled/i);
  });
}
