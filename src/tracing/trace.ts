/**
 * `trace(workflow, fn, options)` and `withSpan(workflow, options, block)`.
 *
 * A wrapped call does, in order: one look at the tracer (pass through when off), one context
 * read, and when recorded: a span object, two clock readings, entering and leaving the async
 * context, and the ring write. The function's own result, `this` and exceptions pass through
 * untouched: a thrown error is the very same object the caller catches, and a returned value
 * ends the span the way settle.ts decides, which never changes what the caller sees.
 */
import type { CaptureFn, CaptureOption } from './capture';
import { compileCapture } from './capture';
import { contextSlot, readContext, storage, writeContext } from './context';
import { settle } from './settle';
import { ActiveSpan, NOOP_SPAN } from './span';
import type { Span } from './span';
import { spanOfContext } from './record-context';
import { closeSpanFailed, openSpan, tracer, warnOnce } from './tracer';

export interface TraceOptions {
  /** Defaults to the function's name (`Class.method` with the decorator), else the workflow. */
  operation?: string;
  /**
   * Parameter names whose values are recorded (read once from the function's parameter list),
   * or a function of the arguments returning what to record. Without it, no argument value is
   * ever recorded.
   */
  capture?: CaptureOption;
}

// `any` is what lets trace() return the wrapped function's exact type.
type AnyFunction = (this: any, ...args: any[]) => any;

export function trace<F extends AnyFunction>(workflow: string, fn: F, options: TraceOptions = {}): F {
  checkWorkflow('trace', workflow);
  if (typeof fn !== 'function') {
    throw new TypeError(`trace(${JSON.stringify(workflow)}, fn): fn must be a function, got ${fn === null ? 'null' : typeof fn}.`);
  }
  const operation = options.operation || (fn.name !== '' ? fn.name : workflow);
  const capture = compileCapture(fn, options.capture, warnOnce, workflow);
  return wrapFunction(workflow, fn, () => operation, capture);
}

/**
 * The wrapper shared by trace() and @traced. `operationOf` is asked once per call only when
 * the call is recorded (the decorator derives `Class.method` from `this`).
 */
export function wrapFunction<F extends AnyFunction>(workflow: string, fn: F, operationOf: (self: unknown) => string, capture: CaptureFn | null): F {
  const wrapped = function (this: unknown): unknown {
    if (tracer.recorder === null) return fn.apply(this, arguments as unknown as unknown[]);
    const slot = contextSlot();
    const parent = readContext(slot);
    const opened = openSpan(parent, workflow, operationOf(this));
    if (opened === null) return fn.apply(this, arguments as unknown as unknown[]);
    writeContext(slot, opened);
    if (!opened.sampled) {
      try {
        return fn.apply(this, arguments as unknown as unknown[]);
      } finally {
        writeContext(slot, parent);
      }
    }
    const span = opened as ActiveSpan;
    if (capture !== null) span.capturedParams = capture(arguments);
    let result: unknown;
    try {
      result = fn.apply(this, arguments as unknown as unknown[]);
    } catch (error) {
      writeContext(slot, parent);
      closeSpanFailed(span, error);
      throw error;
    }
    writeContext(slot, parent);
    return settle(span, result);
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name, configurable: true });
  Object.defineProperty(wrapped, 'length', { value: fn.length, configurable: true });
  return wrapped as unknown as F;
}

export interface WithSpanOptions {
  /** Defaults to the workflow. */
  operation?: string;
}

/**
 * Traces a block, sync or async, and returns its value. The block gets the span, for
 * `span.setMetadata({...})`; when nothing is recorded it gets a span that ignores it all.
 */
export function withSpan<T>(workflow: string, block: (span: Span) => T): T;
export function withSpan<T>(workflow: string, options: WithSpanOptions, block: (span: Span) => T): T;
export function withSpan<T>(workflow: string, optionsOrBlock: WithSpanOptions | ((span: Span) => T), maybeBlock?: (span: Span) => T): T {
  checkWorkflow('withSpan', workflow);
  const block = typeof optionsOrBlock === 'function' ? optionsOrBlock : maybeBlock;
  const options = typeof optionsOrBlock === 'function' ? {} : (optionsOrBlock ?? {});
  if (typeof block !== 'function') throw new TypeError(`withSpan(${JSON.stringify(workflow)}, …): the last argument must be the block to run, a function.`);
  if (tracer.recorder === null) return block(NOOP_SPAN);
  const slot = contextSlot();
  const parent = readContext(slot);
  const opened = openSpan(parent, workflow, options.operation || workflow);
  if (opened === null) return block(NOOP_SPAN);
  writeContext(slot, opened);
  if (!opened.sampled) {
    try {
      return block(NOOP_SPAN);
    } finally {
      writeContext(slot, parent);
    }
  }
  const span = opened as ActiveSpan;
  let result: T;
  try {
    result = block(span);
  } catch (error) {
    writeContext(slot, parent);
    closeSpanFailed(span, error);
    throw error;
  }
  writeContext(slot, parent);
  return settle(span, result) as T;
}

export function checkWorkflow(api: string, workflow: unknown): void {
  if (typeof workflow !== 'string' || workflow === '') {
    throw new TypeError(`${api}(workflow, …): workflow must be a non-empty string naming the workflow (e.g. "checkout"), got ${JSON.stringify(workflow) ?? typeof workflow}.`);
  }
}

/**
 * The span the current code runs in, for `currentSpan().setMetadata({...})`; a no-op span outside
 * one. In a listener whose registering span has ended, that span's ids, read-only (span-scope.ts).
 */
export function currentSpan(): Span {
  return spanOfContext(storage.getStore()) ?? NOOP_SPAN;
}
