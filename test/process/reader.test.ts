/**
 * One suite, run against both process readers: the native addon and the TypeScript /proc fallback.
 * Every figure is checked against /proc parsed independently here (simply, with regexes), read
 * just before and just after the reader so that a process whose memory moves is still pinned
 * down, and against psutil, the reference the numbers are meant to agree with.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Interface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ProcessAccessError, ProcessNotFoundError } from '../../src/errors';
import { createFallbackReader } from '../../src/process/fallback';
import { loadNativeReader, nativeBindingPath } from '../../src/process/native';
import { addSmapsLines, emptySmapsTotals, pageSizeFromAuxv, parseStat } from '../../src/process/proc-parse';
import type { ProcessReader, ProcessReaderKind, ProcessSample } from '../../src/process/types';
import { fixturePath } from '../helpers/child';
import { repoRoot } from '../../support/repo-root';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(180_000);

const linux = process.platform === 'linux';
const notLinux = !linux && 'the readers are checked against /proc, which only Linux has';
const MB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// /proc, read independently of the readers

const PAGE_SIZE = linux ? Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' })) : 4096;

interface Truth {
  vmRss: number;
  vmSize: number;
  statmRss: number;
  statmVms: number;
  uss: number;
  privateClean: number;
  pss: number;
  swap: number;
  ppid: number;
  threads: number;
  utimeUs: number;
  stimeUs: number;
}

function kb(text: string, key: string): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text);
  assert.ok(match, `no ${key} line in:\n${text}`);
  return Number(match[1]) * 1024;
}

function field(text: string, key: string): number {
  const match = new RegExp(`^${key}:\\s+(\\d+)$`, 'm').exec(text);
  assert.ok(match, `no ${key} line in:\n${text}`);
  return Number(match[1]);
}

function truth(pid: number): Truth {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const [size, resident] = readFileSync(`/proc/${pid}/statm`, 'utf8').trim().split(' ').map(Number);
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const afterComm = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    vmRss: kb(status, 'VmRSS'),
    vmSize: kb(status, 'VmSize'),
    statmRss: resident! * PAGE_SIZE,
    statmVms: size! * PAGE_SIZE,
    uss: kb(rollup, 'Private_Clean') + kb(rollup, 'Private_Dirty'),
    privateClean: kb(rollup, 'Private_Clean'),
    pss: kb(rollup, 'Pss'),
    swap: kb(rollup, 'Swap'),
    ppid: field(status, 'PPid'),
    threads: field(status, 'Threads'),
    // stat fields 14 and 15, counted from 3 after the comm; USER_HZ is 100.
    utimeUs: Number(afterComm[11]) * 10_000,
    stimeUs: Number(afterComm[12]) * 10_000,
  };
}

/** `value` lies between the readings taken before and after it, give or take `tolerance`. */
function assertBetween(name: string, value: number, a: number, b: number, tolerance: number): void {
  const low = Math.min(a, b) * (1 - tolerance);
  const high = Math.max(a, b) * (1 + tolerance);
  assert.ok(value >= low && value <= high, `${name} ${value} is not within ${tolerance * 100}% of /proc's ${a}..${b}`);
}

/**
 * The reader against /proc read just before and just after it. A running Node process's memory
 * is not monotonic (V8's helper threads release pages while the main thread allocates), so a read
 * that lands on a moment of change is tried again, a few times; a wrong figure fails every time.
 */
function assertMatchesProc(pid: number, read: () => ProcessSample): ProcessSample {
  for (let attempt = 1; ; attempt++) {
    try {
      return matchProcOnce(pid, read);
    } catch (err) {
      if (attempt === 5 || !(err instanceof assert.AssertionError)) throw err;
    }
  }
}

