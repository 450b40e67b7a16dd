/**
 * Ships logs made outside the ring, for a thread that has no agent: pino runs its transports in
 * a worker thread of its own, where starting a second agent would double the metrics and the
 * exit work. The logs are batched here (by count and by time), encoded and sealed like the
 * agent's, and delivered by the agent's sender, so retries, backoff, Retry-After, the spool and
 * the exit deadline behave the same. The sender counts into a private stats block (the shape of
 * the ring's control area, no ring behind it): nothing here reaches the app's agent or its stats.
 *
 *   lines → pending batch ─(100 logs or 1 s)→ queue ─(≤ MAX_IN_FLIGHT)→ deliver → sent | spool | dropped
 *
 * Nothing waits on the network before taking the next log: a batch that finds every slot taken
 * waits in a queue of at most MAX_QUEUED_LOGS, past which it goes to the spool or is dropped
 * and counted, so a collector that is down never blocks the logger nor grows memory unbounded.
 */
import { hostname } from 'node:os';
import type { TeracronConfig } from '../config/resolve';
import { EXIT_DEADLINE, FINAL, STAT_DROPPED_SEND, STAT_SENT, STAT_SPOOLED, createRingBuffer, ringViews } from '../ring/layout';
import type { RingViews } from '../ring/layout';
import { addStat, readWorkerCounters, setLastError } from '../ring/shared-stats';
import { writeStderr } from '../stderr';
import { USER_AGENT } from '../version';
import { wireResource } from '../config/resource';
import { INGEST_PATHS, encodeBatch, newBatchId } from '../wire/batch-codec';
import type { WireLog, WireResource } from '../wire/batch-codec';
import { sealEnvelope } from '../wire/envelope';
import { sharedNow, syncExitMode, untilDeadline } from '../worker/exit-mode';
import { TELEMETRY_COUNTERS, createSender, deliver, spoolOrDrop } from '../worker/sender';
import type { Batch, SenderState } from '../worker/sender';
import { createSpooler, stopSpooler } from '../worker/spooler';
import type { Spooler } from '../worker/spooler';
import { Transport } from '../worker/transport';

export const DIRECT_BATCH_LOGS = 100;
export const DIRECT_FLUSH_INTERVAL_MS = 1000;
export const MAX_IN_FLIGHT = 4;
export const MAX_QUEUED_LOGS = 10_000;
/**
 * The longest the end of the stream spends shipping (the config's exitTimeoutMs, at most this):
 * pino's thread-stream blocks the app's exit until the stream closes, for 10 s at most, and
 * destroys it then.
 */
export const MAX_EXIT_BUDGET_MS = 5000;
/** After the exit deadline, what was cut off is spooled or counted within this. */
const EXIT_SETTLE_MS = 1000;

export interface DirectShipperOptions {
  config: TeracronConfig;
  /** Who ships, in stderr lines and in the User-Agent: `teracron/pino`. */
  name: string;
}

export interface DirectShipper {
  readonly name: string;
  readonly config: TeracronConfig;
  readonly views: RingViews;
  readonly sender: SenderState;
  readonly transport: Transport;
  readonly spooler: Spooler | null;
  /** The batch being filled, and the process it describes (pino lines carry pid and hostname). */
  pending: WireLog[];
  resource: WireResource;
  timer: NodeJS.Timeout | null;
  /** Batches waiting for a free slot, and the logs in them. */
  readonly queue: Array<{ logs: WireLog[]; resource: WireResource }>;
  queuedLogs: number;
  readonly inFlight: Set<Promise<void>>;
  /** Drops already said on stderr (one warning, then only the total at the end). */
  droppedReported: number;
  closing: Promise<void> | null;
}

export function createDirectShipper({ config, name }: DirectShipperOptions): DirectShipper {
  const views = ringViews(createRingBuffer(4096));
  const transport = new Transport({
    baseUrl: config.baseUrl,
    slug: config.slug,
    userAgent: `${USER_AGENT} ${name}`,
    timeoutS: config.timeoutS,
    caPem: config.caPem,
    connections: MAX_IN_FLIGHT,
  });
  let sender: SenderState | null = null;
  const spooler =
    config.spoolDir === null
      ? null
      : createSpooler({ dir: config.spoolDir, maxBytes: config.spoolMaxBytes, views, transport, debug: config.debug, exiting: () => sender?.final === true });
  sender = createSender({ views, transport, maxAttempts: config.maxSendAttempts, debug: config.debug, spooler, dropsCountedIn: `the total ${name} says when its stream ends` });
  // The first drop is said by reportDrops (with the total to come); the sender says each only with TERACRON_DEBUG.
  sender.reported.add('gave-up');
  return {
    name,
    config,
    views,
    sender,
    transport,
    spooler,
    pending: [],
    resource: wireResource(config, process.pid, hostname()),
    timer: null,
    queue: [],
    queuedLogs: 0,
    inFlight: new Set(),
    droppedReported: 0,
    closing: null,
  };
}

