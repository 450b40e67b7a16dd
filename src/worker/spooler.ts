/**
 * The worker's side of the spool: where a sealed batch goes instead of being dropped, and the
 * replay that sends spooled batches once the endpoint answers again.
 *
 * Spooled: a batch whose retries are used up, one the exit could not send because the endpoint
 * is down, and, while the endpoint is known to be down, batches of a ring past its high-water
 * mark (batcher.ts). Each is written already sealed, so a replay posts the very bytes, batch_id
 * included, and the collector stores it once however often it arrives.
 *
 * Replayed: at start, after a batch is delivered while spooled files may wait, and every
 * REPLAY_CHECK_MS; oldest first, one request at a time beside the live batches' own, so live
 * traffic still flows. A file is deleted only after a 2xx; a retryable failure puts it back and
 * ends the round; a refusal (4xx: a key no collector accepts any more) moves it aside, said once.
 * Nothing is replayed while the process exits: the exit budget is for live batches.
 *
 * A spool that cannot be written (disk full, read-only, not a directory) is said once on stderr
 * and in lastError, and the batch is dropped and counted as it was before the spool existed.
 */
import { rename } from 'node:fs/promises';
import { STAT_DROPPED_SPOOL_FULL, STAT_REPLAYED, STAT_SPOOL_BYTES, STAT_SPOOL_CORRUPT, STAT_SPOOLED } from '../ring/layout';
import type { RingViews } from '../ring/layout';
import { addStat, setLastError } from '../ring/shared-stats';
import { writeStderr } from '../stderr';
import { SpoolStore } from './spool/spool-store';
import type { ClaimedBatch } from './spool/spool-store';
import type { SpoolKind } from './spool/spool-record';
import type { Transport } from './transport';

/** How often the worker looks for spooled files it was not told about (another process's). */
export const REPLAY_CHECK_MS = 30_000;
/**
 * After a replay round ended on a failure (the collector busy or gone again), the next one comes
 * this long after, doubling up to REPLAY_CHECK_MS: a process with no live batches left would
 * otherwise wait for the 30 s check, the only other thing that starts a round.
 */
export const REPLAY_RETRY_BASE_MS = 250;

export interface Spooler {
  readonly store: SpoolStore;
  readonly views: RingViews;
  readonly transport: Transport;
  readonly debug: boolean;
  /** True while the process exits (the sender's `final`): no replay starts or continues. */
  readonly exiting: () => boolean;
  /** Files may be waiting: this process spooled, or has not looked yet. */
  mayHaveFiles: boolean;
  replaying: Promise<void> | null;
  timer: NodeJS.Timeout | null;
  /** The next round after a failed one (REPLAY_RETRY_BASE_MS), and the failed rounds in a row. */
  retryTimer: NodeJS.Timeout | null;
  failedRounds: number;
  /** What was said once already (a failing directory, a full spool, a refused replay). */
  readonly said: Set<string>;
  /** Corrupt files already reported, by index into store.corrupt. */
  corruptReported: number;
}

export interface SpoolableBatch {
  path: string;
  kind: string;
  batchId: string | null;
  body: Uint8Array;
  items: number;
}

export function createSpooler(options: { dir: string; maxBytes: number; views: RingViews; transport: Transport; debug: boolean; exiting: () => boolean }): Spooler {
  const spooler: Spooler = {
    store: new SpoolStore({ dir: options.dir, maxBytes: options.maxBytes }),
    views: options.views,
    transport: options.transport,
    debug: options.debug,
    exiting: options.exiting,
    mayHaveFiles: true,
    replaying: null,
    timer: null,
    retryTimer: null,
    failedRounds: 0,
    said: new Set(),
    corruptReported: 0,
  };
  spooler.timer = setInterval(() => replaySoon(spooler, true), REPLAY_CHECK_MS);
  spooler.timer.unref();
  return spooler;
}

export function stopSpooler(spooler: Spooler): void {
  if (spooler.timer !== null) clearInterval(spooler.timer);
  if (spooler.retryTimer !== null) clearTimeout(spooler.retryTimer);
  spooler.timer = null;
  spooler.retryTimer = null;
}

/**
 * Writes the sealed batch to the spool; true when it is there (counted as spooled), false when
 * it could not be (the caller drops and counts it as before).
 */
