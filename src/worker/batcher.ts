/**
 * Drains the ring into batches (by count and by bytes), encodes, seals and hands each one to
 * the sender, with a bounded number in flight. When that bound is reached the batcher stops
 * reading, so a slow endpoint backs up into the ring, where drops are counted, rather than
 * into unbounded memory here.
 *
 * Against a slow endpoint, delivery is at most MAX_IN_FLIGHT batches per round trip, so the size
 * of each batch is decided when it starts to fill, after waiting for a free slot: by then the
 * wait has shown whether the endpoint is keeping up and the ring shows what piled up meanwhile.
 * (Decided once per pass, a pass that began with a small backlog sent 100 spans per request for
 * its whole length: 6,400 of 100,000 spans in 80 s against an endpoint answering after 5 s.)
 */
import type { KeyObject } from 'node:crypto';
import { HEAD, KIND_EVENT, KIND_LOG, KIND_SPAN, STAT_DROPPED_SEND } from '../ring/layout';
import { drainRecords, pendingBytes } from '../ring/reader';
import type { RingReader } from '../ring/reader';
import { addStat, setLastError } from '../ring/shared-stats';
import { INGEST_PATHS, newBatchId } from '../wire/batch-codec';
import type { WireFormat, WireResource } from '../wire/batch-codec';
import { sealEnvelopeInto, sealedLength } from '../wire/envelope';
import { writeStderr } from '../stderr';
import { createEnvelopePool, returnEnvelopeBuffer, takeEnvelopeBuffer } from './envelope-pool';
import type { EnvelopePool } from './envelope-pool';
import { createItemBatch, finishItemBatch, resetItemBatch } from './item-batch';
import type { ItemBatch } from './item-batch';
import { lifecycleEvents } from './lifecycle-events';
import { nativeGcmSeal } from './native-seal';
import { encodeEvent, encodeSpan } from './record-encoder';
import { decodeSpan } from './records';
import { appPaths, decodeLog } from './log-records';
import type { AppPaths } from './log-records';
import { untilDeadline } from './exit-mode';
import { TELEMETRY_COUNTERS, deliver, dropCounted, endpointDown, spoolOrDrop } from './sender';
import { spoolBatch } from './spooler';
import type { Batch, SenderState } from './sender';
import { refreshWallClock } from './wall-clock';
import type { WallClock } from './wall-clock';

/** Keeps a batch well under the collector's default 8 MiB body limit. */
export const MAX_BATCH_RECORD_BYTES = 2 * 1024 * 1024;
/** Batches sealed and on the wire at once; each holds its body until answered. */
export const MAX_IN_FLIGHT = 4;
/**
 * Items per batch while draining a backlog. Every envelope costs the receiver one RSA-4096
 * decryption (about 3 ms), so a backlog sent 100 spans at a time would cap the whole system
 * near 30,000 spans/s and could not ship a burst within the exit budget. In steady state the
 * configured traceBatchSize holds. 5,000 rather than more: with four batches in flight, larger
 * bodies (and the objects behind them) were most of the worker's memory under load.
 */
export const BACKLOG_BATCH_ITEMS = 5_000;

export interface BatcherState {
  readonly reader: RingReader;
  readonly clock: WallClock;
  readonly sender: SenderState;
  readonly publicKey: KeyObject;
  readonly slug: string;
  readonly resource: WireResource;
  readonly format: WireFormat;
  readonly batchSize: number;
  readonly emitLifecycleEvents: boolean;
  /** What log stacks' file paths are made relative to (log-records.ts). */
  readonly appPaths: AppPaths;
  /** Items per batch for the batches being filled: batchSize, or BACKLOG_BATCH_ITEMS once behind. */
  limit: number;
  /**
   * A batch had to wait for a free in-flight slot in this pass or the last one: the endpoint is
   * not keeping up at the steady batch size, so batches stay large until a whole pass needs no wait.
   */
  saturated: boolean;
  /** Waits for a free slot so far; a pass compares it before and after. */
  slotWaits: number;
  /** The batches being written, straight from the records (record-encoder.ts). */
  readonly spans: ItemBatch;
  readonly events: ItemBatch;
  readonly logs: ItemBatch;
  /** Of `events`, those recorded by the application (the rest are lifecycle events made here). */
  recordedEvents: number;
  spanBytes: number;
  eventBytes: number;
  logBytes: number;
  readonly inFlight: Set<Promise<void>>;
  /** The span and event batches behind `inFlight`, for the exit's spool point (spoolInFlight). */
  readonly inFlightBatches: Set<Batch>;
  /** What batches are sealed into: one buffer per batch in flight, reused (envelope-pool.ts). */
  readonly envelopes: EnvelopePool;
  /** Takes one record; true when a batch is full and must be dispatched. */
  readonly visit: (kindAndFlags: number, pos: number) => boolean;
}

