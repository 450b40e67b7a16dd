/**
 * The logs, issues and trace-logs views of the dashboard in headless Chromium, against a real
 * collector fed sealed log and trace batches over HTTP: what each page shows is checked against
 * the logs that were sent (levels, messages, order, filters, grouping into issues) and against
 * the query API's own answers. With TERACRON_SCREENSHOTS set to a directory, the test leaves
 * logs.png, issues.png and issue.png there (full page, 1280 wide).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { encodeBatch, INGEST_PATHS, newBatchId } from '../../src/wire/batch-codec';
import type { WireLog, WireSpan } from '../../src/wire/batch-codec';
import { loadPublicKey, sealEnvelope } from '../../src/wire/envelope';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import type { CollectorProcess } from '../helpers/collector';
import { fileTimeout } from '../helpers/file-timeout';
import { envelopeVectors } from '../helpers/vectors';
import { waitFor } from '../helpers/wait';

fileTimeout(240_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = process.env.TERACRON_SCREENSHOTS;
const TIMEOUT = { timeout: 90_000 };
const vectors = envelopeVectors();
const publicKey = loadPublicKey(vectors.public_key_pem);

// What the callbacks passed to page.evaluate / $$eval use inside the page: the tests compile
// without the DOM library, so the few names they need are declared here, for this file only.
interface PageElement {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  hidden: boolean;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
  getAttribute(name: string): string | null;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
  documentElement: { scrollWidth: number };
};
declare const location: { hash: string };
declare const window: { innerWidth: number };
declare const requestAnimationFrame: (callback: () => void) => number;

const TRACE = 'feedc0de00000000000000000000a001';
const ROOT_SPAN = 'feedc0de0000000000000000000b0001';
const CHARGE_SPAN = 'feedc0de0000000000000000000b0002';
const T = Date.now() - 10 * 60_000;

/** Stacks as the agent sends them: paths relative to the app's directory, then a dependency and node internals. */
function chargeStack(id: number): string {
  return [
    `OrderError: order ${id} failed`,
    '    at chargeOrder (src/orders.ts:42:11)',
    '    at handleCheckout (src/routes/checkout.ts:17:5)',
    '    at Layer.handle [as handle_request] (node_modules/express/lib/router/layer.js:95:5)',
    '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
  ].join('\n');
}
const CHARGE_IN_APP = ['    at chargeOrder (src/orders.ts:42:11)', '    at handleCheckout (src/routes/checkout.ts:17:5)'];
const REFUND_STACK = ['OrderError: order 999 failed', '    at refundOrder (src/refunds.ts:8:9)', '    at handleRefund (src/routes/refund.ts:12:3)', '    at node:internal/process/task_queues:95:5'].join('\n');

interface SentLog extends WireLog {
  service: string;
}

function wireLog(offsetMs: number, service: string, fields: Partial<WireLog> & Pick<WireLog, 'level' | 'message'>): SentLog {
  return {
    timestamp: T + offsetMs, module: null, trace_id: null, span_id: null, extra: {}, error_type: null, error_message: null, stack: null, service, ...fields,
  };
}

function orderError(offsetMs: number, id: number, traced: boolean): SentLog {
  return wireLog(offsetMs, 'shop', {
    level: 'error', message: `order ${id} failed`, module: 'orders', error_type: 'OrderError', error_message: `order ${id} failed`, stack: chargeStack(id),
    extra: { order_id: id, retry: false }, ...(traced ? { trace_id: TRACE, span_id: CHARGE_SPAN } : {}),
  });
}

/** Oldest first; the pages show them newest first. */
const LOGS: SentLog[] = [
  wireLog(0, 'shop', { level: 'info', message: 'checkout started', module: 'http', trace_id: TRACE, span_id: ROOT_SPAN, extra: { cart_items: 3, user: 'ada' } }),
  wireLog(1000, 'shop', { level: 'debug', message: 'price cache miss', module: 'cache', extra: { key: 'sku-17' } }),
  wireLog(2000, 'payments', { level: 'warn', message: 'payment gateway slow', module: 'gateway', trace_id: TRACE, span_id: CHARGE_SPAN, extra: { ms: 812 } }),
  orderError(3000, 123, true),
  orderError(4000, 456, false),
  orderError(5000, 789, false),
  wireLog(6000, 'payments', { level: 'error', message: 'order 999 failed', module: 'refunds', error_type: 'OrderError', error_message: 'order 999 failed', stack: REFUND_STACK }),
];
const NEWEST_FIRST = LOGS.slice().reverse();

