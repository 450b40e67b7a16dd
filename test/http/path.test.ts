/** Operation names of HTTP server spans without a framework route: the path, ids folded. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { foldPath, operationName, pathOf } from '../../src/http/path';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

test('the query string and fragment are dropped from the path; the absolute form keeps only its path', () => {
  assert.equal(pathOf('/users?id=1&x=2'), '/users');
  assert.equal(pathOf('/a/b#frag'), '/a/b');
  assert.equal(pathOf('/?'), '/');
  assert.equal(pathOf('http://example.com:8080/proxy/path?q=1'), '/proxy/path');
  assert.equal(pathOf('http://example.com'), '/');
  assert.equal(pathOf('*'), '*');
  assert.equal(pathOf(''), '/');
  assert.equal(pathOf(undefined), '/');
});

test('numeric, UUID and long hex segments fold to :id', () => {
  const cases: Array<[string, string]> = [
    ['/users/42/orders/9f1c2b3a4d5e6f708192a3b4c5d6e7f8', '/users/:id/orders/:id'],
    ['/users/42', '/users/:id'],
    ['/42', '/:id'],
    ['/items/0/', '/items/:id/'],
    ['/o/123e4567-e89b-12d3-a456-426614174000/lines/7', '/o/:id/lines/:id'],
    ['/o/123E4567-E89B-12D3-A456-426614174000', '/o/:id'],
    ['/objects/507f1f77bcf86cd799439011', '/objects/:id'],
    ['/commits/da39a3ee5e6b4b0d3255bfef95601890afd80709/files', '/commits/:id/files'],
    ['//1//2', '//:id//:id'],
  ];
  for (const [path, folded] of cases) assert.equal(foldPath(path), folded, path);
});

test('words, slugs, short hex and near-UUIDs are kept, and the same string comes back', () => {
  for (const path of ['/', '/users', '/api/v2/users', '/products/ele-001', '/cafe', '/beef/dead', '/deadbeefdeadbee', '/v1.2/x', '/ord_123',
    '/123e4567-e89b-12d3-a456-42661417400', '/123e4567e-89b-12d3-a456-426614174000', '/123e4567-e89b-12d3-a456-42661417400g', '']) {
    assert.equal(foldPath(path), path, path);
  }
  const path = ['', 'api', 'users'].join('/');
  assert.equal(foldPath(path), path);
});

test('operation names are built once per method and target', () => {
  assert.equal(operationName('GET', '/users/:id'), 'GET /users/:id');
  const target = ['/users', ':id'].join('/');
  assert.equal(operationName('GET', target), operationName('GET', '/users/:id'));
  assert.equal(operationName('POST', '/users/:id'), 'POST /users/:id');
});
