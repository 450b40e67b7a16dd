/**
 * Logs and issues (docs/query-api.md, "Logs and issues") checked against a collector process over
 * HTTP only: batches sealed with the project's key and POSTed, answers read from the query API.
 * logs-api-sqlite.test.ts and logs-api-clickhouse.test.ts run this same suite, so both stores
 * must answer the same JSON to the same batches.
 *
 * The errors are real Error objects thrown from two functions of this file, their stacks made
 * relative to the working directory as the agent sends them: the same function failing for
 * other orders, requests and times must be one issue, the other function another. Times are a
 * few minutes before now, so the hourly counts and a regression (an occurrence after the issue
 * was resolved) are seen in the present.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fingerprintError, fingerprintLog, fingerprintSpan } from '../../src/collector/issues/fingerprint';
import { encodeBatch, INGEST_PATHS } from '../../src/wire/batch-codec';
import type { WireLog, WireResource, WireSpan } from '../../src/wire/batch-codec';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import type { CollectorProcess } from '../helpers/collector';
import { envelopeVectors } from '../helpers/vectors';
import { waitFor } from '../helpers/wait';
import { post } from './query-suite';

const vectors = envelopeVectors();
const HOUR = 3_600_000;
/** The suite's clock: every time is a few minutes before the suite started. */
const T0 = Date.now() - 10 * 60_000;

class PaymentError extends Error {
  override name = 'PaymentError';
}

/** Stacks as the agent sends them: paths relative to the process's working directory. */
function relativeStack(error: Error): string {
  return error.stack!.split(`${process.cwd()}/`).join('');
}

function chargeCard(order: number, at: string): Error {
  try {
    throw new PaymentError(`payment for order ${order} (request ${randomUUID()}) failed at ${at}`);
  } catch (err) {
    return err as Error;
  }
}

function refundCard(order: number, at: string): Error {
  try {
    throw new PaymentError(`payment for order ${order} (request ${randomUUID()}) failed at ${at}`);
  } catch (err) {
    return err as Error;
  }
}

// One call site each, so each function's errors have the same frames; the last of each is sent
// by the status tests (a regression, an ignored issue occurring again).
const CHARGE_ERRORS = [123, 456, 789, 1011].map((order, i) => chargeCard(order, i % 2 === 0 ? new Date(T0 + i * 1000).toISOString() : String(T0 + i)));
const REFUND_ERRORS = [77, 78, 79].map((order) => refundCard(order, new Date(T0).toISOString()));

const traceId = (n: number): string => `10c5${n.toString(16).padStart(4, '0')}`.padEnd(32, 'a');
const spanId = (n: number): string => n.toString(16).padStart(32, '0');

function resource(service: string, pid: number): WireResource {
  return { service, environment: 'test', host: 'h1', pid, sdk: { name: 'teracron-node', version: '0.1.0' }, runtime: { name: 'node', version: '20' } };
}

function log(at: number, level: string, message: string, overrides: Partial<WireLog> = {}): WireLog {
  return { timestamp: T0 + at, level, message, module: null, trace_id: null, span_id: null, extra: {}, error_type: null, error_message: null, stack: null, ...overrides };
}

function errorLog(at: number, message: string, error: Error, trace: number | null): WireLog {
  return log(at, 'error', message, {
    module: 'pay', error_type: error.name, error_message: error.message, stack: relativeStack(error),
    trace_id: trace === null ? null : traceId(trace), span_id: trace === null ? null : spanId(trace),
  });
}