const SPANS: WireSpan[] = [
  { trace_id: TRACE, span_id: ROOT_SPAN, parent_span_id: null, workflow: 'shop', operation: 'POST /checkout', status: 'succeeded', started_at: T - 100, duration_ms: 7000, error_type: null, error_message: null, metadata: {}, captured_params: {} },
  { trace_id: TRACE, span_id: CHARGE_SPAN, parent_span_id: ROOT_SPAN, workflow: 'shop', operation: 'charge', status: 'succeeded', started_at: T + 1500, duration_ms: 2000, error_type: null, error_message: null, metadata: {}, captured_params: {} },
];

let dataDir: string;
let collector: CollectorProcess | null = null;
let browser: Browser | null = null;
let page: Page;
let stage = 'sign-in';
const problems: string[] = [];
let chargeIssue = '';

function resource(service: string): NonNullable<Parameters<typeof encodeBatch>[0]['resource']> {
  return { service, environment: 'test', host: 'h1', pid: 4242, sdk: { name: 'teracron-node', version: '0.1.0' }, runtime: { name: 'node', version: '20' } };
}

async function post(path: string, plaintext: Uint8Array): Promise<void> {
  const response = await fetch(`${collector!.url}${path}`, {
    method: 'POST',
    body: sealEnvelope(plaintext, publicKey),
    headers: { 'content-type': 'application/octet-stream', 'x-project-slug': vectors.slug },
  });
  assert.equal(response.status, 202, `${path}: ${response.status} ${await response.text()}`);
}

/** One sealed log batch per service, as each service's agent would send its own. */
async function sendLogs(logs: readonly SentLog[]): Promise<void> {
  for (const service of new Set(logs.map((l) => l.service))) {
    const batch = logs.filter((l) => l.service === service).map(({ service: _, ...log }) => log);
    await post(INGEST_PATHS.log, encodeBatch({ type: 'log', project_slug: vectors.slug, batch_id: newBatchId(), logs: batch, resource: resource(service) }, 'msgpack'));
  }
}

