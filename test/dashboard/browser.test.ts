/**
 * The dashboard in headless Chromium against the running demo (collector, shop, payments and
 * load): sign in with the key the demo prints, then check what each page shows against the
 * query API, watch every page for console errors and warnings, and leave screenshots in
 * test-results/. The data is live, so counts are compared to an API reading taken just before
 * or just after the page's own refresh.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { repoRoot } from '../../support/repo-root';
import { waitFor } from '../helpers/wait';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(300_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DEMO = join(repoRoot(), 'dist', 'examples', 'demo', 'main.js');
const RESULTS = join(repoRoot(), 'test-results');
// As long as this file's budget: the demo outlives any run of the file, however slow, and still
// ends on its own should it ever be left behind.
const DEMO_DURATION_S = 300;
const TIMEOUT = { timeout: 120_000 };
// Never skipped: .ci/run installs Debian's chromium, and a dashboard test that passes without a
// browser proves nothing. Elsewhere, install it (apt-get install chromium) or set CHROMIUM_PATH.

interface Demo {
  url: string;
  apiKey: string;
  child: ChildProcessByStdio<null, Readable, Readable>;
  exited: Promise<number | null>;
}

interface Span {
  span_id: string;
  parent_span_id: string | null;
  status: string;
  started_at: number;
  duration_ms: number;
  error_type: string | null;
  error_message: string | null;
}

type Counts = Map<string, { runs: number; failures: number }>;

// What the callbacks passed to page.evaluate / $eval use inside the page: the tests compile
// without the DOM library, so the few names they need are declared here, for this file only.
interface PageElement {
  dataset: Record<string, string | undefined>;
  style: { left: string; width: string };
  textContent: string | null;
  classList: { contains(name: string): boolean };
  width: number;
  height: number;
  querySelector(selector: string): PageElement | null;
  getBoundingClientRect(): { width: number };
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
  documentElement: { scrollWidth: number };
};
declare const window: { innerWidth: number };
declare const location: { hash: string; href: string };
declare const sessionStorage: { getItem(key: string): string | null };
declare const CSS: { escape(text: string): string };
declare const requestAnimationFrame: (callback: () => void) => number;

let dataDir: string;
let demo: Demo | null = null;
let browser: Browser | null = null;
let page: Page;
let stage = 'sign-in';
const problems: string[] = [];
let traceHash = '';

function startDemo(dir: string): Promise<Demo> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DEMO, '--duration', String(DEMO_DURATION_S), '--port', '0', '--data', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const url = /^dashboard: (http:\/\/\S+)$/m.exec(stdout)?.[1];
      const apiKey = /^api key: (tcn_[A-Za-z0-9_-]+)$/m.exec(stdout)?.[1];
      if (url !== undefined && apiKey !== undefined) resolve({ url, apiKey, child, exited });
    });
    void exited.then((code) => reject(new Error(`the demo exited (${code}) before printing its dashboard and key\nstdout:\n${stdout}\nstderr:\n${stderr}`)));
  });
}

async function api<T>(path: string): Promise<T> {
  const response = await fetch(new URL(path, demo!.url), { headers: { authorization: `Bearer ${demo!.apiKey}` } });
  assert.equal(response.status, 200, `${path}: ${response.status}`);
  return (await response.json()) as T;
}

async function apiCounts(): Promise<Counts> {
  const { workflows } = await api<{ workflows: Array<{ workflow: string; total_runs: number; failed_runs: number }> }>('/api/v1/workflows?limit=1000');
  return new Map(workflows.map((w) => [w.workflow, { runs: w.total_runs, failures: w.failed_runs }]));
}

async function pageCounts(): Promise<Counts> {
  const rows = await page.$$eval('[data-testid="workflow-row"]', (elements) =>
    elements.map((row) => [
      (row as PageElement).dataset.workflow!,
      Number(row.querySelector('[data-testid="runs"]')!.dataset.value),
      Number(row.querySelector('[data-testid="failures"]')!.dataset.value),
    ] as const));
  return new Map(rows.map(([workflow, runs, failures]) => [workflow, { runs, failures }]));
}

function sameCounts(a: Counts, b: Counts): boolean {
  return a.size === b.size && [...a].every(([workflow, c]) => b.get(workflow)?.runs === c.runs && b.get(workflow)?.failures === c.failures);
}

/** Depth from parent links: a root (no parent, or a parent outside the trace) is 0. */
function expectedDepths(spans: readonly Span[]): Map<string, number> {
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const depths = new Map<string, number>();
  for (const span of spans) {
    let depth = 0;
    let parent = span.parent_span_id === null ? undefined : byId.get(span.parent_span_id);
    while (parent !== undefined && depth <= spans.length) {
      depth++;
      parent = parent.parent_span_id === null ? undefined : byId.get(parent.parent_span_id);
    }
    depths.set(span.span_id, depth);
  }
  return depths;
}

