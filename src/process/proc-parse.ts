/**
 * Parsers for the `/proc` files the fallback reader reads, over a byte range of a reused buffer:
 * no regex and no intermediate strings, because the worker samples every few seconds.
 * Formats: proc(5), and Documentation/filesystems/proc.rst in the kernel tree.
 */

const SPACE = 0x20;
const NEWLINE = 0x0a;
const COLON = 0x3a;
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

export class ProcFormatError extends Error {
  constructor(file: string, what: string) {
    super(`unexpected format of ${file}: ${what}`);
    this.name = 'ProcFormatError';
  }
}

/** The fields of `/proc/<pid>/stat` the reader uses; times are clock ticks. */
export interface StatFields {
  /** Field 3 as a character code: 'R', 'S', 'Z', … */
  state: number;
  ppid: number;
  /** Field 9, the kernel's PF_* task flags. */
  flags: number;
  utime: number;
  stime: number;
  threads: number;
  starttime: number;
  command: string;
}

/** PF_KTHREAD in include/linux/sched.h: a kernel thread, which has no memory map of its own. */
export const PF_KTHREAD = 0x00200000;

/** The unsigned decimal at `pos`, up to the first non-digit; -1 when there is no digit. */
function readUint(buf: Buffer, pos: number, end: number): number {
  let value = 0;
  let digits = 0;
  for (; pos < end; pos++) {
    const c = buf[pos]!;
    if (c < DIGIT_0 || c > DIGIT_9) break;
    value = value * 10 + (c - DIGIT_0);
    digits++;
  }
  return digits === 0 ? -1 : value;
}

/**
 * `pid (comm) state ppid …`. comm may hold spaces and parentheses, so it runs from the first '('
 * to the LAST ')'; the fields after it are counted from 3.
 */
export function parseStat(buf: Buffer, len: number): StatFields {
  let open = 0;
  while (open < len && buf[open] !== OPEN_PAREN) open++;
  let close = len - 1;
  while (close > open && buf[close] !== CLOSE_PAREN) close--;
  if (open >= len || close <= open || close + 2 >= len) throw new ProcFormatError('stat', 'no (comm) followed by fields');

  const command = buf.toString('utf8', open + 1, close);
  let pos = close + 2;
  const state = buf[pos]!;
  let ppid = -1;
  let flags = -1;
  let utime = -1;
  let stime = -1;
  let threads = -1;
  let starttime = -1;
  for (let field = 3; field < 22; ) {
    while (pos < len && buf[pos] !== SPACE) pos++;
    pos++;
    field++;
    if (pos >= len) throw new ProcFormatError('stat', `only ${field - 1} fields`);
    switch (field) {
      case 4: ppid = readUint(buf, pos, len); break;
      case 9: flags = readUint(buf, pos, len); break;
      case 14: utime = readUint(buf, pos, len); break;
      case 15: stime = readUint(buf, pos, len); break;
      case 20: threads = readUint(buf, pos, len); break;
      case 22: starttime = readUint(buf, pos, len); break;
    }
  }
  if (ppid < 0 || flags < 0 || utime < 0 || stime < 0 || threads < 0 || starttime < 0) {
    throw new ProcFormatError('stat', 'a numeric field is not a number');
  }
  return { state, ppid, flags, utime, stime, threads, starttime, command };
}

/** Only the parent PID from `/proc/<pid>/stat` (for the scan of every process); -1 if malformed. */
export function parseStatPpid(buf: Buffer, len: number): number {
  let close = len - 1;
  while (close > 0 && buf[close] !== CLOSE_PAREN) close--;
  // ") S 1234": the state is one character, so the ppid starts four bytes after the ')'.
  return close > 0 && close + 4 < len ? readUint(buf, close + 4, len) : -1;
}

/** `size resident shared text lib data dt`, in pages: the first two. */
export function parseStatm(buf: Buffer, len: number): { size: number; resident: number } {
  const size = readUint(buf, 0, len);
  let pos = 0;
  while (pos < len && buf[pos] !== SPACE) pos++;
  const resident = readUint(buf, pos + 1, len);
  if (size < 0 || resident < 0) throw new ProcFormatError('statm', 'expected two page counts');
  return { size, resident };
}

