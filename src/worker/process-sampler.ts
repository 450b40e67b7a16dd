/**
 * Samples the watched processes on the worker: this process (the usual case), or a sidecar's
 * target and, with `children`, every descendant as it appears. Each reading becomes one
 * MetricsEntry. CPU % comes from the change in CPU time between two readings of the same
 * process, as basis points of the whole machine (all cores), so it stays within 0-10000.
 *
 * A process is identified by pid and start time, so a reused pid starts a new series instead
 * of producing a nonsense CPU delta. A process that has exited leaves the set; when the root
 * one does, `rootGone` says so and the owner stops.
 */
import { availableParallelism } from 'node:os';
import { TeracronProcessError } from '../errors';
import type { ProcessReader, ProcessSample } from '../process/types';
import type { AgentCounters } from '../ring/agent-counters';
import type { MainThreadFigures } from '../ring/main-metrics';
import { writeStderr, writeStderrOnce } from '../stderr';
import type { MetricsEntry } from '../wire/metrics-batch';

interface Watched {
  readonly startTime: number;
  /** CPU time (user + system, µs) and wall clock (unix ms) at the previous reading. */
  cpuUs: number;
  at: number;
}

export interface ProcessSamplerInit {
  reader: ProcessReader;
  /** The process to watch. */
  rootPid: number;
  /** True when rootPid is this process: the main thread's heap and event-loop figures apply. */
  self: boolean;
  /** Also watch every descendant of rootPid. */
  children: boolean;
  debug: boolean;
}

export interface ProcessSampler extends ProcessSamplerInit {
  readonly watched: Map<number, Watched>;
  /** Descendants that cannot be read (another user's setuid program, say): not retried. */
  readonly ignored: Set<number>;
  readonly cores: number;
  /** The root process has exited (or can no longer be read). */
  rootGone: boolean;
}

/** What only the agent's own process has: the main thread's figures and the agent's counters. */
export interface OwnFigures {
  main: MainThreadFigures | null;
  counters: AgentCounters;
}

export function createProcessSampler(init: ProcessSamplerInit): ProcessSampler {
  return { ...init, watched: new Map(), ignored: new Set(), cores: Math.max(1, availableParallelism()), rootGone: false };
}

/** One entry per watched process that could be read; `own` goes on the root's when it is this process. */
export function sampleAll(s: ProcessSampler, own: OwnFigures | null, now = Date.now()): MetricsEntry[] {
  const entries: MetricsEntry[] = [];
  const known = [...s.watched.keys()];
  if (!s.rootGone && !s.watched.has(s.rootPid)) readOne(s, s.rootPid, own, now, entries);
  for (const pid of known) readOne(s, pid, own, now, entries);
  return entries;
}

/**
 * Looks for descendants not yet watched and reads each one at once, so that a child living
 * shorter than the sampling interval still shows up. Returns their entries.
 */
export function discoverChildren(s: ProcessSampler, now = Date.now()): MetricsEntry[] {
  const entries: MetricsEntry[] = [];
  if (!s.children || s.rootGone) return entries;
  let pids: number[];
  try {
    pids = s.reader.listChildren(s.rootPid, { recursive: true });
  } catch (err) {
    if (err instanceof TeracronProcessError && err.reason === 'not-found') s.rootGone = true;
    return entries;
  }
  for (const pid of pids) if (!s.watched.has(pid) && !s.ignored.has(pid)) readOne(s, pid, null, now, entries);
  return entries;
}

function readOne(s: ProcessSampler, pid: number, own: OwnFigures | null, now: number, out: MetricsEntry[]): void {
  let sample: ProcessSample;
  try {
    sample = s.reader.readProcess(pid);
  } catch (err) {
    forget(s, pid, err);
    return;
  }
  let watched = s.watched.get(pid);
  if (watched !== undefined && watched.startTime !== sample.startTime) {
    // The pid was reused by a new process: a new series.
    s.watched.delete(pid);
    watched = undefined;
    if (pid === s.rootPid) {
      s.rootGone = true;
      return;
    }
  }
  const cpuUs = sample.cpuUserUs + sample.cpuSystemUs;
  // The first reading of a process measures from its start.
  const sinceUs = watched === undefined ? cpuUs : cpuUs - watched.cpuUs;
  const wallMs = watched === undefined ? now - sample.startTime : now - watched.at;
  if (watched === undefined) s.watched.set(pid, { startTime: sample.startTime, cpuUs, at: now });
  else {
    watched.cpuUs = cpuUs;
    watched.at = now;
  }
  out.push(toEntry(s, sample, cpuBasisPoints(sinceUs, wallMs, s.cores), pid === s.rootPid && s.self ? own : null, now));
}

export function cpuBasisPoints(cpuUs: number, wallMs: number, cores: number): number {
  if (!(wallMs > 0) || !(cpuUs > 0)) return 0;
  return Math.min(10_000, Math.round((cpuUs / (wallMs * 1000 * cores)) * 10_000));
}

function toEntry(s: ProcessSampler, p: ProcessSample, cpu: number, own: OwnFigures | null, now: number): MetricsEntry {
  const main = own?.main ?? null;
  const entry: MetricsEntry = {
    timestamp: now,
    heap_total: main?.heapTotal ?? 0,
    heap_used: main?.heapUsed ?? 0,
    rss: p.rss,
    external: main?.external ?? 0,
    array_buffers: main?.arrayBuffers ?? 0,
    cpu_usage_pct: cpu,
    // The worst stall of the interval: p50/p99 below hide a rare long block (a 300 ms block
    // once a second is under 1% of a 10 ms probe's samples), and a stall is what lag means.
    event_loop_lag: Math.round(main?.eventLoopMaxUs ?? 0),
    uss: p.uss,
    pss: p.pss,
    vms: p.vms,
    swap: p.swap,
    pid: p.pid,
    threads: p.threads,
    ppid: p.ppid,
  };
  if (main !== null) {
    entry.event_loop_p50 = Math.round(main.eventLoopP50Us);
    entry.event_loop_p99 = Math.round(main.eventLoopP99Us);
  }
  if (own !== null) {
    entry.dropped_ring_full = own.counters.droppedRingFull;
    entry.dropped_send_failed = own.counters.droppedSendFailed;
    entry.send_retries = own.counters.retries;
    entry.metrics_dropped = own.counters.metricsDropped;
    entry.spooled = own.counters.spooled;
    entry.replayed = own.counters.replayed;
    entry.dropped_spool_full = own.counters.droppedSpoolFull;
    entry.spool_bytes = own.counters.spoolBytes;
  }
  // The name tells a sidecar's series apart; for the agent's own process it is always `node`.
  if (!s.self) entry.command = p.command;
  return entry;
}

function forget(s: ProcessSampler, pid: number, err: unknown): void {
  s.watched.delete(pid);
  const reason = err instanceof TeracronProcessError ? err.reason : 'unreadable';
  if (pid === s.rootPid) s.rootGone = true;
  if (reason === 'not-found') {
    if (s.debug) writeStderr(`process ${pid} has exited; no longer sampled`);
    return;
  }
  s.ignored.add(pid);
  const text = err instanceof Error ? err.message : String(err);
  writeStderrOnce(`sample-${reason}-${pid}`, `cannot sample process ${pid}: ${text}`);
}