export async function spoolBatch(spooler: Spooler, batch: SpoolableBatch): Promise<boolean> {
  const kind = spoolKind(batch.kind);
  const result = await spooler.store.write({ path: batch.path, kind, items: batch.items, batchId: batch.batchId, body: batch.body });
  const evictedItems = result.evicted.items.trace + result.evicted.items.event + result.evicted.items.log + result.evicted.items.metrics;
  if (evictedItems > 0) {
    addStat(spooler.views, STAT_DROPPED_SPOOL_FULL, evictedItems);
    sayOnce(spooler, 'full', `the spool ${spooler.store.dir} reached its limit (spoolMaxBytes ${spooler.store.maxBytes}): deleted the oldest ${result.evicted.files} batches (${evictedItems} items) to keep newer ones; counted in stats().droppedSpoolFull`);
  }
  if (!result.ok) {
    sayOnce(spooler, 'write', `${result.why}; batches that cannot be sent are dropped and counted instead (stats().droppedSendFailed). Set TERACRON_SPOOL_DIR to a writable directory with room, or TERACRON_SPOOL=0 to stop trying`);
    return false;
  }
  addStat(spooler.views, STAT_SPOOLED, batch.items);
  spooler.mayHaveFiles = true;
  spooler.views.stats[STAT_SPOOL_BYTES] = spooler.store.knownBytes ?? spooler.views.stats[STAT_SPOOL_BYTES]!;
  if (spooler.debug) writeStderr(`spooled ${batch.items} ${batch.kind} items (${result.bytes} bytes) to ${spooler.store.dir}/${result.name}`);
  return true;
}

/** Starts a replay round unless one runs, the process exits, or nothing may be waiting. */
export function replaySoon(spooler: Spooler, look = false): void {
  if (spooler.replaying !== null || spooler.exiting() || !(spooler.mayHaveFiles || look)) return;
  spooler.replaying = replayRound(spooler)
    .catch((err: unknown) => sayOnce(spooler, 'replay', `replaying the spool ${spooler.store.dir} failed: ${err instanceof Error ? err.message : String(err)}`))
    .finally(() => {
      spooler.replaying = null;
    });
}

async function replayRound(spooler: Spooler): Promise<void> {
  if (spooler.retryTimer !== null) clearTimeout(spooler.retryTimer);
  spooler.retryTimer = null;
  while (!spooler.exiting()) {
    const claimed = await spooler.store.claimOldest();
    reportCorrupt(spooler);
    if (claimed === null) {
      spooler.mayHaveFiles = false;
      spooler.failedRounds = 0;
      spooler.views.stats[STAT_SPOOL_BYTES] = await spooler.store.size();
      return;
    }
    if (!(await replayOne(spooler, claimed))) return retryLater(spooler);
    spooler.failedRounds = 0;
  }
}

function retryLater(spooler: Spooler): void {
  if (spooler.exiting() || spooler.timer === null) return; // stopped
  const delay = Math.min(REPLAY_CHECK_MS, REPLAY_RETRY_BASE_MS * 2 ** spooler.failedRounds++);
  spooler.retryTimer = setTimeout(() => {
    spooler.retryTimer = null;
    replaySoon(spooler);
  }, delay * (0.5 + Math.random() / 2));
  spooler.retryTimer.unref();
}

/** Sends one claimed file; false when the endpoint is not taking batches (the round ends). */
async function replayOne(spooler: Spooler, claimed: ClaimedBatch): Promise<boolean> {
  const { entry } = claimed;
  let status: number;
  try {
    status = (await spooler.transport.post(entry.path, entry.body)).status;
  } catch {
    await spooler.store.release(claimed);
    return false;
  }
  if (status >= 200 && status < 300) {
    await spooler.store.remove(claimed);
    addStat(spooler.views, STAT_REPLAYED, entry.items);
    spooler.views.stats[STAT_SPOOL_BYTES] = spooler.store.knownBytes ?? spooler.views.stats[STAT_SPOOL_BYTES]!;
    if (spooler.debug) writeStderr(`replayed ${entry.items} ${entry.kind} items from the spool (${claimed.name.name}): ${status}`);
    return true;
  }
  if (status === 408 || status === 429 || status >= 500) {
    await spooler.store.release(claimed);
    return false;
  }
  // Refused for good: kept aside for a person to look at, never retried.
  await rename(claimed.claimedPath, `${claimed.claimedPath.replace(/\.claimed-\d+-[0-9a-f]+$/, '')}.refused`).catch(() => spooler.store.remove(claimed));
  sayOnce(spooler, `refused-${status}`, `a spooled ${entry.kind} batch of ${entry.items} items was refused with ${status} by ${entry.path}; it was moved aside (.refused in ${spooler.store.dir}) and is not retried`);
  return true;
}

function reportCorrupt(spooler: Spooler): void {
  const { corrupt } = spooler.store;
  for (; spooler.corruptReported < corrupt.length; spooler.corruptReported++) {
    const file = corrupt[spooler.corruptReported]!;
    addStat(spooler.views, STAT_SPOOL_CORRUPT, file.name.items);
    sayOnce(spooler, `corrupt-${file.name.name}`, `the spool file ${file.name.name} (${file.name.items} ${file.name.kind} items) is damaged and was moved aside (.corrupt), not sent: ${file.why}`);
  }
}

function spoolKind(kind: string): SpoolKind {
  if (kind === 'trace' || kind === 'event' || kind === 'log' || kind === 'metrics') return kind;
  throw new TypeError(`a batch of kind ${JSON.stringify(kind)} cannot be spooled: expected trace, event, log or metrics`);
}

function sayOnce(spooler: Spooler, key: string, text: string): void {
  setLastError(spooler.views, text);
  if (spooler.said.has(key) && !spooler.debug) return;
  spooler.said.add(key);
  writeStderr(text);
}
