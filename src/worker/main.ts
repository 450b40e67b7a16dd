/**
 * The worker entry, loaded by piscina in its one thread. On load it starts its own loop, which
 * runs outside any piscina task (the pool uses `atomics: 'disabled'`, so the thread's event loop
 * is free between tasks):
 *
 *   wait for the doorbell or the flush interval → ship what the ring holds → answer flush requests
 *
 * A second, tiny loop only watches the doorbell, so that an exit request reaches the sender
 * even while the main loop is waiting on the network. Tasks (`flush`, `stop`) come from
 * `client.flush()` / `down()` / `beforeExit`; the exit path uses the shared buffer instead,
 * because the main thread is blocked in Atomics.wait then and cannot run piscina.
 *
 * A loop that fails ends the thread: the main thread then starts a replacement with the string
 * table it needs (src/worker-supervisor.ts). A thread that cannot claim the ring (WORKER_CLAIM)
 * stays idle: only one worker may ever read it.
 */
import { workerData } from 'piscina';
import {
  DOORBELL,
  FLUSH_DONE,
  FLUSH_REQ,
  SLEEPING,
  STOPPED,
  WAKE_BYTES,
  WORKER_CLAIM,
  WORKER_GONE,
  WORKER_RUNNING,
  WORKER_STATE,
  ringViews,
} from '../ring/layout';
import { createRingReader, pendingBytes } from '../ring/reader';
import { setLastError } from '../ring/shared-stats';
import { loadPublicKey } from '../wire/envelope';
import { createBatcher, pumpAll, settle, spoolInFlight } from './batcher';
import type { BatcherState } from './batcher';
import { writeStderr } from '../stderr';
import { syncExitMode, untilDeadline } from './exit-mode';
import { createSender } from './sender';
import { createSpooler, replaySoon, stopSpooler } from './spooler';
import type { Spooler } from './spooler';
import type { WorkerInit, WorkerMessage } from './protocol';
import { Transport } from './transport';
import { createWallClock } from './wall-clock';
import { flushMetrics, shipIfDue, startMetricsLoop, stopMetricsLoop } from './metrics-loop';
import { settleMetrics } from './metrics-shipper';
import type { MetricsLoop } from './metrics-loop';
import { SDK_VERSION } from '../version';
import { testCrash } from './test-crash';
import type { CrashCheck } from './test-crash';

/**
 * The high-water mark: a sleeping worker is woken once the ring is this full (an eighth: about
 * 10,000 spans with the default ring). Below it, records wait for the flush interval, so a busy
 * producer wakes the worker for large drains rather than one small batch at a time, which keeps
 * wake-ups and cross-core traffic off the application's thread.
 */
const HIGH_WATER_SHIFT = 3;

interface LoopState {
  readonly batcher: BatcherState;
  readonly transport: Transport;
  readonly flushIntervalMs: number;
  readonly metrics: MetricsLoop | null;
  readonly spooler: Spooler | null;
  /** Set by stop(): the last pass also takes a final metrics reading. */
  stopping: boolean;
  stopped: boolean;
  /** Resolvers of `flush` tasks waiting for the next completed pass. */
  waiters: Array<() => void>;
  /** Wakes the main loop's sleep; replaced each time it sleeps. */
  kick: () => void;
  done: Promise<void>;
  /** TERACRON_TEST_WORKER_CRASH only (test-crash.ts); null otherwise. */
  readonly crash: CrashCheck | null;
}

const init = workerData as WorkerInit;
const state = claim(init) ? start(init) : null;

/** True for the one thread numbered to take the ring next; false for any other. */
function claim(config: WorkerInit): boolean {
  const n = config.workerNumber;
  return Atomics.compareExchange(ringViews(config.sab).ctrl, WORKER_CLAIM, n - 1, n) === n - 1;
}

