/**
 * The store's writes on a thread of their own (store-writer-thread.ts), so the event loop that
 * answers every request never waits on SQLite: a 5,000-span transaction takes 100–300 ms, and a
 * `whoami` behind it waited as long. Reads stay on the main thread's own connection; in WAL mode
 * they never wait for the writer, and a batch is answered 202 only once its transaction has
 * committed, so a query after the answer sees it.
 *
 * If the thread dies (a bug, memory), the batches it held are answered with the error and a new
 * thread is started; nothing acknowledged is lost, since acknowledged means committed.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { IngestResult } from './store';
import { StoreWriteError } from './store-backend';
import type { BatchStore } from './store-backend';
import type { ThreadReply, ThreadRequest, WriterData } from './store-writer-protocol';

export { StoreWriteError } from './store-backend';

interface Pending {
  resolve(value: never): void;
  reject(error: Error): void;
}

const RESTART_DELAY_MS = 1000;

export class StoreWriter implements BatchStore {
  readonly #file: string;
  readonly #log: (line: string) => void;
  #worker: Worker | null = null;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #closing = false;
  #closed: Promise<void> | null = null;
  #restart: NodeJS.Timeout | null = null;

  private constructor(file: string, log: (line: string) => void) {
    this.#file = file;
    this.#log = log;
  }

  /** Starts the thread on a store file the caller has already opened (and so migrated). */
  static async start(file: string, log: (line: string) => void = () => {}): Promise<StoreWriter> {
    const writer = new StoreWriter(file, log);
    await writer.#spawn();
    return writer;
  }

  /** Stores a packed batch (batch-transfer.ts); its buffer is transferred to the thread. */
  insert(slug: string, bytes: Uint8Array): Promise<IngestResult> {
    return this.#request<IngestResult>((id) => ({ type: 'insert', id, slug, bytes }), [bytes.buffer as ArrayBuffer]);
  }

  /** Deletes what is older than `days` before `now`, a chunk at a time between batches; resolves with the rows deleted. */
  sweep(days: number, now: number): Promise<number> {
    return this.#request<number>((id) => ({ type: 'sweep', id, days, now }), []);
  }

  /** Writes what is queued, ends a sweep at its next chunk, closes the connection and the thread. */
  close(): Promise<void> {
    return (this.#closed ??= (async () => {
      this.#closing = true;
      if (this.#restart !== null) clearTimeout(this.#restart);
      const worker = this.#worker;
      if (worker === null) return;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ type: 'close' } satisfies ThreadRequest);
      await exited;
    })());
  }

  #request<T>(message: (id: number) => ThreadRequest, transfer: ArrayBuffer[]): Promise<T> {
    const worker = this.#worker;
    if (worker === null) {
      const why = this.#closing ? 'the collector is closing' : 'the store\'s writer thread is restarting';
      return Promise.reject(new StoreWriteError({ message: why, code: 'WRITER_UNAVAILABLE' }));
    }
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: never) => void, reject });
      worker.postMessage(message(id), transfer);
    });
  }

  #spawn(): Promise<void> {
    const workerData: WriterData = { file: this.#file };
    const worker = new Worker(join(__dirname, 'store-writer-thread.js'), { workerData });
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on('message', (reply: ThreadReply) => {
        if (reply.type === 'ready') {
          ready = true;
          this.#worker = worker;
          // A restart that finished after close() began: this thread is not wanted either.
          if (this.#closing) worker.postMessage({ type: 'close' } satisfies ThreadRequest);
          resolve();
        } else if (reply.type === 'open-failed') {
          reject(new StoreWriteError(reply.error));
        } else if (reply.type === 'stored' || reply.type === 'swept') {
          const pending = this.#pending.get(reply.id);
          if (pending === undefined) return;
          this.#pending.delete(reply.id);
          if ('error' in reply) pending.reject(new StoreWriteError(reply.error));
          else pending.resolve(('result' in reply ? reply.result : reply.deleted) as never);
        }
      });
      worker.on('error', (error) => {
        if (!ready) reject(error);
        this.#log(`the store's writer thread failed: ${error.stack ?? error.message}`);
      });
      worker.on('exit', (code) => {
        if (this.#worker === worker) this.#worker = null;
        this.#failPending(code);
        if (!ready) return reject(new Error(`the store's writer thread exited (${code}) before it was ready`));
        if (this.#closing) return;
        this.#log(`the store's writer thread exited (${code}); starting another in ${RESTART_DELAY_MS} ms`);
        this.#restart = setTimeout(() => {
          this.#restart = null;
          this.#spawn().catch((error: unknown) => this.#log(`the store's writer thread did not restart: ${(error as Error).message}`));
        }, RESTART_DELAY_MS);
        this.#restart.unref();
      });
    });
  }

  #failPending(code: number): void {
    const error = new StoreWriteError({ message: `the store's writer thread exited (${code}) before answering`, code: 'WRITER_EXITED' });
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
