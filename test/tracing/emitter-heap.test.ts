/**
 * 100,000 traced requests each leaving a listener on one long-lived emitter (a connection pool):
 * the heap holds what the app's own listeners take plus a small fixed amount per listener (a
 * wrapper and the span's ids), whatever the spans carried. Before span-scope.ts, every listener
 * kept its span, its metadata and its parent spans: 85 MiB more here.
 * Child processes with --expose-gc (test/fixtures/emitter-heap.ts), one per mode.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { exitBudgetEnv, fixturePath, runNode } from '../helpers/child';
import { serve } from '../helpers/http';
import type { TestServer } from '../helpers/http';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(240_000);

const REQUESTS = 100_000;
const MiB = 1024 * 1024;
// Measured here: 104 bytes for the wrapper function with its two properties, about 100 for the
// span's SpanScope (one per request in this test: every request is its own span), 208 in all.
// Keeping the spans, as before span-scope.ts, it was 894 (traced 95 MiB, without metadata 64).
const MAX_BYTES_PER_LISTENER = 256;
// Spans with a 250-character statement, a captured parameter and route metadata, against the
// same spans with none: what the listener keeps must not depend on what the span carried.
const MAX_CONTENT_DEPENDENT = 2 * MiB;

const vectors = envelopeVectors();
let sink: TestServer;

before(async () => {
  sink = await serve((req, res) => {
    req.resume();
    req.on('end', () => res.end());
  });
});

after(() => sink.close());

async function growth(mode: 'untraced' | 'traced' | 'bare'): Promise<number> {
  const env = { TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: sink.url, ...exitBudgetEnv, MODE: mode, REQUESTS: String(REQUESTS) };
  const result = await runNode(['--expose-gc', fixturePath('emitter-heap')], env, 120_000);
  assert.equal(result.code, 0, `MODE=${mode} exited ${result.code}; stderr:\n${result.stderr}`);
  const report = JSON.parse(result.stdout.split('\n').find((line) => line.startsWith('{'))!) as { growth: number; listeners: number };
  assert.equal(report.listeners, REQUESTS);
  return report.growth;
}

test('100,000 traced requests leaving listeners on one emitter cost a fixed few hundred bytes each, whatever their spans carried', async (t) => {
  // One at a time: heap figures from processes competing for two cores are still exact, but
  // three at once would only slow the machine the other tests run on.
  const untraced = await growth('untraced');
  const traced = await growth('traced');
  const bare = await growth('bare');
  const figures = `untraced ${(untraced / MiB).toFixed(1)} MiB, traced ${(traced / MiB).toFixed(1)} MiB, traced without metadata ${(bare / MiB).toFixed(1)} MiB`;
  const perListener = (traced - untraced) / REQUESTS;
  t.diagnostic(`${figures}; ${perListener.toFixed(0)} bytes per listener above the app's own`);
  assert.ok(perListener <= MAX_BYTES_PER_LISTENER, `${perListener.toFixed(0)} bytes per listener above the app's own (${figures})`);
  assert.ok(Math.abs(traced - bare) <= MAX_CONTENT_DEPENDENT, `the spans' content changed the heap by ${((traced - bare) / MiB).toFixed(1)} MiB (${figures})`);
});
