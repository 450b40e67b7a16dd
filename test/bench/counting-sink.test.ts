/**
 * The pipeline bench's counting sink takes what a real agent sends (trace batches and the
 * metrics batch every process ships at exit) and still says which endpoint received a body it
 * could not read, and why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { TeracronClient } from '../../src/client';
import { encodeBatch, newBatchId } from '../../src/wire/batch-codec';
import { sealEnvelope } from '../../src/wire/envelope';
import type { SinkCount, SinkMessage, SinkRequest } from '../../bench/counting-sink';
import { describeUnreadable } from '../../bench/ingest-reader';
import { benchProject } from '../../bench/project';
import { fileTimeout } from '../helpers/file-timeout';
import { EXIT_BUDGET_MS } from '../helpers/child';

fileTimeout(120_000);

const SINK = join(__dirname, '..', '..', 'bench', 'counting-sink.js');

function startSink(pemPath: string): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(SINK, ['teracron', pemPath], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (message: SinkMessage) => (message.type === 'ready' ? resolve({ child, url: message.url }) : reject(new Error(`expected ready, got ${message.type}`))));
    child.once('exit', (code) => reject(new Error(`the counting sink exited (${code}) before listening`)));
  });
}

function count(child: ChildProcess): Promise<SinkCount> {
  return new Promise((resolve) => {
    child.once('message', (message: SinkMessage) => resolve(message as SinkCount));
    child.send({ type: 'count' } satisfies SinkRequest);
  });
}

test('the counting sink counts an agent\'s spans and its exit metrics batch, and names the endpoint of an unreadable body', { timeout: 120_000 }, async (t) => {
  const project = await benchProject();
  const { child, url } = await startSink(project.pemPath);
  t.after(() => child.kill());

  const client = new TeracronClient({ apiKey: project.apiKey, domain: url, exitTimeoutMs: EXIT_BUDGET_MS }).start();
  for (let i = 0; i < 25; i++) client.recordSpan({ workflow: 'sink-test', operation: `op-${i}` });
  await client.stop();
  const stats = client.stats();
  assert.equal(stats.sent, 25, `the agent sent ${stats.sent} of 25 spans (last error: ${stats.lastError})`);
  assert.ok(stats.metricsSent > 0, 'the agent shipped no metrics at stop: this test needs a metrics batch to arrive');

  const garbage = await fetch(`${url}/api/ingest`, { method: 'POST', body: 'not an envelope' });
  assert.equal(garbage.status, 400);
  const misrouted = sealEnvelope(encodeBatch({ type: 'trace', project_slug: project.slug, batch_id: newBatchId(), spans: [] }, 'msgpack'), project.publicKey);
  assert.equal((await fetch(`${url}/api/v1/events`, { method: 'POST', body: misrouted })).status, 400);

  const counted = await count(child);
  assert.equal(counted.spans, 25);
  assert.equal(counted.endpoints['/api/v1/traces']?.items, 25);
  assert.equal(counted.endpoints['/api/v1/traces']?.unreadable, 0);
  assert.equal(counted.endpoints['/api/ingest']?.items, stats.metricsSent, 'every metrics entry the agent sent was read');
  assert.equal(counted.endpoints['/api/ingest']?.unreadable, 1);
  assert.match(counted.endpoints['/api/ingest']?.firstError ?? '', /envelope/);
  assert.match(counted.endpoints['/api/v1/events']?.firstError ?? '', /a trace batch was sent to \/api\/v1\/events/);
  assert.match(describeUnreadable(counted.endpoints) ?? '', /^\/api\/ingest: 1 of \d+ unreadable \(first: .*envelope.*\); \/api\/v1\/events: 1 of 1 unreadable/);
});
