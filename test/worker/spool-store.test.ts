/**
 * The spool directory (src/worker/spool/) with real files: whole files only under a spool name,
 * oldest first, cut or altered files moved aside, the size cap counting exactly what it deletes,
 * claims that two processes never share, and failures reported as values, never thrown.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encodeSpoolRecord, parseSpoolName, spoolFileName } from '../../src/worker/spool/spool-record';
import type { SpoolEntry, SpoolKind } from '../../src/worker/spool/spool-record';
import { SpoolStore } from '../../src/worker/spool/spool-store';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const made: string[] = [];
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'teracron-spool-'));
  made.push(dir);
  return dir;
}

function entry(n: number, kind: SpoolKind = 'trace', bodyBytes = 1000): SpoolEntry {
  const body = Buffer.alloc(bodyBytes, n & 0xff);
  body.writeUInt32BE(n, 0);
  return { path: kind === 'trace' ? '/api/v1/traces' : kind === 'event' ? '/api/v1/events' : '/api/ingest', kind, items: 10 + n, batchId: `batch-${n}`, body };
}

/** A clock that moves 1 ms per call, so names sort in write order. */
function ticking(start = 1_765_000_000_000): () => number {
  let now = start;
  return () => now++;
}

test('a written batch comes back whole, oldest first, from a 0700 directory of 0600 files, and goes once delivered', async () => {
  const dir = join(tempDir(), 'not', 'yet', 'there');
  const store = new SpoolStore({ dir, maxBytes: 1 << 20, now: ticking() });
  for (let n = 0; n < 3; n++) assert.equal((await store.write(entry(n, n === 1 ? 'event' : 'trace'))).ok, true);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  for (const file of readdirSync(dir)) assert.equal(statSync(join(dir, file)).mode & 0o777, 0o600, file);

  for (let n = 0; n < 3; n++) {
    const claimed = await store.claimOldest();
    assert.ok(claimed, `batch ${n}`);
    const expected = entry(n, n === 1 ? 'event' : 'trace');
    assert.deepEqual({ ...claimed.entry, body: Buffer.from(claimed.entry.body) }, expected);
    assert.equal(claimed.name.items, expected.items);
    await store.remove(claimed);
  }
  assert.equal(await store.claimOldest(), null);
  assert.deepEqual(readdirSync(dir), []);
});

test('a released batch is claimed again; a claimed one is not handed out twice', async () => {
  const store = new SpoolStore({ dir: tempDir(), maxBytes: 1 << 20, now: ticking() });
  await store.write(entry(1));
  await store.write(entry(2));
  const first = (await store.claimOldest())!;
  const second = (await store.claimOldest())!;
  assert.deepEqual([first.entry.batchId, second.entry.batchId], ['batch-1', 'batch-2']);
  assert.equal(await store.claimOldest(), null);
  await store.release(first);
  assert.equal((await store.claimOldest())!.entry.batchId, 'batch-1');
});

test('a file cut short or altered is moved aside and never sent; the good ones still are', async () => {
  const dir = tempDir();
  const store = new SpoolStore({ dir, maxBytes: 1 << 20, now: ticking() });
  for (let n = 0; n < 3; n++) await store.write(entry(n));
  const [cut, altered] = readdirSync(dir).sort();
  truncateSync(join(dir, cut!), 500);
  const bytes = readFileSync(join(dir, altered!));
  bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
  writeFileSync(join(dir, altered!), bytes);

  const claimed = await store.claimOldest();
  assert.equal(claimed?.entry.batchId, 'batch-2');
  assert.deepEqual(store.corrupt.map((c) => c.name.name), [cut, altered]);
  assert.match(store.corrupt[0]!.why, /cut short/);
  assert.match(store.corrupt[1]!.why, /CRC-32/);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.corrupt')).sort(), [`${cut}.corrupt`, `${altered}.corrupt`]);
});

test('a temporary file is never sent: a dead writer\'s is removed, a live writer\'s is left to finish', async () => {
  const dir = tempDir();
  const dead = 999_999_001;
  const live = 999_999_002;
  const store = new SpoolStore({ dir, maxBytes: 1 << 20, isAlive: (pid) => pid === live });
  const whole = encodeSpoolRecord(entry(7));
  writeFileSync(join(dir, `.tmp-${dead}-abcd-0`), whole);
  writeFileSync(join(dir, `.tmp-${live}-abcd-0`), whole);
  assert.equal(await store.claimOldest(), null);
  assert.deepEqual(readdirSync(dir), [`.tmp-${live}-abcd-0`]);
});