const SHOP = resource('shop', 4242);
const PAYMENTS = resource('payments', 5151);
/** Batch A (shop) then batch B (payments); L[n] is the n-th log sent. */
const BATCH_A = 'b1'.repeat(16);
const BATCH_B = 'b2'.repeat(16);
const LOGS_A: WireLog[] = [
  log(0, 'debug', 'cache warm', { module: 'cache' }),
  log(1000, 'info', 'GET /cart 200', { module: 'http', trace_id: traceId(1), span_id: spanId(1), extra: { status: 200, path: '/cart', cached: false } }),
  log(2000, 'warn', 'slow query 350 ms', { module: 'db' }),
  errorLog(3000, 'checkout failed', CHARGE_ERRORS[0]!, 2),
  log(3000, 'info', 'same millisecond A', { module: 'http' }),
  log(3000, 'info', 'same millisecond B', { module: 'http' }),
  errorLog(4000, 'checkout failed', CHARGE_ERRORS[1]!, 3),
  errorLog(5000, 'refund failed', REFUND_ERRORS[0]!, null),
];
const LOGS_B: WireLog[] = [
  errorLog(6000, 'checkout failed', CHARGE_ERRORS[2]!, 4),
  log(7000, 'fatal', 'worker 7 crashed', { module: 'worker' }),
  errorLog(8000, 'refund failed', REFUND_ERRORS[1]!, 5),
];
/** Every log with the resource it was sent with, oldest first in sending order. */
const SENT = [...LOGS_A.map((l) => ({ log: l, resource: SHOP })), ...LOGS_B.map((l) => ({ log: l, resource: PAYMENTS }))];
/** SENT indexes, newest first: by timestamp, then the later sent first. */
const NEWEST_FIRST = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0];

function rootSpan(n: number, at: number, operation: string, errorType: string | null, errorMessage: string | null, status: WireSpan['status'] = 'failed'): WireSpan {
  return {
    trace_id: traceId(100 + n), span_id: spanId(100 + n), parent_span_id: null, workflow: 'checkout', operation, status, started_at: T0 + at, duration_ms: 5,
    error_type: errorType, error_message: errorMessage, metadata: {}, captured_params: {},
  };
}

const BATCH_SPANS = 'b3'.repeat(16);
const SPANS: WireSpan[] = [
  rootSpan(1, 10_000, 'charge', 'CardError', 'card 4242 declined for order 17'),
  rootSpan(2, 11_000, 'charge', 'CardError', 'card 1111 declined for order 18'),
  rootSpan(3, 12_000, 'charge', 'CardError', 'card 5555 declined for order 19'),
  rootSpan(4, 13_000, 'refund', 'CardError', 'card 4242 declined for order 20'),
  // A failure without an error and a success: no issue.
  rootSpan(5, 14_000, 'charge', null, null),
  rootSpan(6, 15_000, 'charge', null, null, 'succeeded'),
];

const logBatch = (batchId: string, logs: WireLog[], res: WireResource): Uint8Array =>
  encodeBatch({ type: 'log', project_slug: vectors.slug, batch_id: batchId, logs, resource: res }, 'msgpack');

export async function postLogs(url: string, batchId: string, logs: WireLog[], res: WireResource): Promise<any> {
  const answer = await post(url, INGEST_PATHS.log, logBatch(batchId, logs, res));
  assert.equal(answer.status, 202, JSON.stringify(answer.body));
  return answer.body;
}

async function postSpans(url: string, batchId: string, spans: WireSpan[]): Promise<any> {
  const answer = await post(url, INGEST_PATHS.trace, encodeBatch({ type: 'trace', project_slug: vectors.slug, batch_id: batchId, spans, resource: SHOP }, 'msgpack'));
  assert.equal(answer.status, 202, JSON.stringify(answer.body));
  return answer.body;
}

/** Sends the suite's batches; shared with the CLI tests. */
export async function sendLogsSuiteData(url: string): Promise<void> {
  assert.equal((await postLogs(url, BATCH_A, LOGS_A, SHOP)).accepted, LOGS_A.length);
  assert.equal((await postLogs(url, BATCH_B, LOGS_B, PAYMENTS)).accepted, LOGS_B.length);
  assert.equal((await postSpans(url, BATCH_SPANS, SPANS)).accepted, SPANS.length);
}

