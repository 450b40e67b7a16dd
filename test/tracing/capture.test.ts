import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileCapture, scrub } from '../../src/tracing/capture';
import type { WarnOnce } from '../../src/tracing/capture';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

interface Warning {
  key: string;
  message: string;
}

/** A warnOnce like the agent's: remembers keys, records what it would print. */
function recorder(): { warnOnce: WarnOnce; warnings: Warning[] } {
  const seen = new Set<string>();
  const warnings: Warning[] = [];
  return {
    warnings,
    warnOnce: (key, message) => {
      if (seen.has(key)) return;
      seen.add(key);
      warnings.push({ key, message });
    },
  };
}

function chargeCard(orderId: string, amount: number, card: object, ...notes: string[]): void {}

test('without a capture option nothing is compiled', () => {
  const { warnOnce, warnings } = recorder();
  assert.equal(compileCapture(chargeCard, undefined, warnOnce), null);
  assert.deepEqual(warnings, []);
});

test('capture by name picks the values of the named parameters', () => {
  const { warnOnce, warnings } = recorder();
  const capture = compileCapture(chargeCard, ['amount', 'orderId'], warnOnce)!;
  assert.deepEqual(capture(['o-1', 42, { pan: '4111' }]), { amount: 42, orderId: 'o-1' });
  assert.deepEqual(warnings, []);
});

test('capture by name reads an arguments object', () => {
  const { warnOnce } = recorder();
  const capture = compileCapture(chargeCard, ['orderId', 'amount'], warnOnce)!;
  function call(..._args: unknown[]): Record<string, unknown> | null {
    return capture(arguments);
  }
  assert.deepEqual(call('o-2', 7), { orderId: 'o-2', amount: 7 });
});

test('capture by name skips parameters whose argument was not passed', () => {
  const { warnOnce } = recorder();
  const capture = compileCapture(chargeCard, ['orderId', 'card'], warnOnce)!;
  assert.deepEqual(capture(['o-3']), { orderId: 'o-3' });
});

test('capture by name keeps an argument explicitly passed as undefined', () => {
  const { warnOnce } = recorder();
  const capture = compileCapture(chargeCard, ['amount'], warnOnce)!;
  const result = capture(['o-4', undefined])!;
  assert.ok('amount' in result);
  assert.equal(result.amount, undefined);
});

test('capturing a rest parameter gives the array of the remaining arguments', () => {
  const { warnOnce } = recorder();
  const capture = compileCapture(chargeCard, ['notes'], warnOnce)!;
  assert.deepEqual(capture(['o-5', 1, {}, 'gift', 'fragile']), { notes: ['gift', 'fragile'] });
  assert.deepEqual(capture(['o-5', 1, {}]), {});
});

test('capture by name works for class methods and arrow functions', () => {
  const { warnOnce } = recorder();
  class Shop {
    async checkout(cartId: string, coupon: string): Promise<void> {}
  }
  const viaMethod = compileCapture(Shop.prototype.checkout, ['coupon'], warnOnce)!;
  const viaArrow = compileCapture((userId: string, page: number) => userId, ['page'], warnOnce)!;
  assert.deepEqual(viaMethod(['c-1', 'SPRING']), { coupon: 'SPRING' });
  assert.deepEqual(viaArrow(['u-1', 3]), { page: 3 });
});

test('a name that is not a parameter warns once, naming the function and the name, and is skipped', () => {
  const { warnOnce, warnings } = recorder();
  const capture = compileCapture(chargeCard, ['orderId', 'customer'], warnOnce, 'checkout')!;
  compileCapture(chargeCard, ['orderId', 'customer'], warnOnce, 'checkout');
  assert.deepEqual(capture(['o-6', 5]), { orderId: 'o-6' });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!.message, /^trace\("checkout", chargeCard\): "customer" is not a parameter of chargeCard/);
  assert.match(warnings[0]!.message, /orderId, amount, card, notes/);
});

test('when no requested name is a parameter nothing is compiled', () => {
  const { warnOnce, warnings } = recorder();
  assert.equal(compileCapture(chargeCard, ['customer', 'total'], warnOnce), null);
  assert.equal(warnings.length, 2);
});

test('a name inside a destructured parameter warns that destructured parameters cannot be captured by name', () => {
  const { warnOnce, warnings } = recorder();
  function handle(req: string, { user }: { user: string }): void {}
  const capture = compileCapture(handle, ['req', 'user'], warnOnce, 'api')!;
  assert.deepEqual(capture(['r', { user: 'u' }]), { req: 'r' });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!.message, /"user" is not a parameter of handle/);
  assert.match(warnings[0]!.message, /destructured parameters/);
  assert.match(warnings[0]!.message, /capture: \(args\) => \(\{ \.\.\. \}\)/);
});

test('capture by name on a function whose parameters cannot be read warns and compiles nothing', () => {
  const { warnOnce, warnings } = recorder();
  const bound = chargeCard.bind(null);
  assert.equal(compileCapture(bound, ['orderId'], warnOnce, 'checkout'), null);
  assert.equal(warnings.length, 1);
  assert.equal(
    warnings[0]!.message,
    'trace("checkout", bound chargeCard): cannot read the parameter list of bound chargeCard; capture by name is off for it — pass capture as a function instead: capture: (args) => ({ ... })',
  );
});

test('an empty list of names compiles nothing and says nothing', () => {
  const { warnOnce, warnings } = recorder();
  assert.equal(compileCapture(chargeCard, [], warnOnce), null);
  assert.deepEqual(warnings, []);
});

test('a capture option that is neither a list nor a function warns and compiles nothing', () => {
  const { warnOnce, warnings } = recorder();
  assert.equal(compileCapture(chargeCard, 'orderId' as unknown as string[], warnOnce), null);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!.message, /capture must be a list of parameter names or a function/);
});

