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
 *
 * A wrapper lives as long as its emitter, so it keeps as little as it can: not the span, but
 * the span's SpanScope (its ids, and the span only while it is open: span-scope.ts); and no
 * closure context of its own (see newWrapper).
 */
import { EventEmitter } from 'node:events';
import { contextSlot, readContext, storage, writeContext } from './context';
import type { TraceContext, TraceScope } from './context';
import { ActiveSpan } from './span';
import { SpanScope, scopeOf } from './span-scope';

type Listener = (...args: unknown[]) => unknown;
/** What a listener keeps of the context it was registered in. */
type Kept = TraceScope | SpanScope;
const kKept = Symbol('teracron.kept');
type Wrapper = Listener & { listener: Listener; [kKept]: Kept };
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

/**
 * Emitters whose registrations stay plain for a moment although a context is current: Node's
 * own listeners for a request (see plainUntilFinishListener). Two slots, compared by identity,
 * so that the check costs every other registration two comparisons.
 */
const plainWindow: { response: EventEmitter | null; socket: EventEmitter | null } = { response: null, socket: null };

/**
 * Between `http.server.request.start` (where the request's span becomes current) and the
 * 'request' event, Node registers two listeners of its own for the request: the socket's
 * 'close' (assignSocket) and the response's 'finish' (resOnFinish), the latter last. Wrapped,
 * they would cost every request a SpanScope and two wrappers, and carry the span into the
 * connection's keep-alive timer; they need no context, so they are registered as without the
 * agent. The window closes at that 'finish' registration, before any code of the app runs, or
 * at the latest when the span ends (closePlainWindow).
 */
export function plainUntilFinishListener(response: EventEmitter, socket: EventEmitter | null): void {
  plainWindow.response = response;
  plainWindow.socket = socket;
}

export function closePlainWindow(response: EventEmitter): void {
  if (plainWindow.response === response) {
    plainWindow.response = null;
    plainWindow.socket = null;
  }
}

function inPlainWindow(emitter: EventEmitter, event: string | symbol): boolean {
  if (emitter === plainWindow.response) {
    if (event === 'finish') closePlainWindow(emitter);
    return true;
  }
  return emitter === plainWindow.socket;
}

export function installEmitterContext(): void {
  if (installed) return;
  installed = true;
  const proto = EventEmitter.prototype as unknown as Record<string, Register>;
  const persistent = (register: Register): Register =>
    function (this: EventEmitter, event, listener) {
      const context = storage.getStore();
      if (context === undefined || typeof listener !== 'function' || 'listener' in listener || inPlainWindow(this, event)) return register.call(this, event, listener);
      return register.call(this, event, inContext(keep(context), listener));
    };
  // Registered through this.on / this.prependListener, as Node's own once does, so subclass
  // overrides (a Readable resuming on 'data') still see the registration.
  const once = (original: Register, via: 'on' | 'prependListener'): Register =>
    function (this: EventEmitter, event, listener) {
      const context = storage.getStore();
      if (context === undefined || typeof listener !== 'function') return original.call(this, event, listener);
      return this[via](event, onceInContext(this, event, keep(context), listener));
    };
  proto.on = persistent(proto.on!);
  proto.addListener = proto.on;
  proto.prependListener = persistent(proto.prependListener!);
  proto.once = once(proto.once!, 'on');
  proto.prependOnceListener = once(proto.prependOnceListener!, 'prependListener');
}

function keep(context: TraceContext): Kept {
  return context instanceof ActiveSpan ? scopeOf(context) : context;
}

function inContext(kept: Kept, listener: Listener): Listener {
  const wrapped = newWrapper();
  wrapped.listener = listener;
  wrapped[kKept] = kept;
  return wrapped;
}

/**
 * A factory without variables of its own makes a function with no closure context to
 * allocate: the wrapper reaches its listener and context through its own name. About 50 bytes
 * less per listener than a closure over both (104 instead of 152 here), which is what a
 * long-lived emitter with many listeners holds on to.
 */
function newWrapper(): Wrapper {
  return function wrapped(this: unknown): unknown {
    const self = wrapped as Wrapper;
    return callIn(self[kKept], self.listener, this, arguments);
  } as Wrapper;
}

/** Node's once semantics (remove, then call once), plus the registering context. */
function onceInContext(emitter: EventEmitter, event: string | symbol, kept: Kept, listener: Listener): Listener {
  let fired = false;
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    if (fired) return undefined;
    fired = true;
    emitter.removeListener(event, wrapped);
    return callIn(kept, listener, this, args);
  };
  (wrapped as { listener?: Listener }).listener = listener;
  return wrapped;
}

/**
 * storage.run(context, …) the short way of context.ts: no closure per emit, about half the cost.
 * The registering span itself while it is open, else what was kept of it.
 */
function callIn(kept: Kept, listener: Listener, self: unknown, args: ArrayLike<unknown>): unknown {
  const slot = contextSlot();
  const previous = readContext(slot);
  writeContext(slot, kept instanceof SpanScope && kept.live !== null ? kept.live : kept);
  try {
    return listener.apply(self, args as unknown[]);
  } finally {
    writeContext(slot, previous);
  }
}
