import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parameterNames, readParameterList } from '../../src/tracing/parameters';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

// The functions below are real: tsc compiles this file to ES2022 and the runtime reads back what
// it emitted, which is what users' compiled code looks like too. `fromSource` covers exact
// texts that tsc would normalise (comments, spacing), compiled by V8 as written.
function fromSource(source: string): Function {
  return new Function(`return (${source});`)() as Function;
}

test('a function declaration gives its parameter names in order', () => {
  function chargeCard(orderId: string, amount: number, currency: string): void {}
  assert.deepEqual(parameterNames(chargeCard), ['orderId', 'amount', 'currency']);
});

test('a function without parameters gives an empty list', () => {
  function noop(): void {}
  assert.deepEqual(parameterNames(noop), []);
});

test('an async function gives its parameter names', () => {
  async function load(id: string, options: object): Promise<void> {}
  assert.deepEqual(parameterNames(load), ['id', 'options']);
});

test('a generator function gives its parameter names', () => {
  function* range(from: number, to: number): Generator<number> {}
  async function* pages(cursor: string): AsyncGenerator<string> {}
  assert.deepEqual(parameterNames(range), ['from', 'to']);
  assert.deepEqual(parameterNames(pages), ['cursor']);
});

test('an anonymous function expression gives its parameter names', () => {
  const fn = function (a: number, b: number): number {
    return a + b;
  };
  assert.deepEqual(parameterNames(fn), ['a', 'b']);
});

test('a parenthesised arrow function gives its parameter names', () => {
  const add = (a: number, b: number): number => a + b;
  assert.deepEqual(parameterNames(add), ['a', 'b']);
  assert.deepEqual(parameterNames(() => 1), []);
});

test('a single-parameter arrow without parentheses gives its name', () => {
  assert.deepEqual(parameterNames(fromSource('user => user.id')), ['user']);
  assert.deepEqual(parameterNames(fromSource('$x=>$x')), ['$x']);
});

test('async arrow functions give their parameter names, with or without parentheses', () => {
  assert.deepEqual(parameterNames(fromSource('async user => user')), ['user']);
  assert.deepEqual(parameterNames(async (user: string, retries: number) => user), ['user', 'retries']);
});

test('an arrow whose single parameter is named async gives that name', () => {
  assert.deepEqual(parameterNames(fromSource('async => async')), ['async']);
});

test('class methods give their parameter names', () => {
  class Orders {
    place(customerId: string, items: string[]): void {}
    async cancel(orderId: string): Promise<void> {}
    *lines(order: object): Generator<string> {}
    static create(region: string, tier: number): void {}
    static async restore(snapshot: string): Promise<void> {}
  }
  assert.deepEqual(parameterNames(Orders.prototype.place), ['customerId', 'items']);
  assert.deepEqual(parameterNames(Orders.prototype.cancel), ['orderId']);
  assert.deepEqual(parameterNames(Orders.prototype.lines), ['order']);
  assert.deepEqual(parameterNames(Orders.create), ['region', 'tier']);
  assert.deepEqual(parameterNames(Orders.restore), ['snapshot']);
});

test('an arrow function held in a class field gives its parameter names', () => {
  class Handler {
    onMessage = (topic: string, payload: unknown): void => {};
  }
  assert.deepEqual(parameterNames(new Handler().onMessage), ['topic', 'payload']);
});

test('object methods give their parameter names, including one named async', () => {
  const api = {
    get(path: string, query: object): void {},
    async post(path: string, body: unknown): Promise<void> {},
    async(task: string): void {},
    'quoted name'(value: number): void {},
  };
  assert.deepEqual(parameterNames(api.get), ['path', 'query']);
  assert.deepEqual(parameterNames(api.post), ['path', 'body']);
  assert.deepEqual(parameterNames(api.async), ['task']);
  assert.deepEqual(parameterNames(api['quoted name']), ['value']);
});

test('a method with a computed name gives its parameter names, not the key expression\'s', () => {
  const key = (a: number, b: number): string => `k${a}${b}`;
  const obj = {
    [Symbol.iterator](cursor: number): void {},
    [key(1, 2)](first: string, second: string): void {},
  };
  assert.deepEqual(parameterNames(obj[Symbol.iterator]), ['cursor']);
  assert.deepEqual(parameterNames((obj as Record<string, Function>).k12!), ['first', 'second']);
});

