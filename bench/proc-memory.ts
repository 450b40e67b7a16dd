/**
 * A process's memory as Linux accounts it, read from /proc: for benches, which measure a child
 * from the inside (the child reads `self`), so this stays a plain synchronous reader. Not
 * teracron/process: the no-agent subject must not load any teracron code (or the addon) whose
 * memory it would then count, and VmHWM (peak RSS) is read here too.
 *
 * USS (unique set size) is what the process alone holds: Private_Clean + Private_Dirty of every
 * mapping; that is what goes away when it exits. RSS also counts shared pages (libraries, the
 * node binary) in full, PSS counts them divided by the number of processes mapping them.
 */
import { readFileSync } from 'node:fs';

export interface ProcMemory {
  /** VmRSS: resident pages, shared ones counted in full. */
  rss: number;
  /** VmHWM: the highest RSS so far. */
  peakRss: number;
  /** Private_Clean + Private_Dirty. */
  uss: number;
  pss: number;
  /** Swapped out (0 on a machine without swap). */
  swap: number;
}

/** `Key:   123 kB` lines → bytes by key; lines without a kB figure are skipped. */
export function parseKbLines(text: string): Map<string, number> {
  const fields = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+):\s+(\d+) kB$/.exec(line.trim());
    if (match !== null) fields.set(match[1]!, (fields.get(match[1]!) ?? 0) + Number(match[2]) * 1024);
  }
  return fields;
}

function readProcFile(pid: number | 'self', name: string): string {
  return readFileSync(`/proc/${pid}/${name}`, 'utf8');
}

/**
 * Sums of the per-mapping figures: smaps_rollup (Linux 4.14+) has them summed already; on older
 * kernels the same keys, repeated once per mapping in smaps, add up to the same thing.
 */
function readRollup(pid: number | 'self'): Map<string, number> {
  try {
    return parseKbLines(readProcFile(pid, 'smaps_rollup'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return parseKbLines(readProcFile(pid, 'smaps'));
  }
}

export function readProcMemory(pid: number | 'self' = 'self'): ProcMemory {
  if (process.platform !== 'linux') throw new Error(`reading memory from /proc needs Linux; this is ${process.platform}`);
  const status = parseKbLines(readProcFile(pid, 'status'));
  const rollup = readRollup(pid);
  const need = (fields: Map<string, number>, key: string, file: string): number => {
    const value = fields.get(key);
    if (value === undefined) throw new Error(`/proc/${pid}/${file} has no ${key} line`);
    return value;
  };
  return {
    rss: need(status, 'VmRSS', 'status'),
    peakRss: need(status, 'VmHWM', 'status'),
    uss: need(rollup, 'Private_Clean', 'smaps_rollup') + need(rollup, 'Private_Dirty', 'smaps_rollup'),
    pss: need(rollup, 'Pss', 'smaps_rollup'),
    swap: rollup.get('Swap') ?? 0,
  };
}
