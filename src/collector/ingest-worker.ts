/**
 * A thread of the collector's ingest pool (ingest-pool.ts): opens, decodes and validates one
 * sealed body (open-batch.ts) with the project's private key, handed over once at start.
 */
import type { KeyObject } from 'node:crypto';
import { workerData } from 'node:worker_threads';
import { openBatch } from './open-batch';
import type { OpenResult, OpenTask } from './open-batch';

export interface IngestWorkerData {
  keys: Array<[slug: string, key: KeyObject]>;
}

const keys = new Map((workerData as IngestWorkerData).keys);

export default function open(task: OpenTask): OpenResult {
  const key = keys.get(task.slug);
  // The main thread admits only slugs it has keys for, from the same keys/ directory.
  if (key === undefined) throw new Error(`the ingest pool has no key for project ${task.slug}`);
  return openBatch(task, key);
}
