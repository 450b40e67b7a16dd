/**
 * What the main thread and the worker say to each other outside the ring: the start-up data
 * (piscina's workerData) and the task messages. Both must survive structured cloning.
 */
import type { WireFormat, WireResource } from '../wire/batch-codec';

export interface WorkerInit {
  sab: SharedArrayBuffer;
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
}

export type WorkerMessage =
  /** Ship everything written before this message; resolves when it is delivered or given up. */
  | { code: 'flush' }
  /** Flush, then close the connection pool and end the loop. */
  | { code: 'stop' };
