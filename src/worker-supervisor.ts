/**
 * Keeps the one telemetry worker alive. piscina runs it; when it dies (an error in its loop, an
 * uncaught exception, running out of memory), the supervisor starts a replacement in a new pool,
 * after a backoff, and hands it what it cannot read back from the ring: the interned strings in
 * force at TAIL, which the dead worker had read and took with it.
 *
 * A new pool rather than piscina's own replacement: piscina would start one at once, with the
 * workerData of the first start (no strings, no delay). The dead worker's pool is destroyed at
 * once, which stops that; WORKER_CLAIM makes sure that a stray thread could not read the ring.
 *
 *   worker dies ─▶ count what it held as lost ─▶ wait 100 ms, 200 ms, … ─▶ worker n+1
 *                                 └─ the 6th death in a row ─▶ give up: nothing more is recorded
 *
 * Deaths are "in a row" until a worker has lived a minute. The backoff timer is unref'd unless a
 * flush() or stop() waits for the next worker, and skipped at exit, where the budget bounds it.
 */
import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import {
  STAT_DROPPED_SEND,
  STAT_METRICS_DROPPED,
  STAT_METRICS_SAMPLED,
  STAT_METRICS_SENT,
  STAT_SENT,
  STAT_SPOOLED,
  STAT_TAKEN,
  STOPPED,
  WORKER_CLAIM,
  WORKER_GONE,
  WORKER_STARTING,
  WORKER_STATE,
} from './ring/layout';
import type { RingViews } from './ring/layout';
import { readWorkerCounters } from './ring/shared-stats';
import { writeStderr } from './stderr';
import type { WorkerInit, WorkerMessage } from './worker/protocol';

/** Restarts allowed in a row; the next death gives up. */
export const MAX_RESTARTS_IN_A_ROW = 5;
const FIRST_RESTART_DELAY_MS = 100;
/** A worker that lived this long was healthy: its death starts a new row. */
const HEALTHY_MS = 60_000;

export interface SupervisorOptions {
  filename: string;
  /** The start-up data, without what differs from one worker to the next. */
  init: Omit<WorkerInit, 'workerNumber' | 'strings'>;
  views: RingViews;
  /** How long pool.destroy() gives a worker to end. */
  closeTimeoutMs: number;
  /** The interned strings the next worker needs (writer.ts stringsAt at the current TAIL). */
  stringsAtTail: () => string[];
  /** Called once when the supervisor gives up: the client stops recording. */
  onGiveUp: () => void;
}

export class WorkerSupervisor {
  readonly #options: SupervisorOptions;
  #pool: Piscina | null = null;
  #workerNumber = 0;
  #startedAt = 0;
  #inARow = 0;
  #restarts = 0;
  /** Taken from the ring by workers that died before they could send them or count them as dropped. */
  #lost = 0;
  /** The same for process-metrics entries. */
  #lostMetrics = 0;
  /** A death seen, not yet acted on (the reason may still be on its way). */
  #deathPending = false;
  #reason: string | null = null;
  #timer: NodeJS.Timeout | null = null;
  #waiting: Array<(pool: Piscina | null) => void> = [];
  #gaveUp = false;
  #closed = false;

  constructor(options: SupervisorOptions) {
    this.#options = options;
  }

  get restarts(): number {
    return this.#restarts;
  }

  get lost(): number {
    return this.#lost;
  }

  get lostMetrics(): number {
    return this.#lostMetrics;
  }

  get gaveUp(): boolean {
    return this.#gaveUp;
  }

  start(): void {
    this.#spawn();
  }

