/**
 * The TypeScript `/proc` reader: used when the addon's binary cannot load (SPEC §6). It reads the
 * same files as the addon, in the same order, and must give the same numbers:
 *
 *   /proc/<pid>/stat          ppid, state, flags, utime, stime, num_threads, starttime, comm
 *   /proc/<pid>/statm         size (vms) and resident (rss), in pages
 *   /proc/<pid>/smaps_rollup  Pss, Private_Clean + Private_Dirty (uss), Swap, in kB;
 *                             before Linux 4.14 the same keys summed over /proc/<pid>/smaps
 *
 * It runs on the worker every few seconds, so every file is read into one reused buffer and parsed
 * byte by byte (proc-parse.ts); a sample allocates little beyond its result.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import { endianness } from 'node:os';
import { ProcessNotFoundError, TeracronProcessError } from '../errors';
import { checkPid, processError } from './errno';
import { BUILD_ADDON_HINT } from './native';
import {
  PF_KTHREAD,
  addSmapsLines,
  emptySmapsTotals,
  type SmapsTotals,
  type StatFields,
  pageSizeFromAuxv,
  parseBtime,
  parsePidList,
  parseStat,
  parseStatPpid,
  parseStatm,
} from './proc-parse';
import type { ListChildrenOptions, ProcessReader, ProcessSample } from './types';

/**
 * USER_HZ, the unit of the tick counts in /proc. It is fixed ABI, 100 on every architecture Node
 * supports (the kernel's internal HZ may differ; /proc scales to USER_HZ), which is also what
 * sysconf(_SC_CLK_TCK) returns.
 */
const CLK_TCK = 100;

const STATE_ZOMBIE = 0x5a; // 'Z'
const STATE_DEAD = 0x58; // 'X'
const STATE_DEAD_OLD = 0x78; // 'x': TASK_DEAD as Linux 2.6.33 to 3.13 showed it

interface ReaderState {
  /** One buffer for every read; grows (and stays grown) for a file that does not fit. */
  buf: Buffer;
  pageSize: number;
  /** Unix seconds at boot, from /proc/stat. */
  btime: number;
  /** smaps_rollup is missing on this kernel (< 4.14): sum /proc/<pid>/smaps instead. */
  noRollup: boolean;
  /** /proc/<pid>/task/<tid>/children exists (CONFIG_PROC_CHILDREN); otherwise scan /proc. */
  childrenFiles: boolean | undefined;
}

const state: ReaderState = { buf: Buffer.allocUnsafe(8192), pageSize: 0, btime: 0, noRollup: false, childrenFiles: undefined };

function grow(keep: number): void {
  const bigger = Buffer.allocUnsafe(state.buf.length * 2);
  state.buf.copy(bigger, 0, 0, keep);
  state.buf = bigger;
}

