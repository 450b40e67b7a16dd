/**
 * TeracronClient: the explicit form of the agent. It owns the shared ring, the worker (through
 * its supervisor), and the process hooks that ship what is buffered when the program ends.
 *
 * Nothing here keeps the process alive: piscina unrefs its idle worker, and the hooks only act
 * when the process is ending anyway.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { resolveConfig } from './config/resolve';
import { wireResource } from './config/resource';
import type { TeracronConfig } from './config/resolve';
import type { TeracronOptions } from './config/options';
import { createRecorder, recordEventInput, recordSpanInput } from './recorder/recorder';
import type { EventInput, Recorder, SpanInput } from './recorder/recorder';
import { TAIL, createRingBuffer, ringViews } from './ring/layout';
import type { RingViews } from './ring/layout';
import { readWorkerCounters } from './ring/shared-stats';
import { ringFullUnsampled } from './ring/agent-counters';
import { stringsAt, wake } from './ring/writer';
import { WorkerSupervisor } from './worker-supervisor';
import { installExitHooks } from './exit-hooks';
import { beginFinalFlush } from './final-flush';
import type { ExitHooks } from './exit-hooks';
import { writeStderr } from './stderr';
import { startMainThreadSampler } from './metrics/main-thread-sampler';
import type { MainThreadSampler } from './metrics/main-thread-sampler';
import { activateTracer, deactivateTracer } from './tracing/tracer';
import { activateLogs, deactivateLogs } from './logs/log-state';
import { installConsoleCapture } from './logs/console-capture';
import type { ConsoleCapture } from './logs/console-capture';
import { installCrashCapture } from './logs/crash-capture';
import type { CrashCapture } from './logs/crash-capture';
import { USER_AGENT } from './version';
import type { WorkerInit, WorkerMessage } from './worker/protocol';

export interface TeracronStats {
  /** Spans, events and logs handed to the recorder. */
  produced: number;
  /** Accepted by the endpoint (2xx). */
  sent: number;
  /** Dropped on the caller's thread because the ring was full. */
  droppedRingFull: number;
  /**
   * Dropped by the worker: retries exhausted, refused (4xx), or no time left at exit; or lost
   * with a worker that died, or left when the agent gave up on its worker.
   */
  droppedSendFailed: number;
  /** Of droppedSendFailed, those the endpoint refused with a non-retryable status. */
  rejected: number;
  /** Recorded while the client was not running (or after it gave up on its worker). */
  droppedNotRunning: number;
  retries: number;
  batches: number;
  bytesSent: number;
  /**
   * Written to the spool directory instead of sent (the endpoint was down): they are sent by this
   * process or the next one of the project once it answers. produced = sent + droppedRingFull +
   * droppedSendFailed + spooled + pending.
   */
  spooled: number;
  /** Spans and events sent from the spool, this process's or an earlier one's. */
  replayed: number;
  /** Spans and events the spool deleted, oldest first, to stay under spoolMaxBytes. */
  droppedSpoolFull: number;
  /** The spool directory's size in bytes, as last seen by the worker. */
  spoolBytes: number;
  /** Spans and events in spool files found damaged (a process killed mid-write) and moved aside unsent. */
  spoolCorrupt: number;
  /** Recorded but not yet accounted for: in the ring, in a batch, or on the wire. */
  pending: number;
  lastError: string | null;
  /** Process-metrics entries read (one per watched process per sampling round). */
  metricsSampled: number;
  /** Of those, accepted by the endpoint. */
  metricsSent: number;
  /** Of those, refused or given up after retries. */
  metricsDropped: number;
  /** Workers started to replace one that died. */
  workerRestarts: number;
}

type State = 'new' | 'running' | 'stopping' | 'stopped';

