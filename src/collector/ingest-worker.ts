/**
 * A thread of the collector's ingest pool (ingest-pool.ts): opens, decodes and validates one
 * sealed body (open-batch.ts) with the project's private key, handed over once at start, and
 * packs the batch for the store's writer (batch-packing.ts).
 */
import type { KeyObject } from 'node:crypto';
import { workerData } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { openBatch, packOpened } from './open-batch';
import type { OpenTask, PackedOpenResult } from './open-batch';
import type { BatchPacking } from './batch-packing';

export interface IngestWorkerData {
  keys: Array<[slug: string, key: KeyObject]>;
  packing: BatchPacking;
}

const keys = new Map((workerData as IngestWorkerData).keys);
const packing = (workerData as IngestWorkerData).packing;

export default function open(task: OpenTask): PackedOpenResult | ReturnType<typeof move> {
  const key = keys.get(task.slug);
  // The main thread admits only slugs it has keys for, from the same keys/ directory.
  if (key === undefined) throw new Error(`the ingest pool has no key for project ${task.slug}`);
  const result = packOpened(openBatch(task, key), packing, task.slug);
  if (!result.ok) return result;
  // The packed bytes move to the main thread (and on to the writer) instead of being copied.
  const packed = result.packed;
  return move({
    get [transferableSymbol]() {
      return [packed.buffer];
    },
    get [valueSymbol]() {
      return result;
    },
  });
}