/** Running sums of the smaps keys the reader reports, in kB. */
export interface SmapsTotals {
  pss: number;
  privateClean: number;
  privateDirty: number;
  swap: number;
}

export function emptySmapsTotals(): SmapsTotals {
  return { pss: 0, privateClean: 0, privateDirty: 0, swap: 0 };
}

const PSS = Buffer.from('Pss');
const SWAP = Buffer.from('Swap');
const PRIVATE_CLEAN = Buffer.from('Private_Clean');
const PRIVATE_DIRTY = Buffer.from('Private_Dirty');

/**
 * Adds the `Key:   123 kB` lines of smaps or smaps_rollup in [start, end) to `totals`. Only whole
 * lines are taken unless `final` (the end of the file); returns where the first partial line
 * starts, so a streaming caller can carry it into the next read. Mapping headers
 * (`7f…-7f… r-xp 00000000 08:01 123 /usr/bin/node`) and other keys are skipped: a key must
 * match exactly, so `Pss_Dirty:` and `SwapPss:` are not counted.
 */
export function addSmapsLines(buf: Buffer, start: number, end: number, totals: SmapsTotals, final: boolean): number {
  let pos = start;
  while (pos < end) {
    let eol = buf.indexOf(NEWLINE, pos);
    if (eol === -1 || eol >= end) {
      if (!final) return pos;
      eol = end;
    }
    let colon = pos;
    while (colon < eol && buf[colon] !== COLON) colon++;
    if (colon < eol) {
      const keyLength = colon - pos;
      let value = 0;
      if (keyLength === 3 || keyLength === 4 || keyLength === 13) {
        let digits = colon + 1;
        while (digits < eol && buf[digits] === SPACE) digits++;
        value = Math.max(0, readUint(buf, digits, eol));
      }
      if (keyLength === 3) {
        if (PSS.compare(buf, pos, colon) === 0) totals.pss += value;
      } else if (keyLength === 4) {
        if (SWAP.compare(buf, pos, colon) === 0) totals.swap += value;
      } else if (keyLength === 13) {
        if (PRIVATE_CLEAN.compare(buf, pos, colon) === 0) totals.privateClean += value;
        else if (PRIVATE_DIRTY.compare(buf, pos, colon) === 0) totals.privateDirty += value;
      }
    }
    pos = eol + 1;
  }
  return end;
}

/** `/proc/<pid>/task/<tid>/children`: PIDs separated by spaces (with a trailing space). */
export function parsePidList(buf: Buffer, len: number, into: number[]): void {
  let pos = 0;
  while (pos < len) {
    const pid = readUint(buf, pos, len);
    if (pid > 0) into.push(pid);
    while (pos < len && buf[pos] !== SPACE && buf[pos] !== NEWLINE) pos++;
    pos++;
  }
}

/** `btime <seconds>` from `/proc/stat`: when the system booted, unix seconds. */
export function parseBtime(procStat: string): number {
  const at = procStat.indexOf('\nbtime ');
  const btime = at === -1 ? Number.NaN : Number.parseInt(procStat.slice(at + 7), 10);
  if (!Number.isFinite(btime) || btime <= 0) throw new ProcFormatError('/proc/stat', 'no btime line');
  return btime;
}

/** AT_PAGESZ from `/proc/self/auxv` (pairs of native words: type, value; AT_NULL ends); 0 if absent. */
export function pageSizeFromAuxv(auxv: Buffer, wordSize: 4 | 8, littleEndian: boolean): number {
  const AT_NULL = 0;
  const AT_PAGESZ = 6;
  for (let at = 0; at + 2 * wordSize <= auxv.length; at += 2 * wordSize) {
    const type = readWord(auxv, at, wordSize, littleEndian);
    if (type === AT_NULL) break;
    if (type === AT_PAGESZ) return readWord(auxv, at + wordSize, wordSize, littleEndian);
  }
  return 0;
}

function readWord(buf: Buffer, at: number, wordSize: 4 | 8, littleEndian: boolean): number {
  if (wordSize === 4) return littleEndian ? buf.readUInt32LE(at) : buf.readUInt32BE(at);
  return Number(littleEndian ? buf.readBigUInt64LE(at) : buf.readBigUInt64BE(at));
}
