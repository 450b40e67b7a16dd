/**
 * Which trace the current async scope belongs to. The store is either a live ActiveSpan
 * (recorded), a TraceScope: a trace this process takes part in without a span of its own
 * yet, a parent continued from a header, or a root that sampling left out; or the SpanScope of
 * an ended span, in the listeners registered in it (span-scope.ts).
 *
 * Entering and leaving a span happens twice per traced call, so it takes the short way where
 * Node has one: AsyncLocalStorage in Node 20 and 22 keeps its store as a symbol-keyed property
 * of the current async resource, and run()/enterWith() are that property write plus one to
 * three lookups of the resource. `enterContext` does one lookup and plain property writes
 * (about 20 ns instead of 43 here). Where the storage is built differently (Node 24's
 * AsyncContextFrame) the same functions fall back to getStore()/enterWith().
 */
import { AsyncLocalStorage, executionAsyncResource } from 'node:async_hooks';
import type { IdWords } from '../recorder/ids';
import type { ActiveSpan } from './span';
import type { SpanScope } from './span-scope';

export class TraceScope {
  readonly traceWords: IdWords;
  /** The remote caller's span (parent of spans started here), or null. */
  readonly parentWords: IdWords | null;
  readonly sampled: boolean;

  constructor(traceWords: IdWords, parentWords: IdWords | null, sampled: boolean) {
    this.traceWords = traceWords;
    this.parentWords = parentWords;
    this.sampled = sampled;
  }
}

export type TraceContext = ActiveSpan | TraceScope | SpanScope;

export const storage = new AsyncLocalStorage<TraceContext>();

type Slot = Record<symbol, TraceContext | undefined>;
interface StorageInternals {
  kResourceStore?: unknown;
  _enable?: unknown;
}

const internals = storage as unknown as StorageInternals;
const storeKey = typeof internals.kResourceStore === 'symbol' && typeof internals._enable === 'function' && process.env.TERACRON_PORTABLE_CONTEXT !== '1' ? internals.kResourceStore : null;

/** True when the short way is in use (reported by tests and debug output). */
export const directContext = storeKey !== null;

if (storeKey !== null) (internals._enable as () => void).call(storage);

/** Where the current context lives: pass it back to leaveContext. */
export type ContextSlot = Slot | null;

export function contextSlot(): ContextSlot {
  return storeKey === null ? null : (executionAsyncResource() as Slot);
}

export function readContext(slot: ContextSlot): TraceContext | undefined {
  return slot === null ? storage.getStore() : slot[storeKey!];
}

export function writeContext(slot: ContextSlot, context: TraceContext | undefined): void {
  if (slot === null) storage.enterWith(context as TraceContext);
  else slot[storeKey!] = context;
}
