/**
 * Two services under `node -r teracron/auto`, in separate processes, shipping to one real
 * collector: service A (Express 5) calls service B (Fastify 5) with fetch, and the collector
 * holds one trace in which every parent link is exact.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import type { WireSpan } from '../../src/wire/batch-codec';
import { get, startApp } from '../helpers/app-process';
import { exitBudgetEnv } from '../helpers/child';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import { envelopeVectors } from '../helpers/vectors';
import { waitFor } from '../helpers/wait';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

/** A's request and fetch spans, B's request span, loadUser and queryUser. */
const SPANS = 5;

function waitForTrace(url: string, operation: string): Promise<WireSpan[]> {
  let seen: unknown;
  return waitFor(`a complete "${operation}" trace in the collector`, async () => {
    const runs = await query(url, '/api/v1/events?workflow=http&limit=100');
    const run = (runs.body.events as Array<{ trace_id: string; operation: string }>).find((r) => r.operation === operation);
    seen = runs.body;
    if (run === undefined) return undefined;
    const trace = await query(url, `/api/v1/traces/${run.trace_id}`);
    seen = trace.body;
    return trace.status === 200 && trace.body.spans.length >= SPANS ? (trace.body.spans as WireSpan[]) : undefined;
  }, { intervalMs: 100, seen: () => seen });
}

function childrenOf(spans: WireSpan[], parent: WireSpan): WireSpan[] {
  return spans.filter((span) => span.parent_span_id === parent.span_id);
}

test('Express 5 calls Fastify 5 with fetch: one trace, A request → A fetch → B request → B user spans', async (t) => {
  const vectors = envelopeVectors();
  const dataDir = vectorDataDir();
  const collector = await startCollectorProcess(dataDir);
  t.after(async () => {
    await collector.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const env = { TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: collector.url, ...exitBudgetEnv };
  const serviceB = await startApp('fastify', 'preload', env);
  const serviceA = await startApp('express', 'preload', { ...env, DOWNSTREAM_URL: serviceB.url });
  try {
    const answer = await get(`${serviceA.url}/chain/7`);
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.body), { id: '7', name: 'user 7' });
  } finally {
    assert.equal(await serviceA.stop(), 0, serviceA.stderr());
    assert.equal(await serviceB.stop(), 0, serviceB.stderr());
  }

  const spans = await waitForTrace(collector.url, 'GET /chain/:id');
  assert.equal(spans.length, SPANS, JSON.stringify(spans.map((span) => span.operation)));
  assert.equal(new Set(spans.map((span) => span.trace_id)).size, 1);

  const roots = spans.filter((span) => span.parent_span_id === null);
  assert.equal(roots.length, 1);
  const requestA = roots[0]!;
  assert.equal(requestA.operation, 'GET /chain/:id');
  assert.equal(requestA.metadata['http.route'], '/chain/:id');

  const belowA = childrenOf(spans, requestA);
  assert.equal(belowA.length, 1, 'A\'s request span has one child: the fetch');
  const fetchA = belowA[0]!;
  assert.equal(fetchA.metadata['http.url'], `${serviceB.url}/users/7`);
  assert.equal(fetchA.metadata['http.status_code'], 200);
  assert.equal(fetchA.metadata['http.route'], undefined, 'the fetch span is a client span, not a second request span');

  const belowFetch = childrenOf(spans, fetchA);
  assert.equal(belowFetch.length, 1, 'the fetch span has one child: B\'s request span');
  const requestB = belowFetch[0]!;
  assert.equal(requestB.workflow, 'http');
  assert.equal(requestB.operation, 'GET /users/:id');
  assert.equal(requestB.metadata['http.route'], '/users/:id');
  assert.equal(requestB.metadata['http.status_code'], 200);

  const belowB = childrenOf(spans, requestB);
  assert.deepEqual(belowB.map((span) => span.operation), ['loadUser']);
  assert.deepEqual(childrenOf(spans, belowB[0]!).map((span) => span.operation), ['queryUser']);
  for (const span of spans) assert.equal(span.status, 'succeeded', span.operation);
});