/** Two frames: what a resize or a navigation changes (charts resize on the next frame) is drawn. */
async function nextFrames(): Promise<void> {
  await page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));
}

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: join(RESULTS, `dashboard-${name}.png`) });
}

async function go(section: 'workflows' | 'metrics' | 'events'): Promise<void> {
  stage = section;
  await page.click(`nav a[data-section="${section}"]`);
  await page.waitForFunction((s) => location.hash.startsWith(`#/${s}`), section);
}

before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH`);
  mkdirSync(RESULTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'teracron-dashboard-'));
  demo = await startDemo(dataDir);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(60_000);
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`${stage}: console.${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${stage}: uncaught: ${error.message}`));
  // The pages are checked against data: wait until the agents have shipped runs (a failed one
  // among them), events and a first metrics sample.
  await waitFor('a failed run, an event and a metrics sample from the demo', async () => {
    const workflows = await api<{ workflows: Array<{ failed_runs: number }> }>('/api/v1/workflows?limit=1000');
    const { events } = await api<{ events: unknown[] }>('/api/v1/recorded-events?limit=1');
    const { samples } = await api<{ samples: unknown[] }>(`/api/v1/metrics?from=${Date.now() - 15 * 60_000}`);
    return workflows.workflows.some((w) => w.failed_runs > 0) && events.length > 0 && samples.length > 0;
  }, { timeoutMs: 90_000, intervalMs: 500 });
}, TIMEOUT);

after(async () => {
  await browser?.close();
  if (demo !== null && demo.child.exitCode === null) {
    demo.child.kill('SIGTERM');
    const timer = setTimeout(() => demo!.child.kill('SIGKILL'), 15_000);
    await demo.exited;
    clearTimeout(timer);
  }
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
}, TIMEOUT);

test('a key that is not this collector\'s keeps you on the sign-in form with the collector\'s error', { ...TIMEOUT }, async () => {
  // A page of its own: the browser reports the 401 itself as a console error, which is expected here.
  const other = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    await other.goto(demo!.url);
    await other.fill('[data-testid="api-key-input"]', `tcn_${Buffer.from('lost-key-123:not a key').toString('base64url')}`);
    await other.click('[data-testid="signin-submit"]');
    await other.waitForFunction(() => (document.querySelector('[data-testid="signin-error"]')?.textContent ?? '') !== '');
    const response = await fetch(new URL('/v1/auth/whoami', demo!.url), { headers: { authorization: `Bearer tcn_${Buffer.from('lost-key-123:not a key').toString('base64url')}` } });
    const { error } = (await response.json()) as { error: string };
    assert.equal(response.status, 401);
    assert.ok((await other.textContent('[data-testid="signin-error"]'))!.includes(error));
    assert.equal(await other.evaluate(() => sessionStorage.getItem('teracron.apiKey')), null);
  } finally {
    await other.close();
  }
});

test('signing in with the pasted API key shows the project slug and the workflows', { ...TIMEOUT }, async () => {
  await page.goto(demo!.url);
  await page.waitForSelector('[data-testid="api-key-input"]');
  await screenshot('signin');
  await page.fill('[data-testid="api-key-input"]', demo!.apiKey);
  await page.click('[data-testid="signin-submit"]');
  const { project_slug } = await api<{ project_slug: string }>('/v1/auth/whoami');
  await page.waitForSelector('[data-testid="project-slug"]');
  assert.equal(await page.textContent('[data-testid="project-slug"]'), project_slug);
  stage = 'workflows';
  await page.waitForSelector('[data-testid="workflow-row"]');
  assert.match(page.url(), /#\/workflows$/);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('teracron.apiKey')), demo!.apiKey);
});

test('the workflow list refreshes on its own and shows the runs and failures of GET /api/v1/workflows', { ...TIMEOUT }, async () => {
  await page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/workflows', { timeout: 10_000 });
  let last = '';
  for (let attempt = 0; attempt < 15; attempt++) {
    const before = await apiCounts();
    const [response] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/workflows'),
      page.click('[data-testid="refresh"]'),
    ]);
    const served = (await response.json()) as { workflows: Array<{ workflow: string; total_runs: number }> };
    // Wait until the page shows the answer it just got before reading it.
    await page.waitForFunction((expected) => expected.every(([workflow, runs]) => {
      const cell = document.querySelector(`[data-testid="workflow-row"][data-workflow="${CSS.escape(workflow)}"] [data-testid="runs"]`) as PageElement | null;
      return cell !== null && Number(cell.dataset.value) === runs;
    }), served.workflows.map((w) => [w.workflow, w.total_runs] as const));
    const shown = await pageCounts();
    const afterCounts = await apiCounts();
    if (sameCounts(shown, before) || sameCounts(shown, afterCounts)) {
      assert.ok(shown.size > 0);
      await screenshot('workflows');
      return;
    }
    last = JSON.stringify({ shown: [...shown], before: [...before], after: [...afterCounts] });
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  assert.fail(`the page never matched an API reading taken around its refresh: ${last}`);
});

test('a failed trace has one bar per span at the depth its parent links give, and a failed span shows its error in the side panel', { ...TIMEOUT }, async () => {
  // The busiest workflow the page shows with a failure. Not the API's first failing one: a run
  // whose root span has not arrived yet is listed under its earliest span's workflow (payments,
  // say) until the root comes and moves it to shop, so a one-run workflow may vanish before the
  // page shows it (CI once waited 60 s to click such a row).
  let shownWorkflows: unknown;
  const failingName = await waitFor('a workflow with failed runs on the workflows page', async () => {
    const shown = await pageCounts();
    shownWorkflows = [...shown];
    return [...shown].filter(([, c]) => c.failures > 0).sort((a, b) => b[1].runs - a[1].runs)[0]?.[0];
  }, { timeoutMs: 60_000, intervalMs: 250, seen: () => shownWorkflows });
  const failing = { workflow: failingName };

  stage = 'runs';
  await page.click(`[data-testid="workflow-row"][data-workflow="${failing.workflow}"] a`);
  await page.waitForSelector('[data-testid="status-filter"]');
  await page.click('[data-testid="status-filter"] [data-value="failed"]');
  // On timeout, say what the page showed and what the API answers for the same filter.
  const shownRuns = () => page.evaluate(() => ({
    url: location.href,
    statuses: [...document.querySelectorAll('[data-testid="run-row"]')].map((row) => (row as PageElement).dataset.status),
    text: document.querySelector('main')?.textContent?.slice(0, 300),
  }));
  let seen: unknown;
  await waitFor('only failed runs on the runs page after choosing the Failed filter', async () => {
    const shown = await shownRuns();
    seen = { shown, api: await api<{ events: Array<{ status: string }> }>(`/api/v1/events?workflow=${encodeURIComponent(failing.workflow)}&status=failed&limit=5`) };
    return shown.statuses.length > 0 && shown.statuses.every((status) => status === 'failed');
  }, { timeoutMs: 60_000, intervalMs: 250, seen: () => seen });
  assert.match(page.url(), /status=failed/);
  await screenshot('runs');
  const traceId = (await page.getAttribute('[data-testid="run-row"]', 'data-trace-id'))!;
  assert.ok(((await page.textContent('[data-testid="run-row"]')) ?? '').length > 0);

  stage = 'trace';
  await page.click(`[data-testid="run-row"][data-trace-id="${traceId}"] a`);
  await page.waitForSelector('[data-testid="span-bar"]');
  traceHash = new URL(page.url()).hash.split('?')[0]!;
  assert.equal(traceHash, `#/traces/${traceId}`);

  // Spans of other services may still be on their way: refresh until the page and the API agree.
  const { spans, shown } = await waitFor('the trace page to show as many bars as the API has spans', async () => {
    const spans = (await api<{ spans: Span[] }>(`/api/v1/traces/${traceId}`)).spans;
    const shown = await page.$$eval('[data-testid="span-bar"]', (bars) => (bars as PageElement[]).map((bar) => ({
      id: bar.dataset.spanId!,
      depth: Number(bar.dataset.depth),
      status: bar.dataset.status!,
      left: parseFloat(bar.style.left),
      width: parseFloat(bar.style.width),
    })));
    if (shown.length === spans.length) return { spans, shown };
    await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname === `/api/v1/traces/${traceId}`), page.click('[data-testid="refresh"]')]);
    return undefined;
  }, { timeoutMs: 60_000, intervalMs: 250 });
  assert.equal(shown.length, spans.length, 'one bar per span');
  assert.deepEqual(new Set(shown.map((b) => b.id)), new Set(spans.map((s) => s.span_id)));
  const depths = expectedDepths(spans);
  const start = Math.min(...spans.map((s) => s.started_at));
  const extent = Math.max(...spans.map((s) => s.started_at + s.duration_ms)) - start;
  for (const bar of shown) {
    const span = spans.find((s) => s.span_id === bar.id)!;
    assert.equal(bar.depth, depths.get(bar.id), `depth of span ${bar.id}`);
    assert.equal(bar.status, span.status);
    assert.ok(Math.abs(bar.left - (100 * (span.started_at - start)) / extent) < 0.01, `offset of span ${bar.id}`);
    assert.ok(Math.abs(bar.width - (100 * span.duration_ms) / extent) < 0.01, `width of span ${bar.id}`);
  }
  assert.ok([...depths.values()].some((d) => d > 0), 'the trace has nested spans');

  const failed = spans.find((s) => s.status === 'failed' && s.error_type !== null) ?? spans.find((s) => s.status === 'failed');
  assert.ok(failed, 'a failed run has a failed span');
  await page.click(`[data-testid="span-bar"][data-span-id="${failed.span_id}"]`);
  await page.waitForSelector('[data-testid="span-panel"]');
  await page.waitForFunction((id) => new URL(location.href).hash.includes(`span=${id}`), failed.span_id);
  const expected = [failed.error_type, failed.error_message].filter((part) => part !== null && part !== '').join(': ');
  assert.equal((await page.textContent('[data-testid="span-error"]'))?.trim(), expected || 'failed without an error message');
  assert.ok(await page.$eval(`.wf-row[data-span-id="${failed.span_id}"]`, (row) => row.classList.contains('is-failed') && row.textContent!.includes('✕')), 'a failed span is marked by class and icon, not colour alone');
  await screenshot('trace');
});