async function api<T>(path: string): Promise<T> {
  const answer = await query(collector!.url, path);
  assert.equal(answer.status, 200, `${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body as T;
}

interface ShownLog {
  id: string;
  level: string;
  service: string;
  message: string;
}

async function shownLogs(selector = '[data-testid="logs-table"]'): Promise<ShownLog[]> {
  return page.$$eval(`${selector} [data-testid="log-entry"]`, (entries) => (entries as unknown as PageElement[]).map((entry) => ({
    id: entry.dataset.id!,
    level: entry.querySelector('[data-testid="log-level"]')!.textContent!,
    service: entry.dataset.service!,
    message: entry.querySelector('[data-testid="log-message"]')!.textContent!,
  })));
}

/** Waits until the logs page shows exactly these messages, in this order. */
async function expectMessages(messages: readonly string[], what: string): Promise<ShownLog[]> {
  let seen: unknown;
  return waitFor(`the logs page to show ${what}`, async () => {
    const shown = await shownLogs();
    seen = shown.map((l) => l.message);
    return JSON.stringify(seen) === JSON.stringify(messages) ? shown : undefined;
  }, { timeoutMs: 20_000, intervalMs: 100, seen: () => seen });
}

async function screenshot(name: string): Promise<void> {
  if (SCREENSHOTS === undefined || SCREENSHOTS === '') return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function go(section: 'logs' | 'issues'): Promise<void> {
  stage = section;
  await page.click(`nav a[data-section="${section}"]`);
  await page.waitForFunction((s) => location.hash.startsWith(`#/${s}`), section);
}

async function goHash(hash: string): Promise<void> {
  stage = hash;
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
}

before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH`);
  dataDir = vectorDataDir();
  collector = await startCollectorProcess(dataDir);
  await post(INGEST_PATHS.trace, encodeBatch({ type: 'trace', project_slug: vectors.slug, batch_id: newBatchId(), spans: SPANS, resource: resource('shop') }, 'msgpack'));
  await sendLogs(LOGS);
  await waitFor('the collector to answer every log sent and both spans', async () => {
    const { logs } = await api<{ logs: unknown[] }>('/api/v1/logs?limit=1000');
    const { spans } = await api<{ spans: unknown[] }>(`/api/v1/traces/${TRACE}`);
    return logs.length === LOGS.length && spans.length === SPANS.length;
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(30_000);
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`${stage}: console.${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${stage}: uncaught: ${error.message}`));
  await page.goto(collector.url);
  await page.fill('[data-testid="api-key-input"]', vectors.api_key);
  await page.click('[data-testid="signin-submit"]');
  await page.waitForSelector('[data-testid="project-slug"]');
}, TIMEOUT);

after(async () => {
  await browser?.close();
  await collector?.stop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
}, TIMEOUT);

test('the logs page lists every log newest first, with its level, service and message, as the API answers them', TIMEOUT, async () => {
  await go('logs');
  assert.equal(await page.getAttribute('nav a[data-section="logs"]', 'aria-current'), 'page');
  const shown = await expectMessages(NEWEST_FIRST.map((l) => l.message), 'every log sent, newest first');
  assert.deepEqual(shown.map((l) => [l.level, l.service, l.message]), NEWEST_FIRST.map((l) => [l.level, l.service, l.message]));
  const { logs } = await api<{ logs: Array<{ id: string }> }>('/api/v1/logs');
  assert.deepEqual(shown.map((l) => l.id), logs.map((l) => l.id));
  const errors = await page.$$eval('[data-testid="logs-table"] [data-testid="log-error"]', (els) => (els as unknown as PageElement[]).map((e) => e.textContent));
  assert.deepEqual(errors, ['OrderError: order 999 failed', 'OrderError: order 789 failed', 'OrderError: order 456 failed', 'OrderError: order 123 failed']);
  const traced = await page.$$eval('[data-testid="log-entry"]', (entries) => (entries as unknown as PageElement[]).map((e) => e.querySelector('[data-testid="log-trace-link"]')?.getAttribute('href') ?? null));
  assert.deepEqual(traced, NEWEST_FIRST.map((l) => (l.trace_id === null ? null : `#/traces/${l.trace_id}?span=${l.span_id}`)));
});

test('the level, service and text filters go to the API and the address and leave exactly the matching rows', TIMEOUT, async () => {
  const atLeastWarn = NEWEST_FIRST.filter((l) => ['warn', 'error', 'fatal'].includes(l.level));
  await page.selectOption('[data-testid="level-select"]', 'warn');
  await expectMessages(atLeastWarn.map((l) => l.message), 'warn and above');
  assert.match(await page.evaluate(() => location.hash), /[?&]level=warn(&|$)/);

  await page.selectOption('[data-testid="service-select"]', 'payments');
  await expectMessages(atLeastWarn.filter((l) => l.service === 'payments').map((l) => l.message), 'warn and above from payments');
  assert.match(await page.evaluate(() => location.hash), /service=payments/);

  await page.selectOption('[data-testid="level-select"]', '');
  await page.selectOption('[data-testid="service-select"]', '');
  await expectMessages(NEWEST_FIRST.map((l) => l.message), 'every log again');
  await page.fill('[data-testid="log-search"]', 'ORDER 4');
  await expectMessages(['order 456 failed'], 'the one log whose message holds "order 4", ignoring case');
  assert.match(await page.evaluate(() => location.hash), /q=ORDER(\+|%20)4/);

  // The address alone reproduces a view.
  await goHash('#/logs?level=error&service=shop');
  await expectMessages(['order 789 failed', 'order 456 failed', 'order 123 failed'], 'the errors of shop, from the address');
  assert.equal(await page.inputValue('[data-testid="level-select"]'), 'error');
  assert.equal(await page.inputValue('[data-testid="service-select"]'), 'shop');
});

