/** Python's bare NaN / Infinity tokens, quoted outside strings only, so a batch holding one is still read. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBatch } from '../../src/wire/batch-codec';
import { quoteNonFiniteTokens } from '../../src/wire/json-non-finite';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(30_000);

test('bare tokens are quoted; the same words inside strings, escaped quotes included, are left alone', () => {
  const text = '{"a":NaN,"b":[Infinity,-Infinity],"c":"NaN \\" Infinity","d":-1,"NaN":1}';
  const quoted = quoteNonFiniteTokens(text);
  assert.equal(quoted, '{"a":"NaN","b":["Infinity","-Infinity"],"c":"NaN \\" Infinity","d":-1,"NaN":1}');
  assert.deepEqual(JSON.parse(quoted!), { a: 'NaN', b: ['Infinity', '-Infinity'], c: 'NaN " Infinity', d: -1, NaN: 1 });
});

test('text without bare tokens gives null, so the caller keeps the parser\'s own error', () => {
  assert.equal(quoteNonFiniteTokens('{"a":"NaN","b":1}'), null);
  assert.equal(quoteNonFiniteTokens('{"a":'), null);
});

test('decodeBatch reads a batch json.dumps wrote with a float nan, and still refuses broken JSON', () => {
  const batch = decodeBatch(Buffer.from('{"type":"trace","project_slug":"p","spans":[{"metadata":{"ratio":NaN}}]}'));
  assert.deepEqual((batch as unknown as { spans: Array<{ metadata: unknown }> }).spans[0]!.metadata, { ratio: 'NaN' });
  assert.throws(() => decodeBatch(Buffer.from('{"type":"trace","spans":[NaN')), /starts with "\{" but is not valid JSON/);
});

test('an event batch typed "events", as the Python SDK types it, reads as an event batch', () => {
  assert.equal(decodeBatch(Buffer.from('{"type":"events","project_slug":"p","events":[]}')).type, 'event');
});
