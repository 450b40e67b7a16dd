/**
 * Trace ids by prefix, as the dashboard shows them (8 characters): in the store a range scan of
 * the (project, trace_id) index that finds exactly the ids starting with the prefix, and in the
 * query API the one trace a prefix starts, a 409 listing the candidates when it starts several,
 * and a 400 below 8 characters.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { request } from 'undici';
import { CollectorStore } from '../../src/collector/store';
import { prefixRange } from '../../src/collector/store/id-prefix';
import { TRACE_IDS_IN_RANGE } from '../../src/collector/store/queries';
import { encodeBatch, newBatchId } from '../../src/wire/batch-codec';
import type { WireSpan } from '../../src/wire/batch-codec';
import { loadPublicKey, sealEnvelope } from '../../src/wire/envelope';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import type { CollectorProcess } from '../helpers/collector';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const TIMEOUT = { timeout: 60_000 };
const SLUG = 'vivid-kudu-655';

function span(traceId: string, spanId: string, parent: string | null = null, operation = 'op'): WireSpan {
  return {
    trace_id: traceId,
    span_id: spanId,
    parent_span_id: parent,
    workflow: 'checkout',
    operation,
    status: 'succeeded',
    started_at: 1_763_700_000_000,
    duration_ms: 1,
    error_type: null,
    error_message: null,
    metadata: {},
    captured_params: {},
  };
}

const pad = (prefix: string, fill = '0'): string => prefix.padEnd(32, fill);

// Neighbours on both sides of each range edge, so an off-by-one in either bound shows.
const IDS = [
  pad('79bb00e4', 'f'),
  pad('79bb00e5'),
  pad('79bb00e5a'),
  pad('79bb00e5a', 'f'),
  pad('79bb00e5b'),
  pad('79bb00e5c'),
  pad('79bb00e5', 'f'),
  pad('79bb00e6'),
  pad('ffffffff'),
  pad('ffffffff', 'f'),
];

test('a prefix is the byte range [prefix, prefix + 1), an odd one completed with 0, all-f open at the top', TIMEOUT, () => {
  assert.deepEqual(prefixRange('79bb00e5'), { low: Buffer.from('79bb00e5', 'hex'), high: Buffer.from('79bb00e6', 'hex') });
  assert.deepEqual(prefixRange('79bb00e5a'), { low: Buffer.from('79bb00e5a0', 'hex'), high: Buffer.from('79bb00e5b0', 'hex') });
  assert.deepEqual(prefixRange('79bb00ef'), { low: Buffer.from('79bb00ef', 'hex'), high: Buffer.from('79bb00f0', 'hex') });
  assert.deepEqual(prefixRange('abfff'), { low: Buffer.from('abfff0', 'hex'), high: Buffer.from('ac', 'hex') });
  assert.deepEqual(prefixRange('ffffffff'), { low: Buffer.from('ffffffff', 'hex'), high: null });
  assert.throws(() => prefixRange('79BB00E5'), RangeError);
});

test('the store finds exactly the trace ids that start with a prefix, in id order, up to the limit, in its own project', TIMEOUT, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'teracron-prefix-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = CollectorStore.open(join(dir, 'teracron.db'));
  t.after(() => store.close());
  store.insertBatch(SLUG, { kind: 'trace', batchId: null, resource: null, spans: IDS.map((id, i) => span(id, pad(i.toString(16)))), occurrences: [] });
  store.insertBatch('brave-lynx-101', { kind: 'trace', batchId: null, resource: null, spans: [span(pad('79bb00e5c'), pad('ee'))], occurrences: [] });

  const startingWith = (prefix: string): string[] => IDS.filter((id) => id.startsWith(prefix)).sort();
  for (const prefix of ['79bb00e5', '79bb00e5a', '79bb00e5af', '79bb00e4', '79bb00e6', 'ffffffff', 'fffffffff', '00000000', pad('79bb00e5a').slice(0, 31)]) {
    assert.deepEqual(store.traceIdsWithPrefix(SLUG, prefix, 100), startingWith(prefix), prefix);
  }
  assert.deepEqual(store.traceIdsWithPrefix(SLUG, '79bb00e5', 2), startingWith('79bb00e5').slice(0, 2));
  assert.deepEqual(store.traceIdsWithPrefix('brave-lynx-101', '79bb00e5', 10), [pad('79bb00e5c')]);
});

test('the prefix lookup is a range search of the runs_trace index, not a scan', TIMEOUT, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'teracron-prefix-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  CollectorStore.open(join(dir, 'teracron.db')).close();
  const db = new Database(join(dir, 'teracron.db'), { readonly: true });
  t.after(() => db.close());
  const plan = db
    .prepare(`EXPLAIN QUERY PLAN ${TRACE_IDS_IN_RANGE}`)
    .all(1, Buffer.from('79bb00e5', 'hex'), Buffer.from('79bb00e6', 'hex')) as Array<{ detail: string }>;
  const details = plan.map((row) => row.detail).join(' | ');
  assert.match(details, /^SEARCH runs USING COVERING INDEX runs_trace \(project=\? AND trace_id>\? AND trace_id<\?\)$/, details);
});

// ---- the query API ---------------------------------------------------------------------------

const vectors = envelopeVectors();
let collector: CollectorProcess;

before(async () => {
  // Its batches carry fixed dates (as do the Python-made vectors), which a collector keeping
  // the default 7 days would refuse as outside its retention.
  collector = await startCollectorProcess(vectorDataDir(), ['--retention-days', '3650']);
  const spans = [...IDS.map((id, i) => span(id, pad(`a${i.toString(16)}`))), span(IDS[1]!, pad('b1'), pad('a1'), 'child')];
  const body = sealEnvelope(encodeBatch({ type: 'trace', project_slug: vectors.slug, batch_id: newBatchId(), spans }, 'json'), loadPublicKey(vectors.public_key_pem));
  const res = await request(`${collector.url}/api/v1/traces`, { method: 'POST', body, headers: { 'x-project-slug': vectors.slug } });
  assert.equal(res.statusCode, 202);
  await res.body.dump();
}, TIMEOUT);
after(() => collector.stop(), TIMEOUT);

test('GET /api/v1/traces/<unique prefix> answers that trace with its full id', TIMEOUT, async () => {
  for (const prefix of ['79bb00e4', '79bb00e6', '79bb00e5b', '79bb00e50']) {
    const full = IDS.find((id) => id.startsWith(prefix))!;
    const { status, body } = await query(collector.url, `/api/v1/traces/${prefix}`);
    assert.equal(status, 200, prefix);
    assert.equal(body.trace_id, full, prefix);
    assert.deepEqual(body, (await query(collector.url, `/api/v1/traces/${full}`)).body, prefix);
  }
  const { body } = await query(collector.url, '/api/v1/traces/79bb00e50');
  assert.deepEqual(body.spans.map((s: WireSpan) => s.operation), ['op', 'child']);
});

test('an ambiguous prefix is a 409 whose JSON error lists the matching ids and asks for more characters', TIMEOUT, async () => {
  const { status, body } = await query(collector.url, '/api/v1/traces/79bb00e5a');
  assert.equal(status, 409);
  const matching = IDS.filter((id) => id.startsWith('79bb00e5a')).sort();
  assert.equal(matching.length, 2);
  assert.deepEqual(body.matches, matching);
  assert.equal(body.error, `trace id prefix 79bb00e5a is ambiguous: it starts 2 traces in project vivid-kudu-655 (${matching.join(', ')})`);
  assert.match(body.hint, /give more characters of the trace id/);
});

test('a prefix that starts more than 5 traces lists the first 5 and says there are more', TIMEOUT, async () => {
  const { status, body } = await query(collector.url, '/api/v1/traces/79bb00e5');
  assert.equal(status, 409);
  const first = IDS.filter((id) => id.startsWith('79bb00e5')).sort().slice(0, 5);
  assert.deepEqual(body.matches, first);
  assert.equal(body.error, `trace id prefix 79bb00e5 is ambiguous: it starts more than 5 traces in project vivid-kudu-655 (${first.join(', ')}, …)`);
});

test('a prefix shorter than 8 characters is a 400 that says 8 are needed', TIMEOUT, async () => {
  for (const prefix of ['7', '79bb00e']) {
    const { status, body } = await query(collector.url, `/api/v1/traces/${prefix}`);
    assert.equal(status, 400, prefix);
    assert.match(body.error, new RegExp(`trace id "${prefix}" has ${prefix.length} characters?: a trace id prefix needs at least 8`));
    assert.match(body.hint, /first 8 or more characters/);
  }
});

test('a prefix that starts no trace is a 404 naming it', TIMEOUT, async () => {
  const { status, body } = await query(collector.url, '/api/v1/traces/12345678');
  assert.equal(status, 404);
  assert.match(body.error, /no trace id in project vivid-kudu-655 starts with 12345678/);
});