async function within<T>(work: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const WORKER_FILE = join(__dirname, 'worker', 'main.js');

/** Everything the worker needs, cloned into it at start (the supervisor adds what differs per worker). */
function workerInit(config: TeracronConfig, sab: SharedArrayBuffer): Omit<WorkerInit, 'workerNumber' | 'strings'> {
  return {
    sab,
    producerOrigin: performance.timeOrigin,
    slug: config.slug,
    publicKeyPem: config.publicKeyPem,
    baseUrl: config.baseUrl,
    userAgent: USER_AGENT,
    timeoutS: config.timeoutS,
    caPem: config.caPem,
    wireFormat: config.wireFormat,
    batchSize: config.traceBatchSize,
    flushIntervalMs: config.traceFlushIntervalS * 1000,
    maxSendAttempts: config.maxSendAttempts,
    emitLifecycleEvents: config.traceEmitEvents,
    debug: config.debug,
    metrics: config.metricsEnabled
      ? {
          rootPid: config.targetPid ?? process.pid,
          self: config.targetPid === null || config.targetPid === process.pid,
          children: config.monitorChildren,
          intervalMs: config.intervalS * 1000,
          maxRounds: config.maxBufferSize,
          deadlineMs: config.flushDeadlineS * 1000,
        }
      : null,
    spool: config.spoolDir === null ? null : { dir: config.spoolDir, maxBytes: config.spoolMaxBytes },
    resource: wireResource(config, process.pid, hostname()),
  };
}

export class TeracronClient {
  readonly config: TeracronConfig;
  #state: State = 'new';
  #views: RingViews | null = null;
  #recorder: Recorder | null = null;
  /** The recorder while running, null otherwise: the one check on the recording path. */
  #live: Recorder | null = null;
  #worker: WorkerSupervisor | null = null;
  #hooks: ExitHooks | null = null;
  #mainSampler: MainThreadSampler | null = null;
  #crashCapture: CrashCapture | null = null;
  #consoleCapture: ConsoleCapture | null = null;
  #droppedNotRunning = 0;
  #stopping: Promise<void> | null = null;

  /** Validates options and environment; throws TeracronConfigError with the fix when they are wrong. */
  constructor(options: TeracronOptions = {}) {
    this.config = resolveConfig(options);
  }

  get running(): boolean {
    return this.#state === 'running';
  }

  start(): this {
    if (this.#state !== 'new') return this;
    const config = this.config;
    for (const warning of config.warnings) writeStderr(`warning: ${warning}`);
    const sab = createRingBuffer(config.ringBytes);
    this.#views = ringViews(sab);
    this.#recorder = createRecorder(sab);
    const recorder = this.#recorder;
    const views = this.#views;
    const worker = new WorkerSupervisor({
      filename: WORKER_FILE,
      init: workerInit(config, sab),
      views,
      closeTimeoutMs: config.exitTimeoutMs,
      stringsAtTail: () => stringsAt(recorder.writer, Atomics.load(views.ctrl, TAIL)),
      onGiveUp: () => this.#workerGone(),
    });
    worker.start();
    this.#worker = worker;
    // Heap and event-loop figures belong to this process; a sidecar watching another has none.
    const watchingSelf = config.targetPid === null || config.targetPid === process.pid;
    if (config.metricsEnabled && watchingSelf) this.#mainSampler = startMainThreadSampler(this.#views, config.intervalS * 1000);
    this.#hooks = installExitHooks({
      hasUnshipped: () => {
        const stats = this.stats();
        return stats.pending > 0 || stats.metricsSampled > stats.metricsSent + stats.metricsDropped || ringFullUnsampled(this.#views!);
      },
      views: this.#views,
      exitTimeoutMs: config.exitTimeoutMs,
      beforeFlush: () => worker.prepareExitFlush(),
    });
    this.#state = 'running';
    this.#live = this.#recorder;
    if (config.tracingEnabled) activateTracer(this.#recorder, config);
    activateLogs(this.#recorder, config.logLevel, config.tracingScrubber);
    this.#crashCapture = installCrashCapture();
    if (config.captureConsole) this.#consoleCapture = installConsoleCapture();
    if (config.debug) writeStderr(`started: project ${config.slug}, endpoint ${config.baseUrl}, service ${config.service}`);
    return this;
  }

  /**
   * Records one finished (or started) span. Never throws, never blocks: returns false when the
   * span was dropped (ring full, or client not running), which stats() counts.
   */
  recordSpan(span: SpanInput): boolean {
    const recorder = this.#live;
    return recorder === null ? this.#notRunning() : recordSpanInput(recorder, span);
  }

  /** Records one event; same contract as recordSpan. */
  recordEvent(event: EventInput): boolean {
    const recorder = this.#live;
    return recorder === null ? this.#notRunning() : recordEventInput(recorder, event);
  }

  /** Resolves when everything recorded before the call is delivered or given up. */
  async flush(): Promise<void> {
    if (this.#worker === null || this.#state === 'stopped') return;
    await this.#worker.run({ code: 'flush' } satisfies WorkerMessage);
  }

  /**
   * Flushes (bounded by exitTimeoutMs), then closes the worker. Safe to call twice. Requests
   * still on the wire when it returns are counted when answered (stats() moves them from
   * pending to sent); the worker thread ends after that and never keeps the process alive.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    if (this.#state !== 'running') {
      this.#state = 'stopped';
      return;
    }
    this.#state = 'stopping';
    this.#live = null;
    this.#stopRecording();
    this.#hooks?.remove();
    // One last reading of heap and event loop for the worker's final sample.
    this.#mainSampler?.sample();
    this.#mainSampler?.stop();
    const worker = this.#worker!;
    const views = this.#views!;
    const budget = Math.max(this.config.exitTimeoutMs, 1);
    // Final mode: short retries until the deadline, then what is left is counted as dropped.
    beginFinalFlush(views, budget);
    wake(views);
    let answered = false;
    try {
      const stopping = worker.run({ code: 'stop' } satisfies WorkerMessage);
      answered = (await within(stopping, budget)) !== 'timeout';
      if (!answered) writeStderr(`stop() gave the worker ${budget} ms to ship what was buffered and it did not answer; what was left is counted in stats().pending.`);
    } catch (err) {
      writeStderr(`stopping the telemetry worker failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.#state = 'stopped';
      if (answered) worker.destroyWhenSettled();
      else await worker.destroy().catch(() => {});
    }
  }

  /**
   * The supervisor gave up on the worker: nothing would ship what is recorded from now on, so
   * nothing more is recorded (counted in droppedNotRunning), and the exit waits for nobody.
   */
  #workerGone(): void {
    this.#live = null;
    this.#stopRecording();
    this.#hooks?.remove();
    this.#mainSampler?.stop();
  }

  /** Spans, events and logs are no longer recorded: the tracer, logs and their captures stand down. */
  #stopRecording(): void {
    deactivateTracer(this.#recorder!);
    deactivateLogs(this.#recorder!);
    this.#crashCapture?.remove();
    this.#crashCapture = null;
    this.#consoleCapture?.remove();
    this.#consoleCapture = null;
  }

  stats(): TeracronStats {
    const rec = this.#recorder;
    const worker = this.#views === null ? null : readWorkerCounters(this.#views);
    const produced = rec?.produced ?? 0;
    const droppedRingFull = rec?.droppedRingFull ?? 0;
    const sent = worker?.sent ?? 0;
    const supervisor = this.#worker;
    let droppedSendFailed = (worker?.droppedSendFailed ?? 0) + (supervisor?.lost ?? 0);
    const spooled = worker?.spooled ?? 0;
    let pending = produced - sent - droppedRingFull - droppedSendFailed - spooled;
    const metricsSampled = worker?.metricsSampled ?? 0;
    const metricsSent = worker?.metricsSent ?? 0;
    let metricsDropped = (worker?.metricsDropped ?? 0) + (supervisor?.lostMetrics ?? 0);
    if (supervisor?.gaveUp === true) {
      // With no worker, what is still in the ring or unsent will never ship.
      droppedSendFailed += pending;
      pending = 0;
      metricsDropped = metricsSampled - metricsSent;
    }
    return {
      produced,
      sent,
      droppedRingFull,
      droppedSendFailed,
      rejected: worker?.rejected ?? 0,
      droppedNotRunning: this.#droppedNotRunning,
      retries: worker?.retries ?? 0,
      batches: worker?.batches ?? 0,
      bytesSent: worker?.bytesSent ?? 0,
      spooled,
      replayed: worker?.replayed ?? 0,
      droppedSpoolFull: worker?.droppedSpoolFull ?? 0,
      spoolBytes: worker?.spoolBytes ?? 0,
      spoolCorrupt: worker?.spoolCorrupt ?? 0,
      pending,
      lastError: worker?.lastError ?? null,
      metricsSampled,
      metricsSent,
      metricsDropped,
      workerRestarts: supervisor?.restarts ?? 0,
    };
  }

  #notRunning(): false {
    this.#droppedNotRunning++;
    return false;
  }
}