/** Takes one log of process `pid` on `host` (null: this one). Never throws, never waits. */
export function shipLog(sh: DirectShipper, log: WireLog, pid: number | null, host: string | null): void {
  if (sh.closing !== null) return noteDropped(sh, 1, 'written after the stream ended');
  const r = sh.resource;
  if ((pid !== null && pid !== r.pid) || (host !== null && host !== r.host)) {
    dispatch(sh);
    sh.resource = wireResource(sh.config, pid ?? r.pid, host ?? r.host);
  }
  sh.pending.push(log);
  if (sh.pending.length >= DIRECT_BATCH_LOGS) dispatch(sh);
  else if (sh.timer === null) {
    sh.timer = setTimeout(() => dispatch(sh), DIRECT_FLUSH_INTERVAL_MS);
    sh.timer.unref();
  }
}

/** Sends what is pending and resolves once every batch so far is delivered, spooled or counted. */
export async function flushShipper(sh: DirectShipper): Promise<void> {
  dispatch(sh);
  await settled(sh);
}

/**
 * The end: what is pending is sent within the exit budget, with the sender's exit mode (short
 * backoffs, a Retry-After only if it fits, a refused endpoint given up after two tries). At the
 * deadline the connections are cut and what was on them goes to the spool or is counted as
 * dropped. Resolves when that is done and the connections are closed.
 */
export function closeShipper(sh: DirectShipper): Promise<void> {
  sh.closing ??= close(sh);
  return sh.closing;
}

async function close(sh: DirectShipper): Promise<void> {
  dispatch(sh);
  const budget = Math.min(sh.config.exitTimeoutMs, MAX_EXIT_BUDGET_MS);
  // Written as the main thread writes them for the agent's worker: the deadline, then FINAL.
  sh.views.stats[EXIT_DEADLINE] = sharedNow() + budget;
  Atomics.store(sh.views.ctrl, FINAL, 1);
  syncExitMode(sh.sender, sh.views);
  await untilDeadline(sh.sender, settled(sh));
  if (sh.inFlight.size > 0) {
    // The deadline passed with requests unanswered: cut off, each is spooled or counted by deliver().
    const droppedBefore = sh.views.stats[STAT_DROPPED_SEND]!;
    sh.transport.destroy();
    await withTimeout(settled(sh), EXIT_SETTLE_MS);
    const cut = sh.views.stats[STAT_DROPPED_SEND]! - droppedBefore;
    // Said as what happened, rather than as the aborted request's "client is destroyed".
    if (cut > 0) setLastError(sh.views, `${cut} log${cut === 1 ? ' was' : 's were'} still unanswered by ${sh.config.baseUrl} when the exit budget of ${budget} ms ran out`);
  }
  if (sh.spooler !== null) {
    // A replay round stops at its next file once the exit began; the one on the wire is let finish.
    stopSpooler(sh.spooler);
    await withTimeout(sh.spooler.replaying ?? Promise.resolve(), EXIT_SETTLE_MS);
  }
  await withTimeout(sh.transport.close().catch(() => {}), EXIT_SETTLE_MS);
  const { sender } = sh;
  if (sender.expiryTimer !== null) clearTimeout(sender.expiryTimer);
  if (sender.spoolTimer !== null) clearTimeout(sender.spoolTimer);
  reportDrops(sh, true);
}

export interface ShipperCounts {
  sent: number;
  spooled: number;
  dropped: number;
}

export function shipperCounts(sh: DirectShipper): ShipperCounts {
  const { stats } = sh.views;
  return { sent: stats[STAT_SENT]!, spooled: stats[STAT_SPOOLED]!, dropped: stats[STAT_DROPPED_SEND]! };
}

