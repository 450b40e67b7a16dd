/**
 * `@traced(workflow, options)`: the TypeScript standard (TC39) decorator form of trace() for
 * class methods. The operation defaults to `Class.method`, with the class read from the first
 * recorded call's `this` (a standard method decorator is not told its class).
 */
import { compileCapture } from './capture';
import { checkWorkflow, trace, wrapFunction } from './trace';
import type { TraceOptions } from './trace';
import { warnOnce } from './tracer';

export function traced(workflow: string, options: TraceOptions = {}) {
  checkWorkflow('@traced', workflow);
  return function decorate<This, Args extends unknown[], Return>(
    method: (this: This, ...args: Args) => Return,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Return>,
  ): (this: This, ...args: Args) => Return {
    if (context.kind !== 'method') {
      throw new TypeError(`@traced(${JSON.stringify(workflow)}) decorates methods only, not a ${String((context as { kind?: unknown }).kind)}.`);
    }
    if (options.operation !== undefined) return trace(workflow, method, options);
    const methodName = String(context.name);
    let operation: string | undefined;
    const operationOf = (self: unknown): string => (operation ??= `${className(self, context.static)}.${methodName}`);
    return wrapFunction(workflow, method, operationOf, compileCapture(method, options.capture, warnOnce, workflow));
  };
}

function className(self: unknown, isStatic: boolean): string {
  if (isStatic) return typeof self === 'function' && self.name !== '' ? self.name : 'anonymous';
  const ctor = (self as { constructor?: { name?: unknown } } | null | undefined)?.constructor;
  return typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'anonymous';
}