test('a capture function receives the arguments and its object is returned', () => {
  const { warnOnce } = recorder();
  const capture = compileCapture(chargeCard, (args) => ({ order: args[0], count: args.length }), warnOnce)!;
  assert.deepEqual(capture(['o-7', 9]), { order: 'o-7', count: 2 });
});

test('a capture function receives a real array copy, so mutating it leaves the call\'s arguments alone', () => {
  const { warnOnce } = recorder();
  let received: unknown[] = [];
  const capture = compileCapture(
    chargeCard,
    (args) => {
      received = args;
      assert.ok(Array.isArray(args));
      args[0] = 'changed';
      args.push('extra');
      return {};
    },
    warnOnce,
  )!;
  const callArgs = ['o-8', 1];
  capture(callArgs);
  assert.deepEqual(callArgs, ['o-8', 1]);
  assert.notEqual(received, callArgs);
  (function (..._args: unknown[]) {
    capture(arguments);
    assert.equal(arguments[0], 'o-9');
    assert.equal(arguments.length, 1);
  })('o-9');
});

test('a throwing capture function gives null and warns once for the wrapped function, with the error message', () => {
  const { warnOnce, warnings } = recorder();
  const capture = compileCapture(
    chargeCard,
    () => {
      throw new TypeError('no id here');
    },
    warnOnce,
    'checkout',
  )!;
  assert.equal(capture(['o-10']), null);
  assert.equal(capture(['o-11']), null);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!.message, /^trace\("checkout", chargeCard\): the capture function threw TypeError: no id here; nothing was captured$/);
});

test('each wrapped function warns about its own failing capture function', () => {
  const { warnOnce, warnings } = recorder();
  function other(a: number): void {}
  const failing = (): Record<string, unknown> => {
    throw new Error('boom');
  };
  compileCapture(chargeCard, failing, warnOnce, 'checkout')!(['x']);
  compileCapture(other, failing, warnOnce, 'checkout')!(['x']);
  assert.equal(warnings.length, 2);
});

test('a capture function returning null, an array or a string gives null and warns without the value', () => {
  for (const bad of [null, ['secret'], 'secret', undefined, 7]) {
    const { warnOnce, warnings } = recorder();
    const capture = compileCapture(chargeCard, () => bad as unknown as Record<string, unknown>, warnOnce)!;
    assert.equal(capture(['o-12']), null, String(bad));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /instead of an object; nothing was captured/);
    assert.doesNotMatch(warnings[0]!.message, /secret/);
  }
});

test('an async capture function gives null and its rejection is not left unhandled', async () => {
  const { warnOnce, warnings } = recorder();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    const capture = compileCapture(
      chargeCard,
      (async () => {
        throw new Error('late');
      }) as unknown as (args: unknown[]) => Record<string, unknown>,
      warnOnce,
    )!;
    assert.equal(capture(['o-13']), null);
    await new Promise((resolve) => setTimeout(resolve, 10));
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  assert.deepEqual(unhandled, []);
  assert.match(warnings[0]!.message, /returned a promise/);
});

test('scrub passes null through', () => {
  const { warnOnce } = recorder();
  assert.equal(scrub(null, (d) => d, warnOnce), null);
  assert.equal(scrub(null, undefined, warnOnce), null);
});

test('scrub without a scrubber returns the same object', () => {
  const { warnOnce } = recorder();
  const data = { a: 1 };
  assert.equal(scrub(data, undefined, warnOnce), data);
});

test('the scrubber gets a shallow copy, so mutating it leaves the original alone', () => {
  const { warnOnce } = recorder();
  const nested = { token: 't' };
  const data: Record<string, unknown> = { password: 'hunter2', user: 'ann', nested };
  let received: Record<string, unknown> | undefined;
  const result = scrub(
    data,
    (d) => {
      received = d;
      delete d.password;
      d.user = '[redacted]';
      return d;
    },
    warnOnce,
  );
  assert.notEqual(received, data);
  assert.equal(received!.nested, nested);
  assert.deepEqual(data, { password: 'hunter2', user: 'ann', nested });
  assert.deepEqual(result, { user: '[redacted]', nested });
});

test('the scrubber\'s result is returned when it is an object', () => {
  const { warnOnce } = recorder();
  assert.deepEqual(scrub({ a: 1 }, () => ({ b: 2 }), warnOnce), { b: 2 });
});

test('a throwing scrubber drops the data and warns once without the data\'s values', () => {
  const { warnOnce, warnings } = recorder();
  const scrubber = (): Record<string, unknown> => {
    throw new Error('bad rule');
  };
  assert.equal(scrub({ password: 'hunter2' }, scrubber, warnOnce), null);
  assert.equal(scrub({ password: 'hunter2' }, scrubber, warnOnce), null);
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.message, 'tracingScrubber threw Error: bad rule; the data was dropped');
});

test('a scrubber returning null drops the data without a warning', () => {
  const { warnOnce, warnings } = recorder();
  assert.equal(scrub({ a: 1 }, () => null as unknown as Record<string, unknown>, warnOnce), null);
  assert.deepEqual(warnings, []);
});

test('a scrubber returning an array, a string or nothing drops the data and warns', () => {
  for (const bad of [['a'], 'a', undefined]) {
    const { warnOnce, warnings } = recorder();
    assert.equal(scrub({ a: 'secret' }, () => bad as unknown as Record<string, unknown>, warnOnce), null, String(bad));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /^tracingScrubber returned .* instead of an object; the data was dropped$/);
    assert.doesNotMatch(warnings[0]!.message, /secret/);
  }
});