export type BatcherInit = Omit<BatcherState, 'appPaths' | 'limit' | 'saturated' | 'slotWaits' | 'spans' | 'events' | 'logs' | 'recordedEvents' | 'spanBytes' | 'eventBytes' | 'logBytes' | 'inFlight' | 'inFlightBatches' | 'envelopes' | 'visit'>;

export function createBatcher(init: BatcherInit): BatcherState {
  const b: BatcherState = {
    ...init,
    // The process's working directory, which a worker thread shares (and cannot change).
    appPaths: appPaths(process.cwd()),
    limit: init.batchSize,
    saturated: false,
    slotWaits: 0,
    spans: createItemBatch(init.format, { type: 'trace', slug: init.slug, resource: init.resource }),
    events: createItemBatch(init.format, { type: 'event', slug: init.slug, resource: init.resource }),
    logs: createItemBatch(init.format, { type: 'log', slug: init.slug, resource: init.resource }),
    recordedEvents: 0,
    spanBytes: 0,
    eventBytes: 0,
    logBytes: 0,
    inFlight: new Set(),
    inFlightBatches: new Set(),
    envelopes: createEnvelopePool(MAX_IN_FLIGHT),
    visit: (kindAndFlags, pos) => {
      const kind = kindAndFlags & 0xff;
      const bytes = b.reader.views.i32[pos >> 2]!;
      if (kind === KIND_SPAN) {
        encodeSpan(b.spans.writer, b.spans.out, b.spans.count++, b.reader, pos, kindAndFlags, b.clock);
        b.spanBytes += bytes;
        if (b.emitLifecycleEvents) {
          // Opt-in and derived from the span's values, so made from the decoded object.
          for (const event of lifecycleEvents(decodeSpan(b.reader, pos, kindAndFlags, b.clock))) {
            b.events.writer.itemStart(b.events.out, b.events.count++);
            b.events.writer.value(b.events.out, event);
          }
          b.eventBytes += bytes;
        }
      } else if (kind === KIND_EVENT) {
        encodeEvent(b.events.writer, b.events.out, b.events.count++, b.reader, pos, kindAndFlags, b.clock);
        b.recordedEvents++;
        b.eventBytes += bytes;
      } else if (kind === KIND_LOG) {
        b.logs.writer.itemStart(b.logs.out, b.logs.count++);
        b.logs.writer.value(b.logs.out, decodeLog(b.reader, pos, kindAndFlags, b.clock, b.appPaths));
        b.logBytes += bytes;
      }
      return isFull(b, b.spans.count, b.spanBytes) || isFull(b, b.events.count, b.eventBytes) || isFull(b, b.logs.count, b.logBytes);
    },
  };
  return b;
}

/**
 * Ships everything published in the ring when called, the last partial batches included, and
 * no more (so a producer that never pauses cannot keep it from returning). Resolves once every
 * batch is handed to the sender, not when delivered.
 */
export async function pumpAll(b: BatcherState): Promise<void> {
  refreshWallClock(b.clock);
  const stopAt = Atomics.load(b.reader.views.ctrl, HEAD);
  const waitsBefore = b.slotWaits;
  let behind = false;
  for (;;) {
    // Wait before filling, not after: records wait in the ring, and the batch is sized from now.
    // Batches that go straight to the spool need no slot.
    if (((stopAt - b.reader.tail) | 0) > 0 && !spoolsDirectly(b)) await waitForSlot(b);
    const unsendable = whyUnsendable(b.sender);
    if (unsendable !== null) return dropUnsent(b, stopAt, unsendable);
    // Once behind, the rest of the pass is the same burst: its tail is not sent in small batches.
    behind ||= isBehind(b);
    b.limit = behind ? Math.max(b.batchSize, BACKLOG_BATCH_ITEMS) : b.batchSize;
    const visited = drainRecords(b.reader, b.visit, stopAt);
    if (isFull(b, b.spans.count, b.spanBytes)) await dispatchSpans(b);
    if (isFull(b, b.events.count, b.eventBytes)) await dispatchEvents(b);
    if (isFull(b, b.logs.count, b.logBytes)) await dispatchLogs(b);
    if (visited === 0) break;
  }
  if (b.spans.count > 0) await dispatchSpans(b);
  if (b.events.count > 0) await dispatchEvents(b);
  if (b.logs.count > 0) await dispatchLogs(b);
  if (b.slotWaits === waitsBefore) b.saturated = false;
}

