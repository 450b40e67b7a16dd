/**
 * The worker's metrics loop: a sampling round every `intervalS` (plus one at start, so even a
 * short-lived process reports), a scan for new descendants every second when watching
 * children, and shipping when the buffer is due or the owner flushes. Timers are unref'd.
 */
import type { KeyObject } from 'node:crypto';
import type { ProcessReader } from '../process/types';
import { noteSampled, readAgentCounters, sameCounters } from '../ring/agent-counters';
import type { AgentCounters } from '../ring/agent-counters';
import type { RingViews } from '../ring/layout';
import { readMainFigures } from '../ring/main-metrics';
import { writeStderr } from '../stderr';
import { addRound, createMetricsShipper, isDue, settleMetrics, shipBuffered } from './metrics-shipper';
import type { MetricsShipper } from './metrics-shipper';
import { createProcessSampler, discoverChildren, sampleAll } from './process-sampler';
import type { ProcessSampler } from './process-sampler';
import type { WorkerMetricsInit } from './protocol';
import type { SenderState } from './sender';

/** How often a sidecar looks for new descendants: short-lived children still get one reading. */
export const CHILD_SCAN_MS = 1_000;
/**
 * A final reading closer than this to the previous round would repeat it, and is skipped,
 * unless the agent's counters moved since: the last drops must reach the collector too.
 */
export const MIN_FINAL_GAP_MS = 1_000;

export interface MetricsLoop {
  readonly views: RingViews;
  readonly sampler: ProcessSampler;
  readonly shipper: MetricsShipper;
  readonly timers: NodeJS.Timeout[];
  /** Unix ms of the latest sampling round. */
  lastRoundAt: number;
  /** The agent's counters as the latest round shipped them (null: not this process, or no round yet). */
  lastCounters: AgentCounters | null;
}

export interface MetricsLoopDeps {
  views: RingViews;
  sender: SenderState;
  publicKey: KeyObject;
  sdkVersion: string;
  runtimeVersion: string;
  service: string;
  host: string;
  debug: boolean;
}

export function startMetricsLoop(init: WorkerMetricsInit, deps: MetricsLoopDeps): MetricsLoop | null {
  let reader: ProcessReader;
  try {
    // Loaded here, not at the top: only the worker needs the addon, and only with metrics on.
    reader = (require('../process/active') as typeof import('../process/active')).activeReader();
  } catch (err) {
    writeStderr(`process metrics are off: no process reader could be loaded (${err instanceof Error ? err.message : String(err)})`);
    return null;
  }
  const loop: MetricsLoop = {
    views: deps.views,
    sampler: createProcessSampler({ reader, rootPid: init.rootPid, self: init.self, children: init.children, debug: deps.debug }),
    shipper: createMetricsShipper({
      views: deps.views,
      sender: deps.sender,
      publicKey: deps.publicKey,
      sdkVersion: deps.sdkVersion,
      runtimeVersion: deps.runtimeVersion,
      service: deps.service,
      host: deps.host,
      maxRounds: init.maxRounds,
      deadlineMs: init.deadlineMs,
    }),
    timers: [],
    lastRoundAt: 0,
    lastCounters: null,
  };
  sampleRound(loop);
  if (init.children) loop.timers.push(setInterval(() => scanChildren(loop), CHILD_SCAN_MS));
  loop.timers.push(
    setInterval(() => {
      sampleRound(loop);
      shipIfDue(loop);
    }, init.intervalMs),
  );
  for (const timer of loop.timers) timer.unref();
  if (deps.debug) writeStderr(`sampling process ${init.rootPid}${init.children ? ' and its descendants' : ''} every ${init.intervalMs / 1000} s with the ${reader.kind} reader`);
  return loop;
}

function sampleRound(loop: MetricsLoop): void {
  if (loop.sampler.rootGone && loop.sampler.watched.size === 0) return;
  loop.lastRoundAt = Date.now();
  const own = loop.sampler.self ? { main: readMainFigures(loop.views), counters: readAgentCounters(loop.views) } : null;
  const entries = sampleAll(loop.sampler, own);
  // Null when this process could not be read: its counters then went out on no entry.
  loop.lastCounters = own !== null && entries.some((e) => e.dropped_ring_full !== undefined) ? own.counters : null;
  if (loop.lastCounters !== null) noteSampled(loop.views, loop.lastCounters);
  addRound(loop.shipper, entries, true);
}

function scanChildren(loop: MetricsLoop): void {
  addRound(loop.shipper, discoverChildren(loop.sampler), false);
}

export function shipIfDue(loop: MetricsLoop): void {
  if (isDue(loop.shipper)) shipBuffered(loop.shipper);
}

/** Ships what is buffered (after a fresh round when `fresh`) and waits for delivery. */
export async function flushMetrics(loop: MetricsLoop, fresh: boolean): Promise<void> {
  if (fresh && (Date.now() - loop.lastRoundAt >= MIN_FINAL_GAP_MS || countersMoved(loop))) sampleRound(loop);
  shipBuffered(loop.shipper);
  await settleMetrics(loop.shipper);
}

export function stopMetricsLoop(loop: MetricsLoop): void {
  for (const timer of loop.timers) clearInterval(timer);
  loop.timers.length = 0;
}

function countersMoved(loop: MetricsLoop): boolean {
  return loop.lastCounters !== null && !sameCounters(loop.lastCounters, readAgentCounters(loop.views));
}
