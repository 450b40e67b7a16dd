/**
 * Where sealed bodies are opened: a piscina pool of threads, each holding every project's
 * private key, so RSA decryption, decoding and validation run beside the event loop instead of
 * on it (2,000 concurrent ingests on the loop had a p50 of 7.3 s, and one large batch held every
 * query behind it). What comes back is the batch packed for the store's writer (batch-packing.ts).
 * With `threads: 0` bodies are opened in the calling thread.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import type { ProjectKeys } from './keys';
import { openBatch, packOpened } from './open-batch';
import type { OpenTask, PackedOpenResult } from './open-batch';
import type { IngestWorkerData } from './ingest-worker';
import type { BatchPacking } from './batch-packing';

export interface BatchOpener {
  open(task: OpenTask): Promise<PackedOpenResult>;
  close(): Promise<void>;
}

/** One thread per core but the one the event loop and the store use, at least one, at most 4. */
export function defaultIngestThreads(): number {
  return Math.min(4, Math.max(1, availableParallelism() - 1));
}

export function createBatchOpener(projects: Map<string, ProjectKeys>, threads: number, packing: BatchPacking): BatchOpener {
  if (threads === 0) {
    return {
      open: async (task) => packOpened(openBatch(task, projects.get(task.slug)!.privateKey), packing, task.slug),
      close: async () => {},
    };
  }
  const workerData: IngestWorkerData = { keys: [...projects].map(([slug, project]) => [slug, project.privateKey]), packing };
  const pool = new Piscina({
    filename: join(__dirname, 'ingest-worker.js'),
    minThreads: 1,
    maxThreads: threads,
    // An idle collector keeps one thread; more start under load and go after a minute idle.
    idleTimeout: 60_000,
    workerData,
  });
  return {
    open: (task) => {
      // A body that owns its whole ArrayBuffer moves to the thread; a slice of a shared one
      // (a small Buffer from Node's pool) is copied, since moving it would take its neighbours.
      const body = task.body;
      const ownsBuffer = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer;
      return pool.run(task, ownsBuffer ? { transferList: [body.buffer as ArrayBuffer] } : {}) as Promise<PackedOpenResult>;
    },
    close: () => pool.destroy(),
  };
}
