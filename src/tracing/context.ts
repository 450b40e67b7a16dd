/**
 * Which trace the current async scope belongs to. The store is either a live ActiveSpan
 * (recorded) or a TraceScope: a trace this process takes part in without a span of its own
 * yet, a parent continued from a header, or a root that sampling left out.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IdWords } from '../recorder/ids';
import type { ActiveSpan } from './span';

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

export type TraceContext = ActiveSpan | TraceScope;

export const storage = new AsyncLocalStorage<TraceContext>();