/** Logs lost before a batch was made (an unreadable line, a log after the end): counted and said. */
export function noteDropped(sh: DirectShipper, count: number, why: string): void {
  addStat(sh.views, STAT_DROPPED_SEND, count);
  setLastError(sh.views, `dropped ${count} log${count === 1 ? '' : 's'} ${why}`);
  if (sh.config.debug) writeStderr(`${sh.name}: dropped ${count} log${count === 1 ? '' : 's'} ${why}`);
  reportDrops(sh, false);
}

function dispatch(sh: DirectShipper): void {
  if (sh.timer !== null) clearTimeout(sh.timer);
  sh.timer = null;
  if (sh.pending.length === 0) return;
  const logs = sh.pending;
  sh.pending = [];
  if (sh.inFlight.size < MAX_IN_FLIGHT) return start(sh, logs, sh.resource);
  if (sh.queuedLogs + logs.length <= MAX_QUEUED_LOGS) {
    sh.queue.push({ logs, resource: sh.resource });
    sh.queuedLogs += logs.length;
    return;
  }
  track(sh, overflow(sh, logs, sh.resource), logs.length);
}

/** Seals the batch and hands it to the sender; its slot goes to a queued batch when it settles. */
function start(sh: DirectShipper, logs: WireLog[], resource: WireResource): void {
  const batch = seal(sh, logs, resource);
  if (batch !== null) track(sh, deliver(sh.sender, batch), logs.length);
}

function startQueued(sh: DirectShipper): void {
  while (sh.inFlight.size < MAX_IN_FLIGHT) {
    const next = sh.queue.shift();
    if (next === undefined) return;
    sh.queuedLogs -= next.logs.length;
    start(sh, next.logs, next.resource);
  }
}

/** More is waiting than the queue holds: to the spool without trying the endpoint, else dropped. */
async function overflow(sh: DirectShipper, logs: WireLog[], resource: WireResource): Promise<void> {
  const batch = seal(sh, logs, resource);
  if (batch !== null) await spoolOrDrop(sh.sender, batch, `because ${MAX_QUEUED_LOGS} logs were already waiting for the endpoint`);
}

/** `work` counts its `items` itself (sent, spooled or dropped), unless it fails outright. */
function track(sh: DirectShipper, work: Promise<void>, items: number): void {
  const settling: Promise<void> = work
    .catch((err: unknown) => noteDropped(sh, items, `that could be neither sent nor spooled: ${err instanceof Error ? err.message : String(err)}`))
    .finally(() => {
      sh.inFlight.delete(settling);
      reportDrops(sh, false);
      startQueued(sh);
    });
  sh.inFlight.add(settling);
}

function seal(sh: DirectShipper, logs: WireLog[], resource: WireResource): Batch | null {
  const batchId = newBatchId();
  try {
    const plaintext = encodeBatch({ type: 'log', project_slug: sh.config.slug, batch_id: batchId, resource, logs }, sh.config.wireFormat);
    const body = sealEnvelope(plaintext, sh.config.publicKey);
    return { path: INGEST_PATHS.log, kind: 'log', batchId, body, items: logs.length, counters: TELEMETRY_COUNTERS };
  } catch (err) {
    noteDropped(sh, logs.length, `that could not be encoded: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  }
}

async function settled(sh: DirectShipper): Promise<void> {
  while (sh.inFlight.size > 0) await Promise.all(sh.inFlight);
}

/** The first drop is said at once, with why; later ones only as a total at the end. */
function reportDrops(sh: DirectShipper, end: boolean): void {
  const dropped = sh.views.stats[STAT_DROPPED_SEND]!;
  if (dropped === sh.droppedReported || (!end && sh.droppedReported > 0)) return;
  const why = readWorkerCounters(sh.views).lastError ?? 'for an unknown reason';
  if (sh.droppedReported === 0) {
    writeStderr(`${sh.name} could not deliver ${dropped} log${dropped === 1 ? '' : 's'} (last reason: ${why}). Later losses are counted and their total said when the stream ends${sh.config.debug ? '' : '; TERACRON_DEBUG=1 says each'}.`);
  } else {
    writeStderr(`${sh.name}: ${dropped} logs in all were not delivered (last reason: ${why}).`);
  }
  sh.droppedReported = dropped;
}

function withTimeout(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    work.then(done, done);
  });
}