test('a class gives the parameter names of its constructor', () => {
  class Account {
    label = this.constructor.name;
    deposit(amount: number): void {
      if (/[{(]/.test(String(amount))) this.constructor.call(null);
    }
    constructor(owner: string, balance: number) {}
  }
  assert.deepEqual(parameterNames(Account), ['owner', 'balance']);
});

test('a static method named constructor is not taken for the constructor', () => {
  const cls = fromSource('class extends Object { static constructor(ignored) {} constructor(real) { super(); } }');
  assert.deepEqual(parameterNames(cls), ['real']);
});

test('a TypeScript parameter property compiles to a plain constructor parameter', () => {
  class Client {
    constructor(
      private readonly endpoint: string,
      public timeoutMs = 1000,
    ) {}
  }
  assert.deepEqual(parameterNames(Client), ['endpoint', 'timeoutMs']);
});

test('a base class without a constructor takes no parameters', () => {
  class Empty {
    method(a: number): void {}
  }
  assert.deepEqual(parameterNames(Empty), []);
});

test('a derived class without a constructor cannot be read', () => {
  class Base {
    constructor(a: number) {}
  }
  class Derived extends Base {}
  assert.equal(parameterNames(Derived), null);
});

test('default values containing commas, calls, strings, templates, arrays and objects are skipped', () => {
  const call = (x: number, y: number): number => x + y;
  function defaults(
    a: number,
    b = call(1, 2),
    c = 'x,y)',
    d = [1, 2],
    e = { k: 1, j: [3, 4] },
    f = `t,${call(5, 6)},)`,
    g = (h: number, i: number) => h + i,
    last = "a \" ,",
  ): void {}
  assert.deepEqual(parameterNames(defaults), ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'last']);
});

test('regular expressions and nested templates in default values are skipped', () => {
  const fn = fromSource('function (a = /[,)]\\//g, b = `x${`y${"}"}`}`, c = 1 / 2, d) {}');
  assert.deepEqual(parameterNames(fn), ['a', 'b', 'c', 'd']);
});

test('block and line comments between parameters are skipped', () => {
  const fn = fromSource('function (/* first */ a /* , fake */, // b, c)\n  b, /* ) */ c) {}');
  assert.deepEqual(parameterNames(fn), ['a', 'b', 'c']);
});

test('a comment between the name and the parameter list is skipped', () => {
  assert.deepEqual(parameterNames(fromSource('function f /* (x) */ (a) {}')), ['a']);
});

test('a trailing comma after the last parameter is accepted', () => {
  assert.deepEqual(parameterNames(fromSource('function (a, b,) {}')), ['a', 'b']);
  assert.deepEqual(parameterNames(fromSource('(a,) => a')), ['a']);
});

test('a rest parameter gives its bare name and is flagged', () => {
  function log(level: string, ...messages: string[]): void {}
  assert.deepEqual(parameterNames(log), ['level', 'messages']);
  assert.deepEqual(readParameterList(log), { names: ['level', 'messages'], rest: true });
  assert.deepEqual(readParameterList(fromSource('(a, b) => a')), { names: ['a', 'b'], rest: false });
});

test('a destructured parameter gives an empty name and keeps the others in place', () => {
  function handle(req: string, { user, session }: { user: string; session: string }, [first]: number[], done: () => void): void {}
  assert.deepEqual(parameterNames(handle), ['req', '', '', 'done']);
});

test('a destructured parameter with a default value gives an empty name', () => {
  const fn = fromSource('function ({ a, b: [c, d] } = { a: 1 }, [e] = [2], f) {}');
  assert.deepEqual(parameterNames(fn), ['', '', 'f']);
});

test('a destructured rest parameter gives an empty name', () => {
  assert.deepEqual(readParameterList(fromSource('(a, ...[b, c]) => a')), { names: ['a', ''], rest: true });
});

test('unicode identifiers and escapes give the name they stand for', () => {
  assert.deepEqual(parameterNames(fromSource('function (prix, \\u0061b, \\u{62}) {}')), ['prix', 'ab', 'b']);
  assert.deepEqual(parameterNames(fromSource('function (größe, 名前) {}')), ['größe', '名前']);
});

test('a function made with new Function gives its parameter names', () => {
  assert.deepEqual(parameterNames(new Function('a', 'b = 1', 'return a')), ['a', 'b']);
});

test('a native function cannot be read', () => {
  assert.equal(parameterNames(Math.max), null);
  assert.equal(parameterNames(Array.prototype.push), null);
});

test('a bound function cannot be read', () => {
  function target(a: number, b: number): void {}
  assert.equal(parameterNames(target.bind(null)), null);
});

test('a proxied function cannot be read', () => {
  function target(a: number): void {}
  assert.equal(parameterNames(new Proxy(target, {})), null);
});

test('a value that is not a function gives null instead of throwing', () => {
  assert.equal(parameterNames(42 as unknown as Function), null);
  assert.equal(parameterNames(null as unknown as Function), null);
});

test('a function whose toString lies is read from its real source', () => {
  function real(a: number): void {}
  real.toString = () => 'function (x, y) {}';
  assert.deepEqual(parameterNames(real), ['a']);
});