const errorFingerprint = (e: Error): string => fingerprintError({ type: e.name, message: e.message, stack: relativeStack(e) }).fingerprint;
/** The issues the suite's batches make, by what made them. */
export const ISSUES = {
  charge: errorFingerprint(CHARGE_ERRORS[0]!),
  refund: errorFingerprint(REFUND_ERRORS[0]!),
  crash: fingerprintError({ message: 'worker 7 crashed' }).fingerprint,
  chargeSpan: fingerprintSpan(SPANS[0]!)!.fingerprint,
  refundSpan: fingerprintSpan(SPANS[3]!)!.fingerprint,
};

/** SENT[i] as the API answers it, but for its id. */
function expectedLog(i: number): Record<string, unknown> {
  const { log: l, resource: r } = SENT[i]!;
  return { ...l, service: r.service, environment: r.environment, host: r.host, pid: r.pid, fingerprint: fingerprintLog(l)?.fingerprint ?? null };
}

const withoutId = (logs: Array<Record<string, unknown>>): Array<Record<string, unknown>> => logs.map(({ id: _id, ...rest }) => rest);

/** Which SENT log an answered one is, by its time and message, which tell them apart (-1: none). */
function sentIndexes(logs: Array<{ timestamp: number; message: string }>): number[] {
  const keys = SENT.map(({ log: l }) => `${l.timestamp} ${l.message}`);
  return logs.map((l) => keys.indexOf(`${l.timestamp} ${l.message}`));
}