/** Asked before each batch fills, so that batch sizes follow the backlog as it grows. */
function isBehind(b: BatcherState): boolean {
  // Half the high-water mark, so a wake at the mark counts as behind: with the mark itself as the
  // test, bench/pipeline saw most requests carry only traceBatchSize spans. What the batches
  // being filled already hold is part of the backlog too.
  const backlog = pendingBytes(b.reader) + b.spanBytes + b.eventBytes + b.logBytes;
  return b.sender.final || b.saturated || backlog >= b.reader.views.capacity >> 4;
}

/** Waits for a free in-flight slot; while exiting, no longer than the deadline. */
async function waitForSlot(b: BatcherState): Promise<void> {
  if (b.inFlight.size < MAX_IN_FLIGHT) return;
  b.saturated = true;
  b.slotWaits++;
  // The exit's spool point ends the wait too: from then on batches go to the spool, needing no slot.
  while (b.inFlight.size >= MAX_IN_FLIGHT && !b.sender.expired && !b.sender.spoolNow) await untilDeadline(b.sender, Promise.race(b.inFlight), true);
}

/**
 * While exiting, why nothing more should be sealed: the deadline passed, or the endpoint was
 * found unreachable (sealing 50,000 spans only to count them as dropped took most of a second).
 */
function whyUnsendable(s: SenderState): string | null {
  if (s.expired) return 'before they were sent: the exit budget ran out';
  // With a spool, an exit that cannot reach the endpoint seals the rest into it (spoolsDirectly).
  if (endpointDown(s) && s.spooler === null) return `unsent: the endpoint could not be reached during this exit (${s.lastConnectFailure})`;
  return null;
}

/**
 * Whether batches go to the spool without being tried: the endpoint is known to be down (a
 * connection failed, or a batch used up its retries) and either the process exits, or a batch
 * is already being tried. That one batch, retried with its backoffs, is how the endpoint is
 * found up again (its 2xx starts the replay); the others go to the spool as they fill instead of
 * waiting for in-flight slots held through backoffs of up to 30 s, during which the ring would
 * fill and drop what the application records (issue 17: 5.2M of 5.9M spans in a 60 s outage).
 */
function spoolsDirectly(b: BatcherState): boolean {
  const s = b.sender;
  if (s.spooler === null) return false;
  if (endpointDown(s) || s.spoolNow) return true;
  return s.knownDown && b.inFlight.size > 0;
}

/**
 * Counts the batches being written and the records up to `stopAt` as dropped, cheaply, without
 * decoding, so that none stays pending: the exit budget ran out, or the endpoint cannot be
 * reached at exit and there is no spool to keep them.
 */
function dropUnsent(b: BatcherState, stopAt: number, why: string): void {
  let spans = b.spans.count;
  let events = b.recordedEvents;
  let logs = b.logs.count;
  drainRecords(b.reader, (kindAndFlags) => {
    const kind = kindAndFlags & 0xff;
    if (kind === KIND_SPAN) spans++;
    else if (kind === KIND_EVENT) events++;
    else if (kind === KIND_LOG) logs++;
    return false;
  }, stopAt);
  resetItemBatch(b.spans);
  resetItemBatch(b.events);
  resetItemBatch(b.logs);
  b.recordedEvents = b.spanBytes = b.eventBytes = b.logBytes = 0;
  if (spans > 0) dropCounted(b.sender, spans, 'trace', TELEMETRY_COUNTERS, why);
  if (events > 0) dropCounted(b.sender, events, 'event', TELEMETRY_COUNTERS, why);
  if (logs > 0) dropCounted(b.sender, logs, 'log', TELEMETRY_COUNTERS, why);
}

function isFull(b: BatcherState, items: number, recordBytes: number): boolean {
  return items >= b.limit || recordBytes >= MAX_BATCH_RECORD_BYTES;
}

/** Resolves when every batch handed to the sender so far is delivered or given up. */
export async function settle(b: BatcherState): Promise<void> {
  while (b.inFlight.size > 0) await Promise.all(b.inFlight);
}

async function dispatchSpans(b: BatcherState): Promise<void> {
  const items = b.spans.count;
  b.spanBytes = 0;
  await dispatch(b, 'trace', b.spans, items);
}

async function dispatchEvents(b: BatcherState): Promise<void> {
  const recorded = b.recordedEvents;
  b.recordedEvents = 0;
  b.eventBytes = 0;
  // Only recorded events count towards sent/dropped: stats balance against what was produced.
  await dispatch(b, 'event', b.events, recorded);
}