/** Reads a whole (small) /proc file into state.buf; returns its length. */
function readWhole(path: string): number {
  const fd = openSync(path, 'r');
  try {
    let len = 0;
    for (;;) {
      if (len === state.buf.length) grow(len);
      const n = readSync(fd, state.buf, len, state.buf.length - len, null);
      if (n === 0) return len;
      len += n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The page size statm counts in, as sysconf(_SC_PAGESIZE) gives it to the addon: AT_PAGESZ from
 * the kernel's auxiliary vector. Not a constant 4096: arm64 and ppc64 kernels are often built with
 * 16K or 64K pages, and statm would then read 16 times too small. If auxv cannot be read, statm's
 * resident pages against VmRSS (kB) in status, which count the same pages, give it instead.
 */
function pageSize(): number {
  if (state.pageSize !== 0) return state.pageSize;
  let size = 0;
  try {
    const wordSize = ['arm', 'ia32', 'mips', 'mipsel', 'ppc'].includes(process.arch) ? 4 : 8;
    size = pageSizeFromAuxv(readFileSync('/proc/self/auxv'), wordSize, endianness() === 'LE');
  } catch {
    size = 0;
  }
  if (!isPowerOfTwo(size)) size = pageSizeFromRss();
  state.pageSize = size;
  return size;
}

function pageSizeFromRss(): number {
  try {
    const status = readFileSync('/proc/self/status', 'latin1');
    const statm = readFileSync('/proc/self/statm');
    const residentPages = parseStatm(statm, statm.length).resident;
    const at = status.indexOf('\nVmRSS:');
    const rssKb = at === -1 ? -1 : Number.parseInt(status.slice(at + 7).trimStart(), 10);
    // The two reads are not one instant; rounding to a power of two absorbs the drift between them.
    const ratio = (rssKb * 1024) / residentPages;
    if (ratio > 0 && Number.isFinite(ratio)) return Math.max(4096, 2 ** Math.round(Math.log2(ratio)));
  } catch {
    // Fall through to the common size.
  }
  return 4096;
}

function isPowerOfTwo(n: number): boolean {
  return n >= 1024 && Number.isInteger(Math.log2(n));
}

function bootTime(): number {
  if (state.btime === 0) state.btime = parseBtime(readFileSync('/proc/stat', 'latin1'));
  return state.btime;
}

/** `/proc/<pid>/stat` of a live process: a zombie or dead one is not found. */
function readLiveStat(pid: number): StatFields {
  const stat = parseStat(state.buf, readWhole(`/proc/${pid}/stat`));
  if (stat.state === STATE_ZOMBIE || stat.state === STATE_DEAD || stat.state === STATE_DEAD_OLD) {
    throw new ProcessNotFoundError(pid, 'it has exited and is waiting for its parent to reap it');
  }
  return stat;
}

function startTimeMs(stat: StatFields): number {
  return Math.round(bootTime() * 1000 + (stat.starttime * 1000) / CLK_TCK);
}

/**
 * When a live process started (unix ms, as readProcess gives it), from its stat file alone: the
 * cheap check a sidecar polls to know its target still runs, without the page-table walk behind
 * smaps_rollup. Linux only; throws TeracronProcessError like readProcess.
 */
export function readStartTime(pid: number): number {
  checkPid(pid);
  if (process.platform !== 'linux') throw noProcFs(pid);
  try {
    return startTimeMs(readLiveStat(pid));
  } catch (err) {
    throw processError(pid, err);
  }
}

function readSample(pid: number, rollup: boolean): ProcessSample {
  const stat = readLiveStat(pid);
  const len = readWhole(`/proc/${pid}/statm`);
  const statm = parseStatm(state.buf, len);
  const totals = emptySmapsTotals();
  // A kernel thread has no memory map: statm reads zeros and smaps_rollup fails with ESRCH.
  if ((stat.flags & PF_KTHREAD) === 0) readSmaps(pid, totals, rollup);

  const page = pageSize();
  return {
    pid,
    ppid: stat.ppid,
    rss: statm.resident * page,
    vms: statm.size * page,
    uss: (totals.privateClean + totals.privateDirty) * 1024,
    pss: totals.pss * 1024,
    swap: totals.swap * 1024,
    cpuUserUs: (stat.utime * 1_000_000) / CLK_TCK,
    cpuSystemUs: (stat.stime * 1_000_000) / CLK_TCK,
    threads: stat.threads,
    startTime: startTimeMs(stat),
    command: stat.command,
  };
}

function readSmaps(pid: number, totals: SmapsTotals, rollup: boolean): void {
  if (rollup && !state.noRollup) {
    try {
      const len = readWhole(`/proc/${pid}/smaps_rollup`);
      addSmapsLines(state.buf, 0, len, totals, true);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  // smaps_rollup is missing: an old kernel, or the process has just gone, in which case smaps is
  // missing too and its ENOENT says so.
  streamSmaps(`/proc/${pid}/smaps`, totals);
  if (rollup) state.noRollup = true;
}

/** smaps can be megabytes (a block per mapping), so it is parsed a buffer at a time. */
function streamSmaps(path: string, totals: SmapsTotals): void {
  const fd = openSync(path, 'r');
  try {
    let carry = 0;
    for (;;) {
      if (carry === state.buf.length) grow(carry);
      const n = readSync(fd, state.buf, carry, state.buf.length - carry, null);
      if (n === 0) {
        addSmapsLines(state.buf, 0, carry, totals, true);
        return;
      }
      const end = carry + n;
      const used = addSmapsLines(state.buf, 0, end, totals, false);
      state.buf.copy(state.buf, 0, used, end);
      carry = end - used;
    }
  } finally {
    closeSync(fd);
  }
}

function hasChildrenFiles(): boolean {
  if (state.childrenFiles === undefined) {
    const tid = readdirSync('/proc/self/task')[0];
    state.childrenFiles = tid !== undefined && existsSync(`/proc/self/task/${tid}/children`);
  }
  return state.childrenFiles;
}

/** The direct children of `pid` from its threads' children files; [] once it has gone. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return children;
  }
  for (const tid of tids) {
    try {
      parsePidList(state.buf, readWhole(`/proc/${pid}/task/${tid}/children`), children);
    } catch {
      // The thread exited between the listing and the read.
    }
  }
  return children;
}

/** Every process's children, from each /proc/<pid>/stat's ppid, when the kernel has no children files. */
function scanParents(): Map<number, number[]> {
  const byParent = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue; // self, sys, meminfo, …
    let ppid: number;
    try {
      ppid = parseStatPpid(state.buf, readWhole(`/proc/${name}/stat`));
    } catch {
      continue; // exited during the scan
    }
    if (ppid <= 0) continue;
    const siblings = byParent.get(ppid);
    if (siblings === undefined) byParent.set(ppid, [pid]);
    else siblings.push(pid);
  }
  return byParent;
}

function readChildren(pid: number, recursive: boolean, childrenFiles: boolean): number[] {
  // Existence first: a PID that is not there is an error, not a process without children.
  readWhole(`/proc/${pid}/stat`);
  const byParent = childrenFiles && hasChildrenFiles() ? undefined : scanParents();
  const direct = (parent: number): number[] => (byParent === undefined ? childrenOf(parent) : byParent.get(parent) ?? []);

  const seen = new Set<number>([pid]);
  const result: number[] = [];
  let generation = [pid];
  while (generation.length > 0) {
    const next: number[] = [];
    for (const parent of generation) {
      for (const child of direct(parent)) {
        if (seen.has(child)) continue;
        seen.add(child);
        next.push(child);
      }
    }
    next.sort((a, b) => a - b);
    for (const child of next) result.push(child);
    if (!recursive) break;
    generation = next;
  }
  return result;
}

function noProcFs(pid: number): TeracronProcessError {
  return new TeracronProcessError(
    'unreadable',
    pid,
    `the fallback process reader reads /proc, which ${process.platform} does not have, and the native addon did not load. ${BUILD_ADDON_HINT}.`,
  );
}

/**
 * Which /proc sources to use; both default to true. false forces the path older kernels take, so
 * that tests cover it on any kernel: /proc/<pid>/smaps instead of smaps_rollup, and a scan of every
 * /proc/<pid>/stat instead of the children files.
 */
export interface FallbackSources {
  smapsRollup?: boolean;
  childrenFiles?: boolean;
}

export function createFallbackReader(sources: FallbackSources = {}): ProcessReader {
  const linux = process.platform === 'linux';
  const rollup = sources.smapsRollup !== false;
  const childrenFiles = sources.childrenFiles !== false;
  return {
    kind: 'fallback',
    readProcess(pid: number): ProcessSample {
      checkPid(pid);
      if (!linux) throw noProcFs(pid);
      try {
        return readSample(pid, rollup);
      } catch (err) {
        throw processError(pid, err);
      }
    },
    listChildren(pid: number, options?: ListChildrenOptions): number[] {
      checkPid(pid);
      if (!linux) throw noProcFs(pid);
      try {
        return readChildren(pid, options?.recursive === true, childrenFiles);
      } catch (err) {
        throw processError(pid, err);
      }
    },
  };
}