function matchProcOnce(pid: number, read: () => ProcessSample): ProcessSample {
  const before = truth(pid);
  const sample = read();
  const later = truth(pid);
  assertBetween('rss vs VmRSS', sample.rss, before.vmRss, later.vmRss, 0.01);
  assertBetween('rss vs statm', sample.rss, before.statmRss, later.statmRss, 0.01);
  assertBetween('vms vs VmSize', sample.vms, before.vmSize, later.vmSize, 0.01);
  assertBetween('vms vs statm', sample.vms, before.statmVms, later.statmVms, 0.01);
  assertBetween('uss vs smaps_rollup', sample.uss, before.uss, later.uss, 0.01);
  assertBetween('pss vs smaps_rollup', sample.pss, before.pss, later.pss, 0.01);
  assertBetween('swap vs smaps_rollup', sample.swap, before.swap, later.swap, 0.01);
  assert.equal(sample.ppid, before.ppid);
  assertBetween('threads', sample.threads, before.threads, later.threads, 0);
  assert.ok(sample.cpuUserUs >= before.utimeUs && sample.cpuUserUs <= later.utimeUs, `cpuUserUs ${sample.cpuUserUs} outside stat's ${before.utimeUs}..${later.utimeUs}`);
  assert.ok(sample.cpuSystemUs >= before.stimeUs && sample.cpuSystemUs <= later.stimeUs, `cpuSystemUs ${sample.cpuSystemUs} outside stat's ${before.stimeUs}..${later.stimeUs}`);
  assert.equal(sample.pid, pid);
  return sample;
}

const PSUTIL = 'import psutil,json,sys; p=psutil.Process(int(sys.argv[1])); m=p.memory_full_info(); print(json.dumps(m._asdict()))';

/** psutil's memory_full_info(); Debian's python3-psutil is installed for /usr/bin/python3 only. */
function psutilMemory(pid: number): { rss: number; vms: number; uss: number; pss: number; swap: number } {
  const failures: string[] = [];
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      return JSON.parse(execFileSync(python, ['-c', PSUTIL, String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
    } catch (err) {
      const { stderr, message } = err as { stderr?: string; message: string };
      failures.push(`${python}: ${(stderr || message).trim().split('\n').pop()}`);
    }
  }
  throw new Error(`could not run psutil (${failures.join('; ')}); install it with \`apt-get install python3-psutil\``);
}

/** psutil's figures lie within 2% of the reader's, read just before and just after psutil. */
function assertMatchesPsutil(pid: number, read: () => ProcessSample): void {
  for (let attempt = 1; ; attempt++) {
    const before = read();
    const reference = psutilMemory(pid);
    const later = read();
    try {
      for (const key of ['rss', 'vms', 'uss', 'pss', 'swap'] as const) {
        const low = Math.min(before[key], later[key]);
        const high = Math.max(before[key], later[key]);
        const ok = reference[key] >= low * 0.98 - PAGE_SIZE && reference[key] <= high * 1.02 + PAGE_SIZE;
        assert.ok(ok, `${key}: psutil ${reference[key]} is more than 2% from the reader's ${before[key]}..${later[key]}`);
      }
      return;
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Child processes

/** A spawned process spoken to in lines. */
class LineChild {
  readonly process: ChildProcessWithoutNullStreams;
  /** Date.now() just before spawn() and at the 'spawn' event: the process started in between. */
  readonly spawnStart: number;
  spawnEnd = 0;
  #lines: Interface;
  #queue: string[] = [];
  #waiting: ((line: string) => void) | undefined;
  #stderr = '';

  constructor(command: string, args: string[]) {
    this.spawnStart = Date.now();
    this.process = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.process.once('spawn', () => (this.spawnEnd = Date.now()));
    this.process.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.#stderr += chunk));
    this.#lines = createInterface({ input: this.process.stdout });
    this.#lines.on('line', (line) => {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      if (waiting) waiting(line);
      else this.#queue.push(line);
    });
    children.add(this);
  }

  get pid(): number {
    assert.ok(this.process.pid, `the child did not start: ${this.#stderr}`);
    return this.process.pid;
  }

  async line(timeoutMs = 20_000): Promise<string> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return queued;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line from the child within ${timeoutMs} ms; stderr: ${this.#stderr}`)), timeoutMs);
      this.#waiting = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
    });
  }

  async ask(command: string): Promise<string> {
    this.process.stdin.write(`${command}\n`);
    return this.line();
  }

  kill(): void {
    this.process.kill('SIGKILL');
    this.#lines.close();
    children.delete(this);
  }
}

const children = new Set<LineChild>();
after(() => {
  for (const child of children) child.kill();
});

