/**
 * What `teracron/process` reads about a process, the same from the native addon and from the
 * TypeScript `/proc` fallback (SPEC §6). Sizes are bytes, CPU times microseconds, `startTime`
 * unix milliseconds.
 *
 * On Linux the figures come from the same files psutil reads, so they agree with it (psutil
 * also counts Private_Hugetlb in uss: the two differ only for a process using hugetlbfs):
 *   - rss, vms: `/proc/<pid>/statm` (resident and size, in pages)
 *   - uss (Private_Clean + Private_Dirty), pss, swap: `/proc/<pid>/smaps_rollup`, or the sum over
 *     `/proc/<pid>/smaps` on kernels older than 4.14
 *   - ppid, cpuUserUs, cpuSystemUs, threads, startTime, command: `/proc/<pid>/stat`
 *     (CPU and start time are clock ticks; startTime adds `btime` from `/proc/stat`)
 * On macOS: `proc_pidinfo` (task and BSD info), `proc_pid_rusage` (phys_footprint as uss and pss).
 */
export interface ProcessSample {
  pid: number;
  ppid: number;
  rss: number;
  vms: number;
  uss: number;
  pss: number;
  swap: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  threads: number;
  /** When the process started, unix ms (at the kernel's clock-tick resolution). */
  startTime: number;
  /** The kernel's short process name (`comm`, at most 15 characters on Linux). */
  command: string;
}

export interface ListChildrenOptions {
  /** Every descendant, not only direct children. Default false. */
  recursive?: boolean;
}

/** Which implementation `readProcess` uses in this process. */
export type ProcessReaderKind = 'native' | 'fallback';

/**
 * One implementation of the reader. Errors are thrown as `TeracronProcessError` (see errors.ts):
 * `reason` is 'not-found' for a PID that does not exist or has exited (including a zombie),
 * 'forbidden' when the OS refuses to show its memory map, 'unreadable' otherwise.
 */
export interface ProcessReader {
  readonly kind: ProcessReaderKind;
  readProcess(pid: number): ProcessSample;
  /** PIDs of `pid`'s children (breadth first, ascending within a generation); excludes `pid`. */
  listChildren(pid: number, options?: ListChildrenOptions): number[];
}
