/**
 * The collector against uploads anyone knowing a slug can make (the slug is public): stalled
 * bodies within a memory budget, a cap on one project's uploads in flight, an idle timeout, and
 * refusals charged to the client's address rather than to the project. Real collector process,
 * raw sockets for the stalled uploads.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { test } from 'node:test';
import { Packr } from 'msgpackr';
import { encodeBatch, newBatchId } from '../../src/wire/batch-codec';
import { loadPublicKey, sealEnvelope } from '../../src/wire/envelope';
import { fileTimeout } from '../helpers/file-timeout';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import { envelopeVectors } from '../helpers/vectors';
import { UPLOAD_OVERHEAD_BYTES } from '../../src/collector/upload-admission';
import { waitFor } from '../helpers/wait';
import { stalledUpload } from '../../support/stalled-upload';

fileTimeout(120_000);

const vectors = envelopeVectors();
const MiB = 1024 * 1024;

function sealedTrace(workflow: string): Buffer {
  const spans = [{ trace_id: newBatchId(), span_id: newBatchId(), parent_span_id: null, workflow, operation: 'op', status: 'succeeded' as const, started_at: Date.now(), duration_ms: 1, error_type: null, error_message: null, metadata: {}, captured_params: {} }];
  return sealEnvelope(encodeBatch({ type: 'trace', project_slug: vectors.slug, batch_id: newBatchId(), spans }, 'json'), loadPublicKey(vectors.public_key_pem));
}

/** POSTs `body` with node:http from `localAddress`; resolves with the status and the answer. */
function post(url: string, body: Buffer, localAddress = '127.0.0.1'): Promise<{ status: number; text: string; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/api/v1/traces`, { method: 'POST', localAddress, headers: { 'x-project-slug': vectors.slug, 'content-type': 'application/octet-stream', 'content-length': body.length } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, text, retryAfter: res.headers['retry-after'] as string | undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Peak resident memory of a process (VmHWM), in bytes. */
function peakRss(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

test('stalled uploads hold no more than --max-buffered-bytes: the rest are answered 503 at once, the held ones 408 after --body-idle-ms', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
  const budget = 32 * MiB;
  const declared = 4 * MiB;
  const uploads = 40;
  const collector = await startCollectorProcess(vectorDataDir(), ['--max-body-bytes', String(declared), '--max-buffered-bytes', String(budget), '--max-uploads-per-project', '1000', '--body-idle-ms', '2000']);
  try {
    // A first batch brings in everything ingest loads, so the peak below is the uploads' doing.
    assert.equal((await post(collector.url, sealedTrace('warm-up'))).status, 202);
    const before = peakRss(collector.child.pid!);

    // Each sends all but its last byte, then stalls: without a budget the collector would hold
    // 40 × 4 MiB = 160 MiB until the request timeout.
    const stalled = Array.from({ length: uploads }, () => stalledUpload(collector.url, vectors.slug, declared, declared - 1));
    const statuses = await Promise.all(stalled.map((upload) => upload.status));
    const rise = peakRss(collector.child.pid!) - before;

    const admitted = Math.floor(budget / (declared + UPLOAD_OVERHEAD_BYTES));
    // A refused upload's body is not read: the collector answers 503 and closes, and a sender
    // still writing may see the reset before the answer (null), which it retries like a 503.
    assert.equal(statuses.filter((status) => status === 408).length, admitted, `exactly ${admitted} uploads fit the budget; statuses ${statuses.join(',')}`);
    assert.ok(statuses.every((status) => status === 408 || status === 503 || status === null), `statuses ${statuses.join(',')}`);
    assert.ok(statuses.includes(503), `statuses ${statuses.join(',')}`);
    // The held bodies and their connections are the budget; the slack covers the code and heap
    // the first refusals bring in, not another body. Copying chunks into one buffer per body
    // measured 62–66 MiB.
    assert.ok(rise <= budget + 16 * MiB, `peak RSS rose ${(rise / MiB).toFixed(1)} MiB with a ${budget / MiB} MiB budget`);

    // Everything held was given back: a whole batch is accepted again.
    const after = await post(collector.url, sealedTrace('after-the-attack'));
    assert.equal(after.status, 202, after.text);
  } finally {
    await collector.stop();
  }
});

test('a 503 for the budget names the bytes held and the flag, with Retry-After', async () => {
  const budget = MiB + UPLOAD_OVERHEAD_BYTES;
  const collector = await startCollectorProcess(vectorDataDir(), ['--max-body-bytes', String(MiB), '--max-buffered-bytes', String(budget), '--body-idle-ms', '60000']);
  const holder = stalledUpload(collector.url, vectors.slug, MiB, 10);
  try {
    // The holder is admitted once the collector has read its headers: until then a whole batch
    // still fits, so ask until the budget is seen as taken.
    const refused = await waitFor('a batch refused for the budget', async () => {
      const answer = await post(collector.url, sealedTrace('squeezed'));
      return answer.status === 503 ? answer : undefined;
    });
    assert.equal(refused.retryAfter, '1');
    const { error, hint } = JSON.parse(refused.text) as { error: string; hint: string };
    assert.match(error, new RegExp(`holding ${budget} bytes for request bodies and this one \\(\\d+ bytes, and ${UPLOAD_OVERHEAD_BYTES} for its connection\\) would pass its budget of ${budget}`));
    assert.match(hint, /--max-buffered-bytes/);
  } finally {
    holder.socket.destroy();
    await collector.stop();
  }
});

test('one project has at most --max-uploads-per-project uploads in flight: the next is answered 429', async () => {
  const collector = await startCollectorProcess(vectorDataDir(), ['--max-uploads-per-project', '2', '--body-idle-ms', '1500']);
  try {
    const stalled = Array.from({ length: 3 }, () => stalledUpload(collector.url, vectors.slug, 1000, 10));
    const statuses = await Promise.all(stalled.map((upload) => upload.status));
    assert.deepEqual([...statuses].sort(), [408, 408, 429], `statuses ${statuses.join(',')}`);
    assert.equal((await post(collector.url, sealedTrace('after-the-cap'))).status, 202);
  } finally {
    await collector.stop();
  }
});

test('garbage sent with a known slug spends the sender address\'s refusal budget, never the project\'s rate', { skip: process.platform !== 'linux' && 'needs 127.0.0.2 on the loopback interface' }, async () => {
  // Bursts of 4 a project: before the project was charged after decryption, the garbage below
  // used them up and the valid batches were answered 429.
  const collector = await startCollectorProcess(vectorDataDir(), ['--ingest-rate', '1']);
  try {
    const garbage = Buffer.alloc(700, 0x42);
    for (let i = 0; i < 20; i++) {
      const answer = await post(collector.url, garbage, '127.0.0.2');
      assert.equal(answer.status, 401, answer.text);
    }
    for (let i = 0; i < 4; i++) {
      const answer = await post(collector.url, sealedTrace('valid-despite-garbage'));
      assert.equal(answer.status, 202, `valid batch ${i}: ${answer.text}`);
    }

    // The address that keeps failing is refused before any decryption; another is not.
    const refused = await waitFor('the garbage address refused before decryption', async () => {
      const answers = await Promise.all(Array.from({ length: 20 }, () => post(collector.url, garbage, '127.0.0.2')));
      return answers.find((answer) => answer.status === 429);
    });
    assert.match(JSON.parse(refused.text).error, /too many refused requests from (::ffff:)?127\.0\.0\.2/);
    assert.match(String(refused.retryAfter), /^[1-9]\d*$/);
    const elsewhere = await post(collector.url, garbage, '127.0.0.1');
    assert.equal(elsewhere.status, 401, 'another address is still heard');
    assert.equal((await query(collector.url, '/v1/auth/whoami')).status, 200);
  } finally {
    await collector.stop();
  }
});

test('an id whose percent-escapes do not decode is answered 400, not 500', async () => {
  const collector = await startCollectorProcess(vectorDataDir());
  try {
    for (const path of ['/api/v1/traces/%E0%A4%A', '/api/v1/traces/%ZZ', '/api/v1/spans/%C0']) {
      const answer = await query(collector.url, path);
      assert.equal(answer.status, 400, `${path}: ${JSON.stringify(answer.body)}`);
      assert.match(answer.body.error, /is not lowercase hex/);
    }
  } finally {
    await collector.stop();
  }
});

test('a msgpack batch holding a map of half a million keys is refused 400 naming its size, without being decoded', async () => {
  const collector = await startCollectorProcess(vectorDataDir());
  try {
    const bomb: Record<string, number> = {};
    for (let i = 0; i < 500_000; i++) bomb[i.toString(36)] = i;
    const plaintext = new Packr({ useRecords: false, variableMapSize: true }).pack({ type: 'trace', project_slug: vectors.slug, batch_id: newBatchId(), spans: [{ metadata: bomb }] });
    const answer = await post(collector.url, sealEnvelope(plaintext, loadPublicKey(vectors.public_key_pem)));
    assert.equal(answer.status, 400, answer.text);
    assert.match(JSON.parse(answer.text).error, /holds a map of 500000 entries: no SPEC batch has more than 64/);
    assert.equal((await query(collector.url, '/v1/auth/whoami')).status, 200);
  } finally {
    await collector.stop();
  }
});
