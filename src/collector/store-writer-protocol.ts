/** Messages between the collector's main thread (store-writer.ts) and its writer thread. */
import type { IngestResult } from './store';

export interface WriterData {
  file: string;
}

export interface ErrorDescription {
  message: string;
  /** SQLite's code (SQLITE_FULL, SQLITE_BUSY, …) when the store said one. */
  code?: string;
}

export type ThreadRequest =
  /** `bytes` is a packed batch (batch-transfer.ts), transferred. */
  | { type: 'insert'; id: number; slug: string; bytes: Uint8Array }
  | { type: 'sweep'; id: number; days: number; now: number }
  | { type: 'close' };

export type ThreadReply =
  | { type: 'ready' }
  | { type: 'open-failed'; error: ErrorDescription }
  | { type: 'stored'; id: number; result: IngestResult }
  | { type: 'stored'; id: number; error: ErrorDescription }
  | { type: 'swept'; id: number; deleted: number }
  | { type: 'swept'; id: number; error: ErrorDescription }
  | { type: 'closed' };