test('a row opens in place to its extra fields, its error and its stack', TIMEOUT, async () => {
  await go('logs');
  await expectMessages(NEWEST_FIRST.map((l) => l.message), 'every log');
  const entry = '[data-testid="log-entry"]:has([data-testid="log-message"]:text-is("order 123 failed"))';
  assert.equal(await page.getAttribute(`${entry} [data-testid="log-toggle"]`, 'aria-expanded'), 'false');
  await page.click(`${entry} [data-testid="log-toggle"]`);
  await page.waitForSelector(`${entry} [data-testid="log-detail"]`, { state: 'visible' });
  assert.equal(await page.getAttribute(`${entry} [data-testid="log-toggle"]`, 'aria-expanded'), 'true');
  const extra = await page.$$eval(`${entry} .attributes > *`, (els) => (els as unknown as PageElement[]).map((e) => e.textContent));
  assert.deepEqual(extra, ['order_id', '123', 'retry', 'false']);
  assert.equal(await page.textContent(`${entry} [data-testid="log-detail-error"]`), 'OrderError: order 123 failed');
  const stack = await page.$$eval(`${entry} [data-testid="stack"] .stack-line`, (lines) => (lines as unknown as PageElement[]).map((l) => [l.dataset.kind, l.textContent]));
  assert.deepEqual(stack.map(([, text]) => text), chargeStack(123).split('\n'));
  assert.deepEqual(stack.filter(([kind]) => kind === 'library').map(([, text]) => text), chargeStack(123).split('\n').slice(3));
  await screenshot('logs');
});

test('a log links to its trace, whose view lists the trace\'s logs in time order, each with its span, the selected span\'s marked', TIMEOUT, async () => {
  const entry = '[data-testid="log-entry"]:has([data-testid="log-message"]:text-is("checkout started"))';
  await page.click(`${entry} [data-testid="log-trace-link"]`);
  stage = 'trace';
  await page.waitForFunction((hash) => location.hash === hash, `#/traces/${TRACE}?span=${ROOT_SPAN}`);
  await page.waitForSelector('[data-testid="trace-logs-table"] [data-testid="log-entry"]');
  const inTrace = LOGS.filter((l) => l.trace_id === TRACE);
  const rows = await page.$$eval('[data-testid="trace-logs-table"] [data-testid="log-entry"]', (entries) => (entries as unknown as PageElement[]).map((e) => ({
    message: e.querySelector('[data-testid="log-message"]')!.textContent,
    level: e.querySelector('[data-testid="log-level"]')!.textContent,
    span: e.querySelector('[data-testid="trace-log-span"]')?.textContent ?? null,
    selected: e.dataset.selected === 'true',
  })));
  const operation = (spanId: string | null): string | null => SPANS.find((s) => s.span_id === spanId)?.operation ?? null;
  assert.deepEqual(rows, inTrace.map((l) => ({ message: l.message, level: l.level, span: operation(l.span_id), selected: l.span_id === ROOT_SPAN })));

  // Choosing a log's span selects it in the waterfall, and the marks follow.
  await page.click('[data-testid="trace-logs-table"] [data-testid="log-entry"]:has([data-testid="log-message"]:text-is("payment gateway slow")) [data-testid="trace-log-span"]');
  await page.waitForFunction((id) => location.hash.includes(`span=${id}`), CHARGE_SPAN);
  assert.equal(await page.getAttribute(`.wf-row[data-span-id="${CHARGE_SPAN}"]`, 'aria-pressed'), 'true');
  const selected = await page.$$eval('[data-testid="trace-logs-table"] [data-testid="log-entry"][data-selected="true"] [data-testid="log-message"]', (els) => (els as unknown as PageElement[]).map((e) => e.textContent));
  assert.deepEqual(selected, inTrace.filter((l) => l.span_id === CHARGE_SPAN).map((l) => l.message));
});

interface ShownIssue {
  fingerprint: string;
  type: string;
  message: string;
  count: number;
  services: string;
  status: string;
}

async function shownIssues(): Promise<ShownIssue[]> {
  return page.$$eval('[data-testid="issue-row"]', (rows) => (rows as unknown as PageElement[]).map((row) => ({
    fingerprint: row.dataset.fingerprint!,
    type: row.querySelector('[data-testid="issue-type"]')!.textContent!,
    message: row.querySelector('[data-testid="issue-message"]')!.textContent!,
    count: Number(row.querySelector('[data-testid="issue-count"]')!.dataset.value),
    services: row.querySelector('[data-testid="issue-services"]')!.textContent!,
    status: row.querySelector('[data-testid="issue-status"]')!.dataset.status!,
  })));
}