test('a claim left by a process that died is put back and sent; a live process\'s claim is left alone', async () => {
  const dir = tempDir();
  const dead = 999_999_003;
  const live = 999_999_004;
  const store = new SpoolStore({ dir, maxBytes: 1 << 20, isAlive: (pid) => pid === live });
  const older = spoolFileName(1_765_000_000_000, dead, 0, 'trace', 17);
  const newer = spoolFileName(1_765_000_000_001, live, 0, 'trace', 18);
  writeFileSync(join(dir, `${older}.claimed-${dead}-abcd`), encodeSpoolRecord(entry(7)));
  writeFileSync(join(dir, `${newer}.claimed-${live}-abcd`), encodeSpoolRecord(entry(8)));
  const claimed = await store.claimOldest();
  assert.equal(claimed?.entry.batchId, 'batch-7');
  assert.equal(await store.claimOldest(), null);
});

test('at its size limit the spool deletes the oldest files and reports exactly what they held', async () => {
  const dir = tempDir();
  const recordBytes = encodeSpoolRecord(entry(0)).length;
  const store = new SpoolStore({ dir, maxBytes: recordBytes * 3, now: ticking() });
  const results = [];
  for (let n = 0; n < 5; n++) results.push(await store.write(entry(n, n === 1 ? 'event' : 'trace')));
  assert.ok(results.every((r) => r.ok));
  const evicted = results.map((r) => r.evicted);
  assert.deepEqual(evicted.map((e) => e.files), [0, 0, 0, 1, 1]);
  // Batch 0 (10 spans) went to make room for batch 3, batch 1 (11 events) for batch 4.
  assert.deepEqual(evicted[3]!.items, { trace: 10, event: 0, log: 0, metrics: 0 });
  assert.deepEqual(evicted[4]!.items, { trace: 0, event: 11, log: 0, metrics: 0 });
  assert.equal(await store.size(), recordBytes * 3);
  const left = readdirSync(dir).sort().map((f) => parseSpoolName(f)!.items);
  assert.deepEqual(left, [12, 13, 14]);
});

test('writes started together still keep the spool under its limit, and what they deleted adds up exactly', async () => {
  const dir = tempDir();
  const recordBytes = encodeSpoolRecord(entry(0)).length;
  // Room for four (batch ids from 10 on are a byte longer).
  const store = new SpoolStore({ dir, maxBytes: recordBytes * 4 + 8, now: ticking() });
  // Not awaited one by one: the agent's worker spools several batches at once at exit.
  const results = await Promise.all(Array.from({ length: 12 }, (_, n) => store.write(entry(n))));
  assert.ok(results.every((r) => r.ok));
  const evictedItems = results.reduce((sum, r) => sum + r.evicted.items.trace, 0);
  const left = readdirSync(dir).map((f) => parseSpoolName(f)!.items);
  assert.equal(left.length, 4);
  assert.equal(evictedItems + left.reduce((a, b) => a + b, 0), Array.from({ length: 12 }, (_, n) => 10 + n).reduce((a, b) => a + b, 0));
  assert.ok((await store.size()) <= recordBytes * 4 + 8);
});

test('a batch larger than the whole spool is refused with the sizes, and nothing is deleted for it', async () => {
  const dir = tempDir();
  const store = new SpoolStore({ dir, maxBytes: 5000, now: ticking() });
  await store.write(entry(1));
  const result = await store.write(entry(2, 'trace', 10_000));
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.why : '', /larger than the whole spool may be \(spoolMaxBytes 5000\)/);
  assert.equal(readdirSync(dir).length, 1);
});

test('a spool directory that cannot be made says why as a value; nothing throws', async () => {
  const file = join(tempDir(), 'a-file');
  writeFileSync(file, 'not a directory');
  const store = new SpoolStore({ dir: join(file, 'spool'), maxBytes: 1 << 20 });
  const result = await store.write(entry(1));
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.why : '', new RegExp(`could not write to the spool directory ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/spool: ENOTDIR`));
  assert.equal(await store.claimOldest(), null);
  assert.equal(await store.size(), 0);
});

test('two processes emptying one spool directory at once never take the same file', async () => {
  const dir = tempDir();
  const files = 300;
  const writer = new SpoolStore({ dir, maxBytes: 1 << 30, now: ticking() });
  for (let n = 0; n < files; n++) await writer.write(entry(n, 'trace', 200));
  const script = `
    const { SpoolStore } = require(${JSON.stringify(join(__dirname, '..', '..', 'src', 'worker', 'spool', 'spool-store.js'))});
    (async () => {
      const store = new SpoolStore({ dir: ${JSON.stringify(dir)}, maxBytes: 1 << 30 });
      const taken = [];
      for (let c = await store.claimOldest(); c !== null; c = await store.claimOldest()) {
        taken.push(c.entry.batchId);
        await store.remove(c);
      }
      process.stdout.write(JSON.stringify(taken));
    })();
  `;
  const run = (): Promise<string[]> => new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(`claimer exited ${code}`))));
  });
  const [a, b] = await Promise.all([run(), run()]);
  const all = [...a, ...b];
  assert.equal(new Set(all).size, all.length, 'no batch taken twice');
  assert.equal(all.length, files, `${a.length} + ${b.length} taken`);
  assert.deepEqual(readdirSync(dir), []);
});