  /**
   * Runs a task on the worker. If the worker dies under it, the task runs again on the next one
   * (what it waited for is shipped by that one, or counted as lost); after giving up, it resolves.
   */
  async run(message: WorkerMessage): Promise<void> {
    for (;;) {
      const pool = this.#pool ?? (await this.#nextPool());
      if (pool === null) return;
      try {
        await pool.run(message);
        return;
      } catch (err) {
        if (pool === this.#pool) throw err;
        this.#reason ??= describe(err);
      }
    }
  }

  /**
   * Called at exit before the final flush: a worker that died is replaced now, not after the
   * backoff, while the main thread still runs (it is about to block, and piscina's news of the
   * death would never arrive: the dying worker's own word in the shared buffer is enough).
   */
  prepareExitFlush(): void {
    if (this.#closed || this.#gaveUp) return;
    const pool = this.#pool;
    if (pool !== null && Atomics.load(this.#options.views.ctrl, WORKER_STATE) === WORKER_GONE) this.#died(pool);
    if (this.#deathPending) this.#afterDeath(true);
    if (this.#timer !== null) this.#restartNow();
  }

  /** Ends the worker for good; `pool.destroy()` of the current one. */
  async destroy(): Promise<void> {
    this.#closed = true;
    this.#cancelTimer();
    this.#release(null);
    const pool = this.#pool;
    this.#pool = null;
    await pool?.destroy();
  }

  /**
   * Ends the worker once its last requests are answered and counted (it sets STOPPED), with no
   * restart meanwhile. Waiting holds no handle (Atomics.waitAsync) and the idle worker is
   * unref'd, so the process may end first; whatever was then still on the wire stays counted as
   * pending. A worker that dies first is destroyed by the death's own path.
   */
  destroyWhenSettled(): void {
    this.#closed = true;
    this.#cancelTimer();
    this.#release(null);
    const destroy = (): void => void this.destroy().catch(() => {});
    const waiting = Atomics.waitAsync(this.#options.views.ctrl, STOPPED, 0);
    if (waiting.async) void waiting.value.then(destroy);
    else destroy();
  }

  #spawn(): void {
    const { filename, init, views, closeTimeoutMs, stringsAtTail } = this.#options;
    const workerNumber = ++this.#workerNumber;
    // Worker n claims the ring by moving WORKER_CLAIM from n - 1, whether or not n - 1 got to.
    Atomics.store(views.ctrl, WORKER_CLAIM, workerNumber - 1);
    Atomics.store(views.ctrl, WORKER_STATE, WORKER_STARTING);
    const pool = new Piscina({
      filename,
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      // The worker runs its own loop between tasks; 'sync' would park it in Atomics.wait.
      atomics: 'disabled',
      // Computed now: the previous worker is gone, so TAIL stands still until this one reads.
      workerData: { ...init, workerNumber, strings: workerNumber === 1 ? [] : stringsAtTail() } satisfies WorkerInit,
      // The worker encodes ring records straight into pooled buffers, so what it allocates per
      // batch is small and short-lived. V8 sizes the young generation for allocation-heavy code;
      // At 200k spans/s (bench/memory, quick) 2 MiB instead of 8 took USS from ~54 to ~47 MiB
      // (4 MiB: ~50); the pipeline bench's producer CPU moved from 3.0 to 3.2 ms per 1,000
      // spans, within its run-to-run spread. Memory is where the agent is heavier than
      // OpenTelemetry; CPU is not.
      resourceLimits: { maxYoungGenerationSizeMb: 2 },
      // The worker only writes msgpack; msgpackr's native add-on speeds up reading, and finding
      // and loading it was 30 ms of the worker's start, which a script that records and exits
      // at once spends inside its exit budget.
      env: { ...process.env, MSGPACKR_NATIVE_ACCELERATION_DISABLED: 'true' },
      closeTimeout: closeTimeoutMs,
    });
    // piscina emits 'error' for a worker that fails outside a task; unheard, it would throw here.
    pool.on('error', (err: unknown) => {
      this.#reason ??= describe(err);
    });
    pool.on('workerDestroy', () => {
      if (pool !== this.#pool) return;
      this.#died(pool);
      // The reason comes just after ('error', or the rejection of a running task).
      setImmediate(() => this.#afterDeath());
    });
    this.#pool = pool;
    this.#startedAt = performance.now();
    this.#release(pool);
  }

  /** What must happen the moment a death is known: nothing may use the dead worker or its pool. */
  #died(pool: Piscina): void {
    const { views } = this.#options;
    this.#pool = null;
    this.#deathPending = true;
    this.#reason = null;
    Atomics.store(views.ctrl, WORKER_STATE, WORKER_GONE);
    // Its counters are final now: what it took from the ring and did not account for is lost.
    const { stats } = views;
    this.#lost = stats[STAT_TAKEN]! - stats[STAT_SENT]! - stats[STAT_DROPPED_SEND]! - stats[STAT_SPOOLED]!;
    this.#lostMetrics = stats[STAT_METRICS_SAMPLED]! - stats[STAT_METRICS_SENT]! - stats[STAT_METRICS_DROPPED]!;
    // Destroying now also keeps piscina from starting its own replacement.
    void pool.destroy().catch(() => {});
  }

  /** Restart after a backoff, or give up; `atExit`: the caller restarts at once. */
  #afterDeath(atExit = false): void {
    if (!this.#deathPending || this.#closed) return;
    this.#deathPending = false;
    const lived = performance.now() - this.#startedAt;
    this.#inARow = lived >= HEALTHY_MS ? 1 : this.#inARow + 1;
    // The dying worker's own word (die() in worker/main.ts) when piscina's has not arrived.
    const said = readWorkerCounters(this.#options.views).lastError?.replace(/^the telemetry worker stopped: /, '');
    const reason = this.#reason ?? said ?? 'it exited without an error';
    if (this.#inARow > MAX_RESTARTS_IN_A_ROW) {
      this.#gaveUp = true;
      writeStderr(
        `gave up on the telemetry worker after ${MAX_RESTARTS_IN_A_ROW} restarts in a row, each dying within a minute (last: ${reason}). ` +
          'Spans and events are no longer recorded; those not shipped are counted in stats().droppedSendFailed. Please report this with the message above.',
      );
      this.#release(null);
      this.#options.onGiveUp();
      return;
    }
    const delay = FIRST_RESTART_DELAY_MS * 2 ** (this.#inARow - 1);
    writeStderr(`the telemetry worker stopped: ${reason}; a new one takes over ${atExit ? 'now' : `in ${delay} ms`} (restart ${this.#inARow} of at most ${MAX_RESTARTS_IN_A_ROW} in a row).`);
    this.#timer = setTimeout(() => this.#restartNow(), delay);
    // Nobody waiting: the backoff must not keep the process alive.
    if (this.#waiting.length === 0) this.#timer.unref();
  }

  #restartNow(): void {
    this.#cancelTimer();
    this.#restarts++;
    this.#spawn();
  }

  #nextPool(): Promise<Piscina | null> {
    if (this.#closed || this.#gaveUp) return Promise.resolve(null);
    if (this.#pool !== null) return Promise.resolve(this.#pool);
    // Someone waits for the next worker: the backoff now keeps the process alive, as the task would.
    this.#timer?.ref();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(pool: Piscina | null): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const resolve of waiting) resolve(pool);
  }

  #cancelTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