async function dispatchLogs(b: BatcherState): Promise<void> {
  const items = b.logs.count;
  b.logBytes = 0;
  await dispatch(b, 'log', b.logs, items);
}

/** Seals the batch and hands it to the sender; the batch's buffer is free again on return. */
async function dispatch(b: BatcherState, kind: 'trace' | 'event' | 'log', batch: ItemBatch, items: number): Promise<void> {
  // The batch keeps its items while this waits: nothing writes to it until pumpAll resumes.
  if (!spoolsDirectly(b)) await waitForSlot(b);
  const direct = spoolsDirectly(b);
  const unsendable = whyUnsendable(b.sender);
  if (unsendable !== null) {
    resetItemBatch(batch);
    if (items > 0) dropCounted(b.sender, items, kind, TELEMETRY_COUNTERS, unsendable);
    return;
  }
  let sealed: SealedBatch;
  const batchId = newBatchId();
  try {
    sealed = sealBatch(b, finishItemBatch(batch, batchId));
  } catch (err) {
    // Should never happen (the ring only carries encodable values); if it does, say so and count.
    const text = `could not encode a ${kind} batch of ${items} items: ${err instanceof Error ? err.message : String(err)}`;
    addStat(b.reader.views, STAT_DROPPED_SEND, items);
    setLastError(b.reader.views, text);
    writeStderr(text);
    return;
  } finally {
    resetItemBatch(batch);
  }
  const { buffer, body } = sealed;
  const delivering: Batch = { path: INGEST_PATHS[kind], kind, batchId, body, items, counters: TELEMETRY_COUNTERS };
  if (direct) {
    try {
      await spoolOrDrop(b.sender, delivering, 'unsent: the endpoint is down and the spool could not take them');
    } finally {
      // Never posted, so nothing can be sending it.
      returnEnvelopeBuffer(b.envelopes, buffer, body);
    }
    return;
  }
  b.inFlightBatches.add(delivering);
  const sending: Promise<void> = deliver(b.sender, delivering).finally(() => {
    b.inFlightBatches.delete(delivering);
    // Answered or given up, retries and all: the buffer is free for another batch (unless a
    // socket may still be sending it), and back before the slot is, so the next batch finds it.
    returnEnvelopeBuffer(b.envelopes, buffer, body);
    b.inFlight.delete(sending);
  });
  b.inFlight.add(sending);
  // Let the request get on its way (connect, write; an earlier one's answer) before the next
  // batch is encoded: otherwise a backlog was encoded four batches at a time while the socket
  // waited, and the receiver sat idle at the start of an exit (and a refused connection was
  // only noticed after four batches had been sealed for nothing).
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * At the exit's spool point: the batches still on the wire (or between retries) are written to
 * the spool and counted there, so none is left pending when the process ends; a copy that
 * reaches the collector too is stored once (batch_id). Then what the ring still holds is sealed
 * into the spool by the next pumpAll (spoolsDirectly).
 */
export async function spoolInFlight(b: BatcherState): Promise<void> {
  const spooler = b.sender.spooler;
  if (spooler === null) return;
  for (const batch of [...b.inFlightBatches]) {
    if (batch.spooling !== undefined) continue;
    const spooling: NonNullable<Batch['spooling']> = { settled: null };
    batch.spooling = spooling;
    const written = await spoolBatch(spooler, { path: batch.path, kind: batch.kind, batchId: batch.batchId ?? null, body: batch.body, items: batch.items });
    if (written) continue;
    // Not in the spool after all: counted as deliver() left it, or handed back to deliver().
    if (spooling.settled === 'sent') addStat(b.reader.views, batch.counters.sent, batch.items);
    else if (spooling.settled === 'unsent') dropCounted(b.sender, batch.items, batch.kind, batch.counters, 'at exit: neither sent nor taken by the spool');
    else batch.spooling = undefined;
  }
}

interface SealedBatch {
  /** The pooled buffer the envelope was sealed into, and the envelope: its start. */
  buffer: Buffer;
  body: Buffer;
}

function sealBatch(b: BatcherState, plaintext: Uint8Array): SealedBatch {
  const buffer = takeEnvelopeBuffer(b.envelopes, sealedLength(plaintext.byteLength));
  try {
    return { buffer, body: sealEnvelopeInto(plaintext, b.publicKey, buffer, nativeGcmSeal()) };
  } catch (err) {
    // Never posted, so nothing can be sending it.
    returnEnvelopeBuffer(b.envelopes, buffer, buffer);
    throw err;
  }
}