export function defineLogsSuite(storeArg: () => string | Promise<string>): void {
  let collector: CollectorProcess;
  const get = async (path: string): Promise<any> => {
    const res = await query(collector.url, path);
    assert.equal(res.status, 200, `${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const refused = async (path: string, status: number, pattern: RegExp): Promise<void> => {
    const res = await query(collector.url, path);
    assert.equal(res.status, status, `${path}: ${JSON.stringify(res.body)}`);
    assert.match(res.body.error, pattern, path);
    assert.equal(typeof res.body.hint, 'string', path);
  };
  const patch = async (fingerprint: string, body: string, apiKey: string | null = vectors.api_key): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${collector.url}/api/v1/issues/${fingerprint}`, {
      method: 'PATCH',
      body,
      headers: { 'content-type': 'application/json', ...(apiKey === null ? {} : { authorization: `Bearer ${apiKey}` }) },
    });
    return { status: response.status, body: await response.json() };
  };
  const logIds = async (path: string): Promise<number[]> => sentIndexes((await get(path)).logs);
  const issue = async (fingerprint: string): Promise<any> => (await get(`/api/v1/issues/${fingerprint}`)).issue;

  before(async () => {
    collector = await startCollectorProcess(vectorDataDir(), ['--store', await storeArg(), '--retention-days', '3650']);
    await sendLogsSuiteData(collector.url);
  });
  after(async () => {
    await collector?.stop();
  });

  test('grouping: one error from one place with other ids is one issue; another call site, another; failed spans group by workflow › operation', async (t) => {
    const { issues } = await get('/api/v1/issues');
    for (const i of issues) t.diagnostic(`issue ${i.fingerprint.slice(0, 12)} ${i.type}: ${i.message} ×${i.count} in ${i.services.join(', ')} [${i.frames[0] ?? ''}]`);
    assert.deepEqual(issues.map((i: any) => [i.fingerprint, i.count]), [
      [ISSUES.refundSpan, 1], [ISSUES.chargeSpan, 3], [ISSUES.refund, 2], [ISSUES.crash, 1], [ISSUES.charge, 3],
    ]);
    const [refundSpan, chargeSpan, refund, crash, charge] = issues;
    assert.deepEqual(charge, {
      fingerprint: ISSUES.charge, type: 'PaymentError', message: 'payment for order <num> (request <uuid>) failed at <timestamp>',
      status: 'open', regression: false, count: 3, first_seen: T0 + 3000, last_seen: T0 + 6000, services: ['payments', 'shop'],
      last_trace_id: traceId(4), frames: charge.frames, status_changed_at: null,
    });
    assert.match(charge.frames[0], /^chargeCard \((dist\/)?test\/collector\/logs-suite\.[jt]s:\d+\)$/);
    assert.match(refund.frames[0], /^refundCard \((dist\/)?test\/collector\/logs-suite\.[jt]s:\d+\)$/);
    assert.equal(refund.message, charge.message, 'the same message: only the call site tells them apart');
    assert.deepEqual([refund.count, refund.first_seen, refund.last_seen, refund.services, refund.last_trace_id], [2, T0 + 5000, T0 + 8000, ['payments', 'shop'], traceId(5)]);
    assert.deepEqual([crash.type, crash.message, crash.frames, crash.services, crash.last_trace_id], ['Error', 'worker <num> crashed', [], ['payments'], null]);
    assert.deepEqual([chargeSpan.type, chargeSpan.message, chargeSpan.frames, chargeSpan.services, chargeSpan.last_trace_id, chargeSpan.first_seen, chargeSpan.last_seen],
      ['CardError', 'card <num> declined for order <num>', ['checkout › charge'], ['shop'], traceId(103), T0 + 10_000, T0 + 12_000]);
    assert.deepEqual([refundSpan.frames, refundSpan.count], [['checkout › refund'], 1]);
    t.diagnostic(`${issues.length} issues from ${SENT.length} logs and ${SPANS.length} spans: counts ${issues.map((i: any) => i.count).join(', ')}`);
  });

  test('issues sort by count (then last seen) and filter by service; limit keeps the first', async () => {
    const byCount = await get('/api/v1/issues?sort=count');
    assert.deepEqual(byCount.issues.map((i: any) => i.fingerprint), [ISSUES.chargeSpan, ISSUES.charge, ISSUES.refund, ISSUES.refundSpan, ISSUES.crash]);
    const payments = await get('/api/v1/issues?service=payments');
    assert.deepEqual(payments.issues.map((i: any) => i.fingerprint), [ISSUES.refund, ISSUES.crash, ISSUES.charge]);
    assert.deepEqual((await get('/api/v1/issues?sort=count&limit=2')).issues.map((i: any) => i.fingerprint), [ISSUES.chargeSpan, ISSUES.charge]);
    assert.deepEqual((await get('/api/v1/issues?status=open&service=nobody')).issues, []);
  });

  test('logs: newest first (a batch\'s later log first within a millisecond), every field as sent, error logs with their issue', async () => {
    const { logs, next_cursor } = await get('/api/v1/logs');
    assert.equal(next_cursor, null);
    assert.deepEqual(withoutId(logs), NEWEST_FIRST.map(expectedLog));
    assert.equal(new Set(logs.map((l: { id: string }) => l.id)).size, logs.length, 'ids are unique');
    for (const l of logs) assert.equal(typeof l.id, 'string');
  });

  test('logs filter by minimum level, service, module, text in the message or the error, trace, and time', async () => {
    assert.deepEqual(await logIds('/api/v1/logs?level=warn'), [10, 9, 8, 7, 6, 3, 2]);
    assert.deepEqual(await logIds('/api/v1/logs?level=error'), [10, 9, 8, 7, 6, 3]);
    assert.deepEqual(await logIds('/api/v1/logs?level=fatal'), [9]);
    assert.deepEqual(await logIds('/api/v1/logs?level=debug'), NEWEST_FIRST);
    assert.deepEqual(await logIds('/api/v1/logs?service=payments'), [10, 9, 8]);
    assert.deepEqual(await logIds('/api/v1/logs?module=http'), [5, 4, 1]);
    assert.deepEqual(await logIds('/api/v1/logs?q=CHECKOUT'), [8, 6, 3]);
    assert.deepEqual(await logIds('/api/v1/logs?q=Request'), [10, 8, 7, 6, 3], 'the error message is searched too');
    assert.deepEqual(await logIds(`/api/v1/logs?trace_id=${traceId(2)}`), [3]);
    assert.deepEqual(await logIds(`/api/v1/logs?trace_id=${traceId(2)}&level=error`), [3]);
    assert.deepEqual(await logIds(`/api/v1/logs?trace_id=${traceId(1)}&level=warn`), []);
    assert.deepEqual(await logIds(`/api/v1/logs?from=${T0 + 3000}&to=${T0 + 5000}`), [7, 6, 5, 4, 3]);
    assert.deepEqual(await logIds(`/api/v1/logs?from=${new Date(T0 + 7000).toISOString()}`), [10, 9]);
    assert.deepEqual(await logIds('/api/v1/logs?level=error&service=shop&limit=2'), [7, 6]);
    assert.deepEqual(await logIds('/api/v1/logs?module=nothing'), []);
  });

  test('logs page by cursor: every log exactly once, in order, across logs that share a millisecond', async () => {
    for (const [filters, expected] of [['', NEWEST_FIRST], ['&level=warn', [10, 9, 8, 7, 6, 3, 2]], ['&module=http', [5, 4, 1]]] as const) {
      for (const limit of [1, 2, 3]) {
        const seen: number[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const path: string = `/api/v1/logs?limit=${limit}${filters}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
          const page = await get(path);
          assert.ok(page.logs.length <= limit);
          seen.push(...sentIndexes(page.logs));
          cursor = page.next_cursor;
          pages++;
        } while (cursor !== null && pages < 20);
        assert.deepEqual(seen, expected, `limit=${limit}${filters}`);
        assert.equal(pages, Math.ceil(expected.length / limit), `limit=${limit}${filters}: no empty last page`);
      }
    }
  });

  test('an issue: the summary as listed, the latest message and stack, hourly counts with empty hours, the latest occurrences', async () => {
    const detail = await get(`/api/v1/issues/${ISSUES.charge}`);
    const listed = (await get('/api/v1/issues')).issues.find((i: any) => i.fingerprint === ISSUES.charge);
    assert.deepEqual(detail.issue, listed);
    assert.equal(detail.latest_message, CHARGE_ERRORS[2]!.message);
    assert.equal(detail.latest_stack, relativeStack(CHARGE_ERRORS[2]!));
    assert.deepEqual(detail.occurrences, [
      { timestamp: T0 + 6000, source: 'log', level: 'error', service: 'payments', message: CHARGE_ERRORS[2]!.message, trace_id: traceId(4), span_id: spanId(4) },
      { timestamp: T0 + 4000, source: 'log', level: 'error', service: 'shop', message: CHARGE_ERRORS[1]!.message, trace_id: traceId(3), span_id: spanId(3) },
      { timestamp: T0 + 3000, source: 'log', level: 'error', service: 'shop', message: CHARGE_ERRORS[0]!.message, trace_id: traceId(2), span_id: spanId(2) },
    ]);
    assertHourly(detail.hourly, 24, [T0 + 3000, T0 + 4000, T0 + 6000]);
    assertHourly((await get(`/api/v1/issues/${ISSUES.charge}?hours=2`)).hourly, 2, [T0 + 3000, T0 + 4000, T0 + 6000]);
    assert.equal((await get(`/api/v1/issues/${ISSUES.charge}?hours=100000`)).hourly.length, 720);

    const span = await get(`/api/v1/issues/${ISSUES.chargeSpan}`);
    assert.deepEqual([span.latest_message, span.latest_stack], ['card 5555 declined for order 19', null]);
    assert.deepEqual(span.occurrences.map((o: any) => [o.source, o.level, o.service, o.trace_id, o.span_id]), [3, 2, 1].map((n) => ['span', null, 'shop', traceId(100 + n), spanId(100 + n)]));
    const crash = await get(`/api/v1/issues/${ISSUES.crash}`);
    assert.deepEqual([crash.latest_message, crash.latest_stack, crash.occurrences[0].level], ['worker 7 crashed', null, 'fatal']);
  });

  test('refusals: a bad parameter, cursor, fingerprint or hours is a 400 naming it; an unknown issue is a 404', async () => {
    await refused('/api/v1/logs?level=loud', 400, /level="loud" is not a log level/);
    await refused('/api/v1/logs?trace_id=abc', 400, /trace_id="abc" is not a whole trace id/);
    await refused(`/api/v1/logs?trace_id=${traceId(2).toUpperCase()}`, 400, /is not a whole trace id/);
    await refused('/api/v1/logs?cursor=garbage!', 400, /cursor="garbage!" is not a cursor this API gave/);
    await refused(`/api/v1/logs?cursor=${Buffer.from('12.x y').toString('base64url')}`, 400, /is not a cursor this API gave/);
    await refused('/api/v1/logs?from=yesterday', 400, /from="yesterday" is neither unix milliseconds nor an ISO 8601 time/);
    await refused('/api/v1/logs?limit=many', 400, /limit="many" is not a number/);
    await refused('/api/v1/issues?status=closed', 400, /status="closed" is not an issue status/);
    await refused('/api/v1/issues?sort=oldest', 400, /sort="oldest" is not a sort of issues/);
    await refused('/api/v1/issues/XYZ', 400, /fingerprint "XYZ" is not 64 lowercase hex characters/);
    await refused(`/api/v1/issues/${ISSUES.charge.toUpperCase()}`, 400, /is not 64 lowercase hex characters/);
    await refused(`/api/v1/issues/${ISSUES.charge}?hours=lots`, 400, /hours="lots" is not a whole number/);
    await refused(`/api/v1/issues/${'0'.repeat(64)}`, 404, new RegExp(`no issue ${'0'.repeat(64)} in project ${vectors.slug}`));
    assert.equal((await query(collector.url, '/api/v1/logs', null)).status, 401);
    assert.equal((await query(collector.url, '/api/v1/issues', null)).status, 401);
  });

  test('PATCH refusals: a body that is not {"status": …} is a 400 naming the problem; no key 401; unknown 404; too large 413', async () => {
    const cases: Array<[string, RegExp]> = [
      ['', /the body is empty/],
      ['{"status": ', /the body is not JSON/],
      ['["resolved"]', /the body is an array, not an object/],
      ['"resolved"', /the body is a string, not an object/],
      ['{}', /the body has no "status"/],
      ['{"status": "closed"}', /"status" "closed" is not an issue status/],
      ['{"status": 1}', /"status" 1 is not an issue status/],
      ['{"status": "open", "note": "x"}', /the body has keys other than "status": "note"/],
    ];
    for (const [body, pattern] of cases) {
      const res = await patch(ISSUES.crash, body);
      assert.equal(res.status, 400, `${body}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.error, pattern, body);
      assert.match(res.body.hint, /\{"status": "resolved"\}/, body);
    }
    assert.equal((await patch(ISSUES.crash, '{"status": "resolved"}', null)).status, 401);
    assert.equal((await patch('not-hex', '{"status": "resolved"}')).status, 400);
    assert.equal((await patch('0'.repeat(64), '{"status": "resolved"}')).status, 404);
    assert.equal((await patch(ISSUES.crash, JSON.stringify({ status: 'resolved', pad: 'x'.repeat(4096) }))).status, 413);
    assert.equal((await issue(ISSUES.crash)).status_changed_at, null, 'nothing refused changed the issue');
  });

  test('a batch sent again is a duplicate: no log stored twice, no occurrence counted twice', async () => {
    const again = await postLogs(collector.url, BATCH_A, LOGS_A, SHOP);
    assert.deepEqual(again, { accepted: 0, dropped: LOGS_A.length, duplicate: true });
    const spans = await postSpans(collector.url, BATCH_SPANS, SPANS);
    assert.equal(spans.duplicate, true);
    assert.equal((await get('/api/v1/logs?limit=1000')).logs.length, SENT.length);
    const { issues } = await get('/api/v1/issues');
    assert.deepEqual(issues.map((i: any) => i.count), [1, 3, 2, 1, 3]);
    assert.equal((await get(`/api/v1/issues/${ISSUES.charge}`)).occurrences.length, 3);
  });

  test('resolve, then an occurrence after it: open again as a regression; open clears it, as does resolving again', async () => {
    const resolved = await patch(ISSUES.charge, '{"status": "resolved"}');
    assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
    assert.deepEqual([resolved.body.issue.status, resolved.body.issue.regression, resolved.body.issue.count], ['resolved', false, 3]);
    const resolvedAt = resolved.body.issue.status_changed_at;
    assert.ok(Math.abs(resolvedAt - Date.now()) < 60_000, `status_changed_at ${resolvedAt} is now`);
    const listed = async (status: string): Promise<string[]> => (await get(`/api/v1/issues?status=${status}`)).issues.map((i: any) => i.fingerprint);
    assert.ok((await listed('resolved')).includes(ISSUES.charge));
    assert.ok(!(await listed('open')).includes(ISSUES.charge));

    // Resolved at the collector's clock, which is this machine's: a millisecond later is after it.
    const later = Date.now() + 1;
    await postLogs(collector.url, 'b4'.repeat(16), [{ ...errorLog(0, 'checkout failed', CHARGE_ERRORS[3]!, 6), timestamp: later }], PAYMENTS);
    const regressed = await issue(ISSUES.charge);
    assert.deepEqual([regressed.status, regressed.regression, regressed.count, regressed.last_seen, regressed.last_trace_id], ['open', true, 4, later, traceId(6)]);
    assert.equal(regressed.status_changed_at, resolvedAt);
    assert.ok((await listed('open')).includes(ISSUES.charge), 'status=open lists a regression');
    assert.ok(!(await listed('resolved')).includes(ISSUES.charge), 'status=resolved leaves it out');

    const reopened = await patch(ISSUES.charge, '{"status": "open"}');
    assert.deepEqual([reopened.body.issue.status, reopened.body.issue.regression], ['open', false]);
    await waitFor('the clock to pass the last occurrence', () => Date.now() > later + 1);
    const again = await patch(ISSUES.charge, '{"status": "resolved"}');
    assert.deepEqual([again.body.issue.status, again.body.issue.regression], ['resolved', false]);
  });

  test('an ignored issue still counts occurrences and stays ignored', async () => {
    const ignored = await patch(ISSUES.refund, '{"status": "ignored"}');
    assert.deepEqual([ignored.body.issue.status, ignored.body.issue.regression], ['ignored', false]);
    await postLogs(collector.url, 'b5'.repeat(16), [{ ...errorLog(0, 'refund failed', REFUND_ERRORS[2]!, null), timestamp: Date.now() + 1 }], SHOP);
    const after = await issue(ISSUES.refund);
    assert.deepEqual([after.status, after.regression, after.count], ['ignored', false, 3]);
    assert.deepEqual((await get('/api/v1/issues?status=ignored')).issues.map((i: any) => i.fingerprint), [ISSUES.refund]);
    assert.ok(!(await get('/api/v1/issues?status=open')).issues.some((i: any) => i.fingerprint === ISSUES.refund));
  });
}

/** `hours` consecutive hours ending with the present one, each counting the times that fall in it. */
function assertHourly(hourly: Array<{ hour: number; count: number }>, hours: number, times: number[]): void {
  assert.equal(hourly.length, hours);
  for (let i = 1; i < hours; i++) assert.equal(hourly[i]!.hour - hourly[i - 1]!.hour, HOUR, 'consecutive hours');
  const last = hourly[hours - 1]!.hour;
  assert.ok(last <= Date.now() && Date.now() - last < 2 * HOUR, 'the last hour is the present one');
  const expected = new Map<number, number>();
  for (const time of times) {
    const hour = Math.floor(time / HOUR) * HOUR;
    if (hour >= hourly[0]!.hour) expected.set(hour, (expected.get(hour) ?? 0) + 1);
  }
  assert.deepEqual(hourly.filter((h) => h.count > 0), [...expected].sort(([a], [b]) => a - b).map(([hour, count]) => ({ hour, count })));
}
