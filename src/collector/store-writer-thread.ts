/**
 * The store's writer thread (store-writer.ts starts it): the one connection that writes. Batches
 * that arrive while a transaction runs wait in the port and go together into the next one (group
 * commit), so the busier the collector, the more a commit is shared. The retention sweep runs
 * here too, a chunk at a time with batches written between chunks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { unpackInput } from './batch-transfer';
import { asError, CollectorStore } from './store';
import type { IngestResult } from './store';
import type { ThreadReply, ThreadRequest, WriterData } from './store-writer-protocol';

/** Batches per transaction at most: a bound on how long one commit keeps the rest waiting. */
const MAX_GROUP = 64;

const port = parentPort!;
const { file } = workerData as WriterData;

let store: CollectorStore;
try {
  store = CollectorStore.open(file);
} catch (error) {
  send({ type: 'open-failed', error: describe(error) });
  port.close();
  throw error;
}
send({ type: 'ready' });

const queue: Array<Extract<ThreadRequest, { type: 'insert' }>> = [];
let flushScheduled = false;
let closing = false;
let sweeps = 0;

port.on('message', (request: ThreadRequest) => {
  switch (request.type) {
    case 'insert':
      queue.push(request);
      if (!flushScheduled) {
        flushScheduled = true;
        // After the messages already waiting in the port: they join this group.
        setImmediate(flush);
      }
      return;
    case 'sweep':
      void sweep(request.id, request.days, request.now);
      return;
    case 'close':
      closing = true;
      flush();
      // A sweep stops at its next chunk boundary; the store closes once it has.
      void untilSweepsEnd().then(() => {
        store.close();
        send({ type: 'closed' });
        port.close();
      });
      return;
  }
});

function flush(): void {
  flushScheduled = false;
  while (queue.length > 0) {
    const group = queue.splice(0, MAX_GROUP);
    const batches: Array<{ slug: string; input: ReturnType<typeof unpackInput> }> = [];
    const unreadable = new Map<number, Error>();
    for (const request of group) {
      try {
        batches.push({ slug: request.slug, input: unpackInput(request.bytes) });
      } catch (error) {
        unreadable.set(request.id, asError(error));
      }
    }
    const results = batches.length > 0 ? insertGroup(batches) : [];
    let next = 0;
    for (const request of group) {
      const failed = unreadable.get(request.id);
      const result: IngestResult | Error = failed ?? results[next++]!;
      send(result instanceof Error ? { type: 'stored', id: request.id, error: describe(result) } : { type: 'stored', id: request.id, result });
    }
    // One group per turn while open, so sweeps and new messages get their turn in between.
    if (!closing && queue.length > 0) {
      flushScheduled = true;
      setImmediate(flush);
      return;
    }
  }
}

/** The store's answer for each batch; an error it throws (a bug) becomes every batch's answer, never the thread's end. */
function insertGroup(batches: Parameters<CollectorStore['insertBatches']>[0]): Array<IngestResult | Error> {
  try {
    return store.insertBatches(batches);
  } catch (error) {
    const failed = asError(error);
    return batches.map(() => failed);
  }
}

async function sweep(id: number, days: number, now: number): Promise<void> {
  sweeps++;
  try {
    const deleted = await store.sweepRetention(days, now, () => closing);
    send({ type: 'swept', id, deleted });
  } catch (error) {
    send({ type: 'swept', id, error: describe(error) });
  } finally {
    sweeps--;
  }
}

async function untilSweepsEnd(): Promise<void> {
  while (sweeps > 0) await new Promise((resolve) => setImmediate(resolve));
}

function send(reply: ThreadReply): void {
  port.postMessage(reply);
}

function describe(error: unknown): { message: string; code?: string } {
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? { message: error.message, code } : { message: error.message };
}