test('the issues page groups the errors by where they were thrown: three from chargeOrder, one from refundOrder', TIMEOUT, async () => {
  await go('issues');
  let seen: unknown;
  const issues = await waitFor('two issues on the issues page', async () => {
    const shown = await shownIssues();
    seen = shown;
    return shown.length === 2 ? shown : undefined;
  }, { intervalMs: 100, seen: () => seen });
  // Newest last occurrence first: the refund's error was the last one sent.
  assert.deepEqual(issues.map(({ fingerprint: _, ...rest }) => rest), [
    { type: 'OrderError', message: 'order <num> failed', count: 1, services: 'payments', status: 'open' },
    { type: 'OrderError', message: 'order <num> failed', count: 3, services: 'shop', status: 'open' },
  ]);
  const fromApi = await api<{ issues: Array<{ fingerprint: string; count: number }> }>('/api/v1/issues');
  assert.deepEqual(issues.map((i) => [i.fingerprint, i.count]), fromApi.issues.map((i) => [i.fingerprint, i.count]));
  chargeIssue = issues[1]!.fingerprint;

  await page.click('[data-testid="issue-sort"] [data-value="count"]');
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="issue-count"]')].map((c) => c.dataset.value).join() === '3,1');
  assert.match(await page.evaluate(() => location.hash), /sort=count/);
  // Each row's sparkline draws its last 24 hours: every error was sent ten minutes ago.
  await page.waitForSelector(`[data-spark="${chargeIssue}"] svg`);
  assert.equal(await page.getAttribute(`[data-spark="${chargeIssue}"] svg`, 'aria-label'), '3 events in the last 24 hours');
  await screenshot('issues');
});

test('an issue\'s page charts its events per hour, marks the stack\'s in-app frames and lists its occurrences with their traces', TIMEOUT, async () => {
  await page.click(`[data-testid="issue-row"][data-fingerprint="${chargeIssue}"] [data-testid="issue-type"]`);
  stage = 'issue';
  await page.waitForFunction((fp) => location.hash === `#/issues/${fp}`, chargeIssue);
  await page.waitForSelector('[data-testid="chart-issue-hourly"] canvas');
  const detail = await api<{ hourly: Array<{ count: number }>; issue: { frames: string[] } }>(`/api/v1/issues/${chargeIssue}`);
  assert.deepEqual(detail.issue.frames, ['chargeOrder (src/orders.ts:42)', 'handleCheckout (src/routes/checkout.ts:17)']);
  assert.equal(await page.getAttribute('[data-testid="chart-issue-hourly"]', 'data-points'), String(detail.hourly.length));
  assert.equal(await page.getAttribute('.chart:has([data-testid="chart-issue-hourly"])', 'data-total'), '3');
  assert.equal(await page.textContent('h1'), 'OrderError');
  assert.equal(await page.getAttribute('[data-testid="issue-detail-count"]', 'data-value'), '3');

  const lines = await page.$$eval('[data-testid="stack"] .stack-line', (els) => (els as unknown as PageElement[]).map((l) => [l.dataset.kind, l.textContent!.replace(/^▸/, '')]));
  assert.deepEqual(lines.map(([, text]) => text), chargeStack(789).split('\n'), 'the latest occurrence\'s stack');
  assert.deepEqual(lines.filter(([kind]) => kind === 'in-app').map(([, text]) => text), CHARGE_IN_APP);
  assert.deepEqual(lines.filter(([kind]) => kind === 'library').map(([, text]) => text), chargeStack(789).split('\n').slice(3));

  const occurrences = await page.$$eval('[data-testid="occurrence-row"]', (rows) => (rows as unknown as PageElement[]).map((r) => [
    r.querySelector('td:nth-child(4)')!.textContent,
    r.querySelector('[data-testid="occurrence-trace"]')?.getAttribute('href') ?? null,
  ]));
  assert.deepEqual(occurrences, [
    ['order 789 failed', null],
    ['order 456 failed', null],
    ['order 123 failed', `#/traces/${TRACE}?span=${CHARGE_SPAN}`],
  ]);
  await screenshot('issue');
});

