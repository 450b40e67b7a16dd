/**
 * The behaviours every framework integration shares, run against test/fixtures/framework-app:
 * once with the `teracron/auto` preload and once with up() in the app (no preload), each
 * compared with the same app without teracron.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WireSpan } from '../../src/wire/batch-codec';
import { loadPrivateKey } from '../../src/wire/envelope';
import { get, startApp } from '../helpers/app-process';
import { exitBudgetEnv } from '../helpers/child';
import type { Answer, Framework, Mode } from '../helpers/app-process';
import { startReceiver } from '../helpers/receiver';
import { envelopeVectors } from '../helpers/vectors';

/** Paths no route serves: what scanners probe. */
const PROBES = ['/nowhere', '/wp-login.php', '/.env', '/nowhere/else/7'] as const;
const PATHS = ['/users/42', '/orgs/acme/users/7', '/boom/sync', '/boom/async', '/boom/teapot', '/items/9', ...PROBES] as const;
/** Request spans for the paths, plus loadUser and queryUser for each of the two user routes. */
const SPANS = PATHS.length + 4;

interface Run {
  answers: Record<string, Answer>;
  spans: WireSpan[];
}

async function exercise(framework: Framework, mode: Mode): Promise<Run> {
  const vectors = envelopeVectors();
  const receiver = mode === 'up' || mode === 'preload' ? await startReceiver(loadPrivateKey(vectors.private_key_pem)) : null;
  try {
    const app = await startApp(framework, mode, receiver === null ? {} : { TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: receiver.url, ...exitBudgetEnv });
    const answers: Record<string, Answer> = {};
    try {
      for (const path of PATHS) answers[path] = await get(`${app.url}${path}`);
    } finally {
      assert.equal(await app.stop(), 0, app.stderr());
    }
    if (receiver !== null) await receiver.waitForSpans(SPANS);
    return { answers, spans: receiver?.spans ?? [] };
  } finally {
    await receiver?.close();
  }
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= fn());
}

function only(spans: WireSpan[], operation: string): WireSpan {
  const found = spans.filter((span) => span.operation === operation);
  assert.equal(found.length, 1, `one span "${operation}" among ${spans.map((span) => span.operation).join(', ')}`);
  return found[0]!;
}

function childOf(spans: WireSpan[], parent: WireSpan, operation: string): WireSpan {
  const children = spans.filter((span) => span.operation === operation && span.parent_span_id === parent.span_id);
  assert.equal(children.length, 1, `one "${operation}" below "${parent.operation}"`);
  assert.equal(children[0]!.trace_id, parent.trace_id, `${operation} is in ${parent.operation}'s trace`);
  return children[0]!;
}

function httpMetadata(span: WireSpan): Record<string, unknown> {
  const keys = ['http.method', 'http.path', 'http.route', 'http.status_code', 'http.error_type'];
  return Object.fromEntries(keys.filter((key) => key in span.metadata).map((key) => [key, span.metadata[key]]));
}