function idleChild(): LineChild {
  return new LineChild(process.execPath, ['-e', 'setInterval(() => {}, 1e6); process.stdout.write("ready\\n")']);
}

/** Waits (up to 5 s) until a child's resident size stops moving, so that reads back to back agree. */
async function settle(pid: number): Promise<void> {
  let last = -1;
  let steady = 0;
  for (const deadline = Date.now() + 5000; Date.now() < deadline && steady < 3; ) {
    await sleep(100);
    const resident = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1];
    const now = Number(resident);
    steady = now === last ? steady + 1 : 0;
    last = now;
  }
}

/**
 * A Python child that maps a file of `size` bytes, read-only, and reads every page: file pages
 * mapped by this process alone, and written back, so smaps counts them as Private_Clean. Node has
 * no mmap of its own. The file goes on a disk: tmpfs pages would count as dirty.
 */
async function fileMapper(size: number): Promise<{ child: LineChild; dir: string }> {
  const base = statfsSync(tmpdir()).type === TMPFS_MAGIC ? join(repoRoot(), 'dist') : tmpdir();
  const dir = mkdtempSync(join(base, 'teracron-mapped-'));
  const file = join(dir, 'pages.bin');
  writeFileSync(file, Buffer.alloc(size, 0x5a));
  const fd = openSync(file, 'r+');
  fsyncSync(fd);
  closeSync(fd);
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const script = [
    'import mmap, sys',
    'f = open(sys.argv[1], "rb")',
    'm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)',
    'touched = sum(m[i] for i in range(0, len(m), 4096))',
    'print("ready", flush=True)',
    'sys.stdin.read()',
  ].join('\n');
  const child = new LineChild(python, ['-c', script, file]);
  assert.equal(await child.line(), 'ready');
  return { child, dir };
}

const TMPFS_MAGIC = 0x01021994;

interface Tree {
  pid: number;
  children: Tree[];
}

/**
 * A child with two children, the second of which has one: PIDs as the processes reported them.
 * `stop` kills the child and waits for the rest of the tree, which exits when its stdin closes.
 */
async function family(): Promise<{ child: LineChild; tree: Tree; stop: () => Promise<void> }> {
  const child = new LineChild(process.execPath, [fixturePath('process-family'), JSON.stringify([[], [[]]])]);
  const tree = JSON.parse(await child.line()) as Tree;
  const pids: number[] = [];
  const walk = (node: Tree): void => {
    pids.push(node.pid);
    node.children.forEach(walk);
  };
  walk(tree);
  const stop = async (): Promise<void> => {
    child.kill();
    for (const deadline = Date.now() + 10_000; pids.some((pid) => procState(pid) !== undefined) && Date.now() < deadline; ) await sleep(50);
  };
  return { child, tree, stop };
}

function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2];
  } catch {
    return undefined;
  }
}

