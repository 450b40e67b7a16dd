/**
 * What the main thread and the worker say to each other outside the ring: the start-up data
 * (piscina's workerData) and the task messages. Both must survive structured cloning.
 */
import type { WireFormat, WireResource } from '../wire/batch-codec';

export interface WorkerInit {
  sab: SharedArrayBuffer;
  /** 1 for the first worker, then one more for each that replaces a dead one (layout.ts WORKER_CLAIM). */
  workerNumber: number;
  /** The interned strings in force at TAIL: empty for the first worker (worker-supervisor.ts). */
  strings: string[];
  /** performance.timeOrigin of the thread that writes the ring. */
  producerOrigin: number;
  slug: string;
  publicKeyPem: string;
  baseUrl: string;
  userAgent: string;
  timeoutS: number;
  caPem: string | null;
  wireFormat: WireFormat;
  batchSize: number;
  flushIntervalMs: number;
  maxSendAttempts: number;
  /** traceEmitEvents: derive lifecycle events from span records. */
  emitLifecycleEvents: boolean;
  debug: boolean;
  resource: WireResource;
  /** Process metrics, or null when off (metricsEnabled: false). */
  metrics: WorkerMetricsInit | null;
  /** The spool (spooler.ts), or null when off (spool: false). */
  spool: { dir: string; maxBytes: number } | null;
}

export interface WorkerMetricsInit {
  /** The process sampled: this one, or a sidecar's target. */
  rootPid: number;
  /** rootPid is this process, so the main thread's heap and event-loop figures apply. */
  self: boolean;
  /** Also sample every descendant of rootPid (teracron run --children). */
  children: boolean;
  intervalMs: number;
  /** maxBufferSize: sampling rounds buffered before a send. */
  maxRounds: number;
  /** flushDeadlineS in ms: the longest an entry waits in the buffer. */
  deadlineMs: number;
}

export type WorkerMessage =
  /** Ship everything written before this message; resolves when it is delivered or given up. */
  | { code: 'flush' }
  /** Flush, then close the connection pool and end the loop. */
  | { code: 'stop' };