function start(config: WorkerInit): LoopState {
  const reader = createRingReader(config.sab, config.strings);
  const { ctrl } = reader.views;
  Atomics.store(ctrl, WAKE_BYTES, reader.views.capacity >> HIGH_WATER_SHIFT);
  const transport = new Transport({
    baseUrl: config.baseUrl,
    slug: config.slug,
    userAgent: config.userAgent,
    timeoutS: config.timeoutS,
    caPem: config.caPem,
    connections: 8,
  });
  const publicKey = loadPublicKey(config.publicKeyPem);
  // The spooler asks the sender (made below, in the batcher) whether the process exits.
  const spooler = config.spool === null ? null : createSpooler({ ...config.spool, views: reader.views, transport, debug: config.debug, exiting: () => batcher.sender.final });
  const batcher = createBatcher({
    reader,
    clock: createWallClock(config.producerOrigin),
    publicKey,
    slug: config.slug,
    resource: config.resource,
    format: config.wireFormat,
    batchSize: config.batchSize,
    emitLifecycleEvents: config.emitLifecycleEvents,
    sender: createSender({ views: reader.views, transport, maxAttempts: config.maxSendAttempts, debug: config.debug, spooler }),
  });
  const metrics =
    config.metrics === null
      ? null
      : startMetricsLoop(config.metrics, {
          views: reader.views,
          sender: batcher.sender,
          publicKey,
          sdkVersion: SDK_VERSION,
          runtimeVersion: process.versions.node,
          service: config.resource.service ?? '',
          host: config.resource.host ?? '',
          debug: config.debug,
        });
  const loop: LoopState = {
    batcher,
    transport,
    flushIntervalMs: config.flushIntervalMs,
    metrics,
    spooler,
    stopping: false,
    stopped: false,
    waiters: [],
    kick: () => {},
    done: Promise.resolve(),
    crash: testCrash(config.workerNumber),
  };
  Atomics.store(ctrl, WORKER_STATE, WORKER_RUNNING);
  loop.done = runLoop(loop).catch((err: unknown) => die(loop, err));
  void watchDoorbell(loop);
  // What an earlier process (or this one's dead worker) could not send goes now, if the endpoint answers.
  if (spooler !== null) replaySoon(spooler, true);
  if (config.debug) writeStderr(`worker started: ring ${reader.views.capacity} bytes, endpoint ${config.baseUrl}, format ${config.wireFormat}`);
  return loop;
}

async function runLoop(loop: LoopState): Promise<void> {
  const { ctrl } = loop.batcher.reader.views;
  while (!loop.stopped) {
    const waiters = loop.waiters;
    loop.waiters = [];
    const syncRequest = Atomics.load(ctrl, FLUSH_REQ);
    const exiting = syncRequest !== Atomics.load(ctrl, FLUSH_DONE);
    checkFinal(loop);
    loop.crash?.('start', loop.batcher.reader);
    const flushing = waiters.length > 0 || exiting;
    if (loop.metrics !== null) shipIfDue(loop.metrics);
    // At exit and at stop, one last reading, so the series ends where the process did: taken
    // before the spans are encoded, which at exit can take most of the budget.
    const metricsDone = flushing && loop.metrics !== null ? flushMetrics(loop.metrics, exiting || loop.stopping) : null;
    await pumpAll(loop.batcher);
    loop.crash?.('dispatched', loop.batcher.reader);
    if (flushing) {
      // At exit, no longer than the deadline: what is still on the wire then stays pending. With a
      // spool, the budget's last slice is kept for it (exit-mode.ts): what is unsent by then, on
      // the wire or in the ring, is spooled instead, so nothing is left pending.
      const sender = loop.batcher.sender;
      const work = Promise.all([settle(loop.batcher), metricsDone]);
      await untilDeadline(sender, work, true);
      if (sender.spoolNow && !sender.expired) {
        await untilDeadline(sender, spoolInFlight(loop.batcher).then(() => pumpAll(loop.batcher)));
        await untilDeadline(sender, work);
      }
      for (const resolve of waiters) resolve();
      Atomics.store(ctrl, FLUSH_DONE, syncRequest);
      Atomics.notify(ctrl, FLUSH_DONE);
    }
    await sleep(loop);
  }
}