test('the metrics page plots samples in uPlot charts', { ...TIMEOUT }, async () => {
  await go('metrics');
  await page.waitForFunction(() => {
    const chart = document.querySelector('[data-testid="chart-memory"]');
    return chart !== null && Number(chart.dataset.points) > 0 && chart.querySelector('canvas') !== null;
  }, null, { timeout: 60_000 });
  for (const name of ['memory', 'cpu', 'event-loop']) {
    const points = Number(await page.getAttribute(`[data-testid="chart-${name}"]`, 'data-points'));
    assert.ok(points > 0, `${name}: ${points} points`);
    const canvas = await page.$eval(`[data-testid="chart-${name}"] canvas`, (c) => ({ width: (c as PageElement).width, height: (c as PageElement).height }));
    assert.ok(canvas.width > 100 && canvas.height > 100, `${name}: canvas ${canvas.width}×${canvas.height}`);
  }
  const { samples } = await api<{ samples: Array<{ pid: number | null; dropped_ring_full: number | null }> }>(`/api/v1/metrics?from=${Date.now() - 15 * 60_000}`);
  assert.ok(samples.length > 0);
  assert.ok((await page.$$('[data-testid="process-row"]')).length > 0);
  // Every demo service runs an agent, which reports its own losses (none) on its process's row.
  const lost = await page.$$eval('[data-testid="process-row"]', (rows) => (rows as PageElement[]).map((row) => [row.dataset.pid, row.querySelector('[data-testid="process-lost"]')?.textContent]));
  const reporting = new Set(samples.filter((s) => s.dropped_ring_full !== null).map((s) => String(s.pid)));
  assert.ok(reporting.size > 0, 'the demo agents send their loss counts');
  for (const [pid, text] of lost) assert.equal(text, reporting.has(pid!) ? '0' : '—', `process ${pid}: agent lost`);
  await nextFrames();
  await screenshot('metrics');
});