test('Resolve sets the status at once and moves the issue from the open list to the resolved one', TIMEOUT, async () => {
  await page.click('[data-testid="issue-resolve"]');
  await page.waitForSelector('[data-testid="issue-facts"] [data-testid="issue-status"][data-status="resolved"]');
  await page.waitForSelector('[data-testid="issue-reopen"]');
  const { issue } = await api<{ issue: { status: string } }>(`/api/v1/issues/${chargeIssue}`);
  assert.equal(issue.status, 'resolved');

  await go('issues');
  await page.waitForFunction((fp) => {
    const rows = [...document.querySelectorAll('[data-testid="issue-row"]')];
    return rows.length === 1 && rows[0]!.dataset.fingerprint !== fp;
  }, chargeIssue);
  await page.click('[data-testid="issue-status-filter"] [data-value="resolved"]');
  await page.waitForFunction((fp) => {
    const rows = [...document.querySelectorAll('[data-testid="issue-row"]')];
    return rows.length === 1 && rows[0]!.dataset.fingerprint === fp && rows[0]!.dataset.status === 'resolved';
  }, chargeIssue);
  assert.match(await page.evaluate(() => location.hash), /status=resolved/);
});

test('live tail puts a log sent after the page loaded on top, once; paused, it waits behind a button', TIMEOUT, async () => {
  await go('logs');
  await expectMessages(NEWEST_FIRST.map((l) => l.message), 'every log');
  await page.click('[data-testid="live-tail"]');
  assert.equal(await page.getAttribute('[data-testid="live-tail"]', 'aria-pressed'), 'true');
  assert.match(await page.evaluate(() => location.hash), /live=1/);

  const tail = wireLog(Date.now() - T, 'shop', { level: 'info', message: 'tail: order 1001 placed', module: 'orders' });
  await sendLogs([tail]);
  // The page's own refresh (every 5 s) brings it: no click.
  await page.waitForFunction(() => document.querySelector('[data-testid="log-entry"] [data-testid="log-message"]')?.textContent === 'tail: order 1001 placed', null, { timeout: 30_000 });
  const shown = await shownLogs();
  assert.deepEqual(shown.map((l) => l.message), [tail.message, ...NEWEST_FIRST.map((l) => l.message)]);
  assert.equal(new Set(shown.map((l) => l.id)).size, shown.length, 'no log shown twice');

  await page.click('[data-testid="live-tail"]');
  assert.equal(await page.getAttribute('[data-testid="live-tail"]', 'aria-pressed'), 'false');
  const paused = wireLog(Date.now() - T, 'shop', { level: 'warn', message: 'tail: stock low', module: 'stock' });
  await sendLogs([paused]);
  await page.waitForSelector('[data-testid="logs-newer"]:visible', { timeout: 30_000 });
  assert.equal((await page.textContent('[data-testid="logs-newer"]'))?.trim(), '↑ Show 1 newer log');
  assert.equal((await shownLogs())[0]!.message, tail.message, 'paused, the rows hold still');
  await page.click('[data-testid="logs-newer"]');
  await expectMessages([paused.message, tail.message, ...NEWEST_FIRST.map((l) => l.message)], 'the waiting log on top');
  assert.equal(await page.isHidden('[data-testid="logs-newer"]'), true);
});

test('"Load older" follows the cursor to the next page, without gaps or repeats', TIMEOUT, async () => {
  const ticks = Array.from({ length: 150 }, (_, i) => wireLog(-3_600_000 - i * 1000, 'shop', { level: 'debug', message: `tick ${i}`, module: 'timer' }));
  await sendLogs(ticks);
  await waitFor('the ticks to be stored', async () => (await api<{ logs: unknown[] }>('/api/v1/logs?module=timer&limit=1000')).logs.length === ticks.length);
  await goHash('#/logs?module=timer');
  await expectMessages(ticks.slice(0, 100).map((l) => l.message), 'the newest 100 ticks');
  assert.equal(await page.isVisible('[data-testid="logs-older"]'), true);
  await page.click('[data-testid="logs-older"]');
  const all = await expectMessages(ticks.map((l) => l.message), 'all 150 ticks after "Load older"');
  assert.equal(new Set(all.map((l) => l.id)).size, ticks.length);
  await page.waitForSelector('[data-testid="logs-older"]', { state: 'hidden' });
});

test('at phone width (390×844) the logs, issues and issue pages fit the screen', TIMEOUT, async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  for (const hash of ['#/logs', '#/issues?status=all', `#/issues/${chargeIssue}`]) {
    await goHash(hash);
    await page.waitForSelector('[data-testid="log-entry"], [data-testid="issue-row"], [data-testid="stack"]');
    await page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `no horizontal scroll on ${hash}`);
  }
});

test('no page logged a console error or warning, or threw', () => {
  assert.deepEqual(problems, []);
});