/**
 * A loop that failed leaves state nobody can trust (a half-read ring, batches half built), so
 * the thread ends and the main thread starts a fresh one. Before that: say why in lastError, and
 * wake a main thread blocked at exit, which would otherwise wait out its budget for an answer.
 * The error is thrown from nextTick, before any more I/O, so nothing is counted after this.
 */
function die(loop: LoopState, err: unknown): void {
  const { views } = loop.batcher.reader;
  loop.stopped = true;
  setLastError(views, `the telemetry worker stopped: ${err instanceof Error ? err.message : String(err)}`);
  Atomics.store(views.ctrl, WORKER_STATE, WORKER_GONE);
  Atomics.notify(views.ctrl, FLUSH_DONE);
  process.nextTick(() => {
    throw err;
  });
}

/** Sleeps until the doorbell rings or the flush interval passes, without losing a ring. */
async function sleep(loop: LoopState): Promise<void> {
  const { ctrl } = loop.batcher.reader.views;
  const woken = new Promise<void>((resolve) => {
    loop.kick = resolve;
  });
  Atomics.store(ctrl, SLEEPING, 1);
  // Re-check after announcing sleep: a record published just before would otherwise wait
  // for the next interval.
  if (!loop.stopped && loop.waiters.length === 0 && Atomics.load(ctrl, FLUSH_REQ) === Atomics.load(ctrl, FLUSH_DONE) && pendingBytes(loop.batcher.reader) < Atomics.load(ctrl, WAKE_BYTES)) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([woken, new Promise<void>((resolve) => (timer = setTimeout(resolve, loop.flushIntervalMs)))]);
    clearTimeout(timer);
  }
  Atomics.store(ctrl, SLEEPING, 0);
}

async function watchDoorbell(loop: LoopState): Promise<void> {
  const { ctrl } = loop.batcher.reader.views;
  let bell = Atomics.load(ctrl, DOORBELL);
  while (!loop.stopped) {
    const waiting = Atomics.waitAsync(ctrl, DOORBELL, bell);
    if (waiting.async) await waiting.value;
    bell = Atomics.load(ctrl, DOORBELL);
    checkFinal(loop);
    loop.kick();
  }
}

/** Follows FINAL and its deadline: exit-mode.ts. */
function checkFinal(loop: LoopState): void {
  syncExitMode(loop.batcher.sender, loop.batcher.reader.views);
}

function flush(loop: LoopState): Promise<void> {
  return new Promise((resolve) => {
    loop.waiters.push(resolve);
    loop.kick();
  });
}

async function stop(loop: LoopState): Promise<void> {
  loop.stopping = true;
  await flush(loop);
  if (loop.metrics !== null) stopMetricsLoop(loop.metrics);
  if (loop.spooler !== null) stopSpooler(loop.spooler);
  loop.stopped = true;
  loop.kick();
  Atomics.add(loop.batcher.reader.views.ctrl, DOORBELL, 1);
  Atomics.notify(loop.batcher.reader.views.ctrl, DOORBELL);
  await loop.done;
  void closeWhenSettled(loop);
}

/**
 * stop() answers by its deadline, but a request already on the wire may still be answered: it
 * is counted (sent, or dropped) when it is, rather than cut off and left pending while the
 * collector stored it. Then the connections close and STOPPED tells the main thread it may
 * end this thread. Meanwhile the idle thread is unref'd and keeps nothing alive.
 */
async function closeWhenSettled(loop: LoopState): Promise<void> {
  await Promise.all([settle(loop.batcher), loop.metrics === null ? null : settleMetrics(loop.metrics.shipper), loop.spooler?.replaying]);
  await loop.transport.close().catch(() => {});
  const { ctrl } = loop.batcher.reader.views;
  Atomics.store(ctrl, STOPPED, 1);
  Atomics.notify(ctrl, STOPPED);
}

export default async function handle(message: WorkerMessage): Promise<void> {
  // A thread that did not claim the ring has nothing to flush or stop; its pool is going away.
  if (state === null) return;
  switch (message.code) {
    case 'flush':
      return flush(state);
    case 'stop':
      return stop(state);
    default:
      throw new Error(`teracron worker: unknown message ${JSON.stringify(message satisfies never)}`);
  }
}