test('the events page lists the recorded events, newest first', { ...TIMEOUT }, async () => {
  await go('events');
  await page.waitForSelector('[data-testid="event-row"], [data-testid="state-empty"]');
  const { events } = await api<{ events: Array<{ name: string; event_type: string; timestamp: number }> }>('/api/v1/recorded-events?limit=5');
  assert.ok(events.length > 0, 'the demo records events');
  // Events read before the page's refresh are among the newest the page then shows.
  await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/recorded-events'), page.click('[data-testid="refresh"]')]);
  await page.waitForFunction((oldest) => [...document.querySelectorAll('[data-testid="event-row"]')].some((row) => Number(row.dataset.timestamp) <= oldest), events[events.length - 1]!.timestamp);
  const rows = await page.$$eval('[data-testid="event-row"]', (elements) => (elements as PageElement[]).map((row) => ({
    timestamp: Number(row.dataset.timestamp),
    type: row.dataset.type!,
    name: row.querySelector('td:nth-child(4)')!.textContent!,
  })));
  for (const event of events) {
    assert.ok(rows.some((row) => row.timestamp === event.timestamp && row.name === event.name && row.type === event.event_type), `event ${JSON.stringify(event)} is listed`);
  }
  assert.deepEqual(rows.map((r) => r.timestamp), rows.map((r) => r.timestamp).toSorted((a, b) => b - a), 'newest first');
  await screenshot('events');
});

test('at phone width (390×844) the workflows and trace pages fit the screen', { ...TIMEOUT }, async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await go('workflows');
  await page.waitForSelector('[data-testid="workflow-row"]');
  await nextFrames();
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal scroll on the workflows page');
  await screenshot('workflows-phone');

  stage = 'trace';
  await page.evaluate((hash) => (location.hash = hash), traceHash);
  await page.waitForSelector('[data-testid="span-bar"]');
  await nextFrames();
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal scroll on the trace page');
  const bar = await page.$eval('[data-testid="span-bar"]', (el) => el.getBoundingClientRect().width);
  assert.ok(bar > 20, `the root bar is ${bar}px wide`);
  await screenshot('trace-phone');
});

test('signing out forgets the key and shows the sign-in form', { ...TIMEOUT }, async () => {
  stage = 'sign-out';
  await page.click('[data-testid="sign-out"]');
  await page.waitForSelector('[data-testid="api-key-input"]');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('teracron.apiKey')), null);
});

test('no page logged a console error or warning, or threw', () => {
  assert.deepEqual(problems, []);
});
