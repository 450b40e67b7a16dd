/**
 * Makes EventEmitter listeners run in the trace context they were registered in.
 *
 * AsyncLocalStorage follows async resources, not emitters: a listener runs in the context of
 * whoever calls emit(), which for a shared emitter is some other request's trace. So while a
 * trace context is current, `on`/`addListener`/`prependListener` register a wrapper that
 * re-enters the registering context, and `once`/`prependOnceListener` register a once-wrapper
 * of our own that does the same. Outside a trace nothing is wrapped (one context read).
 *
 * The wrappers carry `.listener = original`, the convention Node's own `once` uses, so
 * `off(original)`, `removeListener(original)` and `listeners()` behave exactly as before.
 */
import { EventEmitter } from 'node:events';
import { contextSlot, readContext, storage, writeContext } from './context';
import type { TraceContext } from './context';

type Listener = (...args: unknown[]) => unknown;
type Register = (this: EventEmitter, event: string | symbol, listener: Listener) => EventEmitter;

let installed = false;
// Taken before installEmitterContext replaces it.
const plainOn = EventEmitter.prototype.on;

/**
 * Registers a listener as Node would without the agent: it runs in whatever context emits. For
 * the agent's own bookkeeping listeners, which carry their state on the emitter and must not
 * pay for (or keep alive) a captured context.
 */
export function listenPlain(emitter: EventEmitter, event: string | symbol, listener: Listener): void {
  plainOn.call(emitter, event, listener);
}

export function installEmitterContext(): void {
  if (installed) return;
  installed = true;
  const proto = EventEmitter.prototype as unknown as Record<string, Register>;
  const persistent = (register: Register): Register =>
    function (this: EventEmitter, event, listener) {
      const context = storage.getStore();
      if (context === undefined || typeof listener !== 'function' || 'listener' in listener) return register.call(this, event, listener);
      return register.call(this, event, inContext(context, listener));
    };
  // Registered through this.on / this.prependListener, as Node's own once does, so subclass
  // overrides (a Readable resuming on 'data') still see the registration.
  const once = (original: Register, via: 'on' | 'prependListener'): Register =>
    function (this: EventEmitter, event, listener) {
      const context = storage.getStore();
      if (context === undefined || typeof listener !== 'function') return original.call(this, event, listener);
      return this[via](event, onceInContext(this, event, context, listener));
    };
  proto.on = persistent(proto.on!);
  proto.addListener = proto.on;
  proto.prependListener = persistent(proto.prependListener!);
  proto.once = once(proto.once!, 'on');
  proto.prependOnceListener = once(proto.prependOnceListener!, 'prependListener');
}

function inContext(context: TraceContext, listener: Listener): Listener {
  const wrapped = function (this: unknown): unknown {
    return callIn(context, listener, this, arguments);
  };
  (wrapped as { listener?: Listener }).listener = listener;
  return wrapped;
}

/** Node's once semantics (remove, then call once), plus the registering context. */
function onceInContext(emitter: EventEmitter, event: string | symbol, context: TraceContext, listener: Listener): Listener {
  let fired = false;
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    if (fired) return undefined;
    fired = true;
    emitter.removeListener(event, wrapped);
    return callIn(context, listener, this, args);
  };
  (wrapped as { listener?: Listener }).listener = listener;
  return wrapped;
}

/** storage.run(context, …) the short way of context.ts: no closure per emit, about half the cost. */
function callIn(context: TraceContext, listener: Listener, self: unknown, args: ArrayLike<unknown>): unknown {
  const slot = contextSlot();
  const previous = readContext(slot);
  writeContext(slot, context);
  try {
    return listener.apply(self, args as unknown[]);
  } finally {
    writeContext(slot, previous);
  }
}