function assertNotFound(read: () => unknown, pid: number): void {
  assert.throws(read, (err: unknown) => {
    assert.ok(err instanceof ProcessNotFoundError, `expected ProcessNotFoundError, got ${String(err)}`);
    assert.equal(err.reason, 'not-found');
    assert.equal(err.pid, pid);
    assert.equal(err.code, 'TERACRON_ERR_PROCESS');
    assert.match(err.message, new RegExp(`\\b${pid}\\b`));
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// The suite, once per reader

const readers: Array<{ name: string; kind: ProcessReaderKind; load: () => ProcessReader }> = [
  { name: 'fallback', kind: 'fallback', load: () => createFallbackReader() },
  {
    // The paths kernels without smaps_rollup (< 4.14) or CONFIG_PROC_CHILDREN take, forced.
    name: 'fallback (smaps, /proc scan)',
    kind: 'fallback',
    load: () => createFallbackReader({ smapsRollup: false, childrenFiles: false }),
  },
  {
    name: 'native',
    kind: 'native',
    load: () => {
      try {
        return loadNativeReader();
      } catch (err) {
        const where = existsSync(`${repoRoot()}/build/Release`) ? '' : ' (build/Release does not exist)';
        throw new Error(`the native addon did not load${where}: ${String(err)}. Build it with \`npx node-gyp rebuild\`.`, { cause: err });
      }
    },
  },
];

function lazy(load: () => ProcessReader): () => ProcessReader {
  let reader: ProcessReader | undefined;
  return () => (reader ??= load());
}

for (const { name, kind, load } of readers) {
  describe(`${name} process reader`, { skip: notLinux }, () => {
    const reader = lazy(load);

    test(`is the ${kind} reader`, () => {
      assert.equal(reader().kind, kind);
      if (kind === 'native') assert.ok(existsSync(nativeBindingPath()));
    });

    test('reads this process as /proc and psutil do', { timeout: 30_000 }, () => {
      const sample = assertMatchesProc(process.pid, () => reader().readProcess(process.pid));
      assert.equal(sample.command, readFileSync('/proc/self/comm', 'utf8').trim());
      const started = Date.now() - process.uptime() * 1000;
      // btime is whole seconds, truncated, so a start time reads up to a second (and a tick) early.
      assert.ok(sample.startTime > started - 1100 && sample.startTime < started + 1000, `startTime ${sample.startTime}, Node started at ${started}`);
      assertMatchesPsutil(process.pid, () => reader().readProcess(process.pid));
    });

    test('reads an idle child as /proc and psutil do', { timeout: 30_000 }, async () => {
      const child = idleChild();
      assert.equal(await child.line(), 'ready');
      await settle(child.pid);
      const sample = assertMatchesProc(child.pid, () => reader().readProcess(child.pid));
      assertMatchesPsutil(child.pid, () => reader().readProcess(child.pid));
      assert.equal(sample.ppid, process.pid);
      assert.equal(sample.command, 'node');
      assert.ok(sample.threads >= 2, `a node process has more than one thread, read ${sample.threads}`);
      assert.ok(sample.uss > 0 && sample.uss <= sample.rss && sample.pss <= sample.rss, JSON.stringify(sample));
      assert.ok(sample.cpuUserUs + sample.cpuSystemUs > 0, 'starting node takes some CPU');
      assert.ok(
        sample.startTime >= child.spawnStart - 1010 && sample.startTime <= child.spawnEnd + 1000,
        `startTime ${sample.startTime}, spawned between ${child.spawnStart} and ${child.spawnEnd}`,
      );
      child.kill();
    });

    test('reads a command with spaces and parentheses in it', { timeout: 30_000 }, async () => {
      // comm runs to the LAST ')': stat reads `pid (x) (y z) S ppid …` here.
      const child = new LineChild(process.execPath, ['-e', 'process.title = "x) (y z"; setInterval(() => {}, 1e6); process.stdout.write("ready\\n")']);
      assert.equal(await child.line(), 'ready');
      const sample = reader().readProcess(child.pid);
      assert.equal(sample.command, 'x) (y z');
      assert.equal(sample.ppid, process.pid);
      assert.equal(sample.threads, field(readFileSync(`/proc/${child.pid}/status`, 'utf8'), 'Threads'));
      child.kill();
    });

    test('uss rises by the 200 MB a child touches and falls when it frees them', { timeout: 60_000 }, async () => {
      const child = new LineChild(process.execPath, ['--expose-gc', fixturePath('process-memory')]);
      assert.equal(await child.line(), 'ready');
      await settle(child.pid);
      const idle = reader().readProcess(child.pid).uss;

      assert.match(await child.ask('alloc'), /^allocated/);
      const full = reader().readProcess(child.pid);
      assert.ok(full.uss - idle >= 190 * MB, `uss rose by ${(full.uss - idle) / MB} MB, from ${idle} to ${full.uss}`);
      assert.ok(full.rss - full.uss >= 0 && full.pss >= full.uss, JSON.stringify(full));
      assertMatchesProc(child.pid, () => reader().readProcess(child.pid));

      assert.equal(await child.ask('free'), 'freed');
      // V8 may release a collected buffer's memory on a helper thread a moment after the GC.
      let freed = reader().readProcess(child.pid).uss;
      for (const deadline = Date.now() + 20_000; full.uss - freed < 150 * MB && Date.now() < deadline; ) {
        assert.equal(await child.ask('gc'), 'collected');
        await sleep(100);
        freed = reader().readProcess(child.pid).uss;
      }
      assert.ok(full.uss - freed >= 150 * MB, `uss fell by only ${(full.uss - freed) / MB} MB, from ${full.uss} to ${freed}`);
      child.kill();
    });

    test('uss counts clean private pages too: a file only this process maps', { timeout: 30_000 }, async (t) => {
      const { child, dir } = await fileMapper(32 * MB);
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const sample = assertMatchesProc(child.pid, () => reader().readProcess(child.pid));
      const { privateClean } = truth(child.pid);
      assert.ok(privateClean >= 24 * MB, `the mapped file should show as Private_Clean, but that is ${privateClean} bytes`);
      assert.ok(sample.uss >= privateClean, `uss ${sample.uss} leaves out the ${privateClean} bytes of Private_Clean`);
      child.kill();
    });

    test('lists a child\'s children, and all its descendants breadth first', { timeout: 30_000 }, async () => {
      const { child, tree, stop } = await family();
      assert.equal(tree.pid, child.pid);
      const grandchildren = tree.children.map((node) => node.pid).sort((a, b) => a - b);
      const greatGrandchildren = tree.children.flatMap((node) => node.children.map((leaf) => leaf.pid));
      assert.equal(greatGrandchildren.length, 1);

      assert.deepEqual(reader().listChildren(child.pid), grandchildren);
      assert.deepEqual(reader().listChildren(child.pid, { recursive: false }), grandchildren);
      assert.deepEqual(reader().listChildren(child.pid, { recursive: true }), [...grandchildren, ...greatGrandchildren]);
      const [leafParent] = tree.children.filter((node) => node.children.length === 1);
      assert.deepEqual(reader().listChildren(leafParent!.pid, { recursive: true }), greatGrandchildren);
      assert.deepEqual(reader().listChildren(greatGrandchildren[0]!, { recursive: true }), []);

      const mine = reader().listChildren(process.pid);
      assert.ok(mine.includes(child.pid), `${child.pid} not among this process's children ${mine.join(' ')}`);
      assert.deepEqual(mine, [...mine].sort((a, b) => a - b));
      const all = reader().listChildren(process.pid, { recursive: true });
      for (const pid of [child.pid, ...grandchildren, ...greatGrandchildren]) assert.ok(all.includes(pid), `${pid} missing from ${all.join(' ')}`);
      assert.ok(!all.includes(process.pid));
      assert.equal(new Set(all).size, all.length);
      assert.equal(reader().readProcess(greatGrandchildren[0]!).ppid, leafParent!.pid);
      await stop();
    });

    test('a PID that does not exist throws ProcessNotFoundError', { timeout: 30_000 }, async () => {
      const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
      assertNotFound(() => reader().readProcess(pidMax + 1), pidMax + 1);
      assertNotFound(() => reader().listChildren(pidMax + 1), pidMax + 1);
      assertNotFound(() => reader().listChildren(pidMax + 1, { recursive: true }), pidMax + 1);

      // A process that has exited and been reaped (Node reaps before 'exit').
      const gone = spawn(process.execPath, ['-e', '0']);
      await new Promise((resolve) => gone.once('exit', resolve));
      assert.ok(gone.pid);
      assertNotFound(() => reader().readProcess(gone.pid!), gone.pid);
    });

    test('a zombie (exited, not yet reaped) throws ProcessNotFoundError', { timeout: 30_000 }, async () => {
      // A Python parent forks a child that exits at once, and never waits for it.
      const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
      const script = 'import os, sys\npid = os.fork()\nif pid == 0: os._exit(0)\nprint(pid, flush=True)\nsys.stdin.read()';
      const parent = new LineChild(python, ['-c', script]);
      const zombie = Number(await parent.line());
      for (const deadline = Date.now() + 10_000; procState(zombie) !== 'Z' && Date.now() < deadline; ) await sleep(20);
      assert.equal(procState(zombie), 'Z');
      assertNotFound(() => reader().readProcess(zombie), zombie);
      parent.kill();
    });

    test('another user\'s process throws ProcessAccessError', { timeout: 30_000 }, async (t) => {
      let error: { name: string; reason?: string; pid?: number; message: string };
      let target: number;
      if (process.getuid?.() === 0) {
        // As root nothing is forbidden: read this (root's) process from a child running as nobody.
        target = process.pid;
        const { stdout } = await promisify(execFile)(process.execPath, [fixturePath('process-read-as'), kind, String(target)], {
          uid: 65534,
          gid: 65534,
          cwd: '/',
          env: { PATH: process.env.PATH },
        });
        const outcome = JSON.parse(stdout) as { error?: typeof error; sample?: ProcessSample };
        assert.ok(outcome.error, `nobody read root's process: ${stdout}`);
        error = outcome.error;
      } else {
        target = 1;
        const owner = /^Uid:\s+(\d+)/m.exec(readFileSync('/proc/1/status', 'utf8'))?.[1];
        if (Number(owner) === process.getuid?.()) {
          t.skip('PID 1 runs as this user, so there is no other user\'s process to read');
          return;
        }
        try {
          reader().readProcess(target);
          assert.fail('read PID 1 as another user');
        } catch (err) {
          assert.ok(err instanceof ProcessAccessError, String(err));
          error = err;
        }
      }
      assert.equal(error.name, 'ProcessAccessError');
      assert.equal(error.reason, 'forbidden');
      assert.equal(error.pid, target);
      assert.match(error.message, new RegExp(`\\b${target}\\b`));
    });

    test('a kernel thread reads as no memory, not as an error', (t) => {
      if (!existsSync('/proc/2/stat') || !readFileSync('/proc/2/stat', 'utf8').includes('(kthreadd)')) {
        t.skip('no kernel threads visible in this PID namespace');
        return;
      }
      const sample = reader().readProcess(2);
      assert.deepEqual(
        { command: sample.command, ppid: sample.ppid, rss: sample.rss, vms: sample.vms, uss: sample.uss, pss: sample.pss, swap: sample.swap },
        { command: 'kthreadd', ppid: 0, rss: 0, vms: 0, uss: 0, pss: 0, swap: 0 },
      );
      assert.equal(sample.threads, 1);
    });

    test('a PID that is not a positive integer throws TypeError', () => {
      for (const pid of [0, -1, 1.5, '12', Number.NaN, 2 ** 31]) {
        assert.throws(() => reader().readProcess(pid as number), TypeError, `readProcess(${String(pid)})`);
        assert.throws(() => reader().listChildren(pid as number), TypeError, `listChildren(${String(pid)})`);
      }
    });
  });
}

describe('the fallback off Linux', { skip: linux && 'this is Linux, which has /proc' }, () => {
  test('says it needs /proc and how to get the addon', () => {
    assert.throws(() => createFallbackReader().readProcess(process.pid), (err: unknown) => {
      assert.equal((err as { reason?: string }).reason, 'unreadable');
      assert.match(String(err), /\/proc.*native addon/s);
      return true;
    });
  });
});

describe('the fallback\'s /proc parsers', () => {
  test('take the page size from AT_PAGESZ, whatever the word size and byte order', () => {
    const auxv = (wordSize: 4 | 8, littleEndian: boolean, pairs: Array<[number, number]>): Buffer => {
      const buf = Buffer.alloc((pairs.length + 1) * 2 * wordSize);
      pairs.forEach(([type, value], i) => {
        const at = i * 2 * wordSize;
        if (wordSize === 8) {
          buf[littleEndian ? 'writeBigUInt64LE' : 'writeBigUInt64BE'](BigInt(type), at);
          buf[littleEndian ? 'writeBigUInt64LE' : 'writeBigUInt64BE'](BigInt(value), at + 8);
        } else {
          buf[littleEndian ? 'writeUInt32LE' : 'writeUInt32BE'](type, at);
          buf[littleEndian ? 'writeUInt32LE' : 'writeUInt32BE'](value, at + 4);
        }
      });
      return buf;
    };
    // AT_HWCAP (16), AT_PAGESZ (6), AT_CLKTCK (17), then AT_NULL.
    assert.equal(pageSizeFromAuxv(auxv(8, true, [[16, 0xff], [6, 65536], [17, 100]]), 8, true), 65536);
    assert.equal(pageSizeFromAuxv(auxv(8, false, [[16, 0xff], [6, 16384]]), 8, false), 16384);
    assert.equal(pageSizeFromAuxv(auxv(4, true, [[6, 4096]]), 4, true), 4096);
    assert.equal(pageSizeFromAuxv(auxv(8, true, [[16, 0xff]]), 8, true), 0);
    if (linux) {
      const wordSize = process.arch.endsWith('64') ? 8 : 4;
      assert.equal(pageSizeFromAuxv(readFileSync('/proc/self/auxv'), wordSize, endianness() === 'LE'), PAGE_SIZE);
    }
  });

  test('read stat with a comm of spaces and parentheses', () => {
    const line = Buffer.from('4242 (a) (b) c) S 17 4242 4242 0 -1 4194560 90 0 0 0 12 34 0 0 20 0 3 0 5678 745713664 10091 18446744073709551615\n');
    assert.deepEqual(parseStat(line, line.length), {
      state: 'S'.charCodeAt(0), ppid: 17, flags: 4194560, utime: 12, stime: 34, threads: 3, starttime: 5678, command: 'a) (b) c',
    });
  });

  test('sum smaps keys the same whether the text comes whole or in pieces', () => {
    const text = Buffer.from([
      '00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/dbus-daemon',
      'Rss:                 100 kB', 'Pss:                  50 kB', 'Pss_Dirty:            12 kB',
      'Private_Clean:        40 kB', 'Private_Dirty:         8 kB', 'Swap:                  4 kB', 'SwapPss:               2 kB',
      '7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]',
      'Pss:                  20 kB', 'Private_Dirty:        20 kB', 'Swap:                  0 kB', 'VmFlags: rd wr mr mw me gd ac',
    ].join('\n'));
    const whole = emptySmapsTotals();
    addSmapsLines(text, 0, text.length, whole, true);
    assert.deepEqual(whole, { pss: 70, privateClean: 40, privateDirty: 28, swap: 4 });
    for (const chunk of [1, 7, 64]) {
      const pieces = emptySmapsTotals();
      let carry = Buffer.alloc(0);
      for (let at = 0; at < text.length; at += chunk) {
        const buf = Buffer.concat([carry, text.subarray(at, at + chunk)]);
        carry = Buffer.from(buf.subarray(addSmapsLines(buf, 0, buf.length, pieces, false)));
      }
      addSmapsLines(carry, 0, carry.length, pieces, true);
      assert.deepEqual(pieces, whole, `in pieces of ${chunk} bytes`);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Both readers at once

describe('the native and fallback readers', { skip: notLinux }, () => {
  const fallback = lazy(createFallbackReader);
  const native = lazy(readers.find((entry) => entry.kind === 'native')!.load);

  test('give the same figures for an idle child', { timeout: 30_000 }, async () => {
    const child = idleChild();
    assert.equal(await child.line(), 'ready');
    await settle(child.pid);
    // pss moves whenever another process starts or stops sharing the child's pages (Node's own
    // text, with other tests running), so a pair of reads that straddles that is taken again.
    let a: ProcessSample;
    let b: ProcessSample;
    for (let attempt = 1; ; attempt++) {
      a = fallback().readProcess(child.pid);
      b = native().readProcess(child.pid);
      try {
        for (const key of ['rss', 'vms', 'uss', 'pss', 'swap'] as const) {
          const slack = Math.max(PAGE_SIZE, a[key] * 0.005);
          assert.ok(Math.abs(a[key] - b[key]) <= slack, `${key}: fallback ${a[key]}, native ${b[key]}`);
        }
        break;
      } catch (err) {
        if (attempt === 5) throw err;
      }
    }
    const exact = ({ pid, ppid, cpuUserUs, cpuSystemUs, threads, startTime, command }: ProcessSample) => ({ pid, ppid, cpuUserUs, cpuSystemUs, threads, startTime, command });
    assert.deepEqual(exact(b), exact(a));
    assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
    child.kill();
  });

  test('list the same children', { timeout: 30_000 }, async () => {
    const { child, stop } = await family();
    for (const recursive of [false, true]) {
      assert.deepEqual(native().listChildren(child.pid, { recursive }), fallback().listChildren(child.pid, { recursive }));
      assert.deepEqual(native().listChildren(process.pid, { recursive }), fallback().listChildren(process.pid, { recursive }));
    }
    await stop();
  });
});
