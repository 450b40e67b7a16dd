/**
 * Preloaded (`-r`) into every memory-account subject. Node hands `-r` on to worker threads, so
 * this also runs in the agent's own piscina worker, where nothing else of the bench can reach:
 * there it answers "how big is your heap?" over a BroadcastChannel, so the subject can report
 * each thread's V8 heap (Node 20 has no Worker.getHeapStatistics()). On the main thread it does
 * nothing. The channel is unref'd: it never keeps a thread alive.
 */
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';

export const PROBE_CHANNEL = 'teracron-memory-account';

/** What a worker answers. */
export interface ThreadHeap {
  threadId: number;
  heapUsed: number;
  heapTotal: number;
  /** Set by the stand-in worker (memory-account-worker.ts) once it loaded every piece asked. */
  loaded: boolean;
}

/** Set by memory-account-worker.ts when its pieces are loaded. */
export const LOADED = Symbol.for('teracron.memory-account.loaded');

if (!isMainThread) {
  const channel = new BroadcastChannel(PROBE_CHANNEL);
  channel.unref();
  channel.onmessage = (message: unknown) => {
    if ((message as MessageEvent).data !== 'heap?') return;
    const heap = getHeapStatistics();
    const answer: ThreadHeap = {
      threadId,
      heapUsed: heap.used_heap_size,
      heapTotal: heap.total_heap_size,
      loaded: (globalThis as { [LOADED]?: boolean })[LOADED] === true,
    };
    channel.postMessage(answer);
  };
}