export function frameworkSuite(framework: Framework, label: string): void {
  const withoutTeracron = once(() => exercise(framework, 'off'));

  for (const mode of ['preload', 'up'] as const) {
    const run = once(() => exercise(framework, mode));
    const how = mode === 'preload' ? 'under node -r teracron/auto' : 'with up() and no preload';

    test(`${label} ${how}: GET /users/42 is the request span "GET /users/:id" with route, method, path and status 200`, async () => {
      const { spans, answers } = await run();
      const request = only(spans, 'GET /users/:id');
      assert.equal(request.workflow, 'http');
      assert.equal(request.status, 'succeeded');
      assert.equal(request.parent_span_id, null);
      assert.deepEqual(httpMetadata(request), { 'http.method': 'GET', 'http.path': '/users/42', 'http.route': '/users/:id', 'http.status_code': 200 });
      assert.deepEqual(JSON.parse(answers['/users/42']!.body), { id: '42', name: 'user 42' });
    });

    test(`${label} ${how}: spans started in the async handler after awaits are children of the request span`, async () => {
      const { spans } = await run();
      const request = only(spans, 'GET /users/:id');
      childOf(spans, childOf(spans, request, 'loadUser'), 'queryUser');
    });

    test(`${label} ${how}: a mount path with a parameter stays a template ("GET /orgs/:org/users/:id")`, async () => {
      const { spans } = await run();
      const request = only(spans, 'GET /orgs/:org/users/:id');
      assert.deepEqual(httpMetadata(request), { 'http.method': 'GET', 'http.path': '/orgs/acme/users/7', 'http.route': '/orgs/:org/users/:id', 'http.status_code': 200 });
      childOf(spans, childOf(spans, request, 'loadUser'), 'queryUser');
    });

    for (const [kind, path, type, message] of [
      ['a synchronous throw', '/boom/sync', 'InventoryError', 'out of stock'],
      ['a rejection after an await', '/boom/async', 'PaymentError', 'card declined'],
    ] as const) {
      test(`${label} ${how}: ${kind} in the handler fails the request span with its error type; the response is the one without teracron`, async () => {
        const [{ spans, answers }, baseline] = await Promise.all([run(), withoutTeracron()]);
        const request = only(spans, `GET ${path}`);
        assert.equal(request.status, 'failed');
        assert.equal(request.error_type, type);
        assert.equal(request.error_message, message);
        assert.deepEqual(httpMetadata(request), { 'http.method': 'GET', 'http.path': path, 'http.route': path, 'http.status_code': 500, 'http.error_type': type });
        assert.equal(answers[path]!.status, 500);
        assert.deepEqual(answers[path], baseline.answers[path]);
      });
    }

    test(`${label} ${how}: an error the framework answers with a 4xx status is recorded as http.error_type and does not fail the span`, async () => {
      const [{ spans, answers }, baseline] = await Promise.all([run(), withoutTeracron()]);
      const request = only(spans, 'GET /boom/teapot');
      assert.equal(request.status, 'succeeded');
      assert.equal(request.error_type, null);
      assert.deepEqual(httpMetadata(request), { 'http.method': 'GET', 'http.path': '/boom/teapot', 'http.route': '/boom/teapot', 'http.status_code': 418, 'http.error_type': 'TeapotError' });
      assert.equal(answers['/boom/teapot']!.status, 418);
      assert.deepEqual(answers['/boom/teapot'], baseline.answers['/boom/teapot']);
    });

    test(`${label} ${how}: paths no route serves (404) are one operation "GET <unmatched>", each keeping its path in http.path`, async () => {
      const [{ spans, answers }, baseline] = await Promise.all([run(), withoutTeracron()]);
      const unmatched = spans.filter((span) => span.operation === 'GET <unmatched>');
      assert.deepEqual(unmatched.map((span) => span.metadata['http.path']).sort(), [...PROBES].sort());
      for (const span of unmatched) {
        assert.deepEqual(httpMetadata(span), { 'http.method': 'GET', 'http.path': span.metadata['http.path'], 'http.status_code': 404 });
        assert.equal(span.status, 'succeeded');
      }
      for (const path of PROBES) {
        assert.equal(answers[path]!.status, 404, path);
        assert.deepEqual(answers[path], baseline.answers[path], path);
      }
    });

    test(`${label} ${how}: a route that exists and answers 404 keeps its route name`, async () => {
      const [{ spans, answers }, baseline] = await Promise.all([run(), withoutTeracron()]);
      const request = only(spans, 'GET /items/:id');
      assert.deepEqual(httpMetadata(request), { 'http.method': 'GET', 'http.path': '/items/9', 'http.route': '/items/:id', 'http.status_code': 404 });
      assert.deepEqual(JSON.parse(answers['/items/9']!.body), { error: 'no item 9' });
      assert.deepEqual(answers['/items/9'], baseline.answers['/items/9']);
    });

    test(`${label} ${how}: every answer (success, errors, 404) is byte for byte the one without teracron`, async () => {
      const [{ answers }, baseline] = await Promise.all([run(), withoutTeracron()]);
      assert.deepEqual(answers, baseline.answers);
    });
  }

  test(`${label}: installed while the agent is not running, the app answers exactly as without teracron`, async () => {
    const [idle, baseline] = await Promise.all([exercise(framework, 'idle'), withoutTeracron()]);
    assert.deepEqual(idle.answers, baseline.answers);
  });
}
