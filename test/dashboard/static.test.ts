/**
 * The collector serves the built dashboard at `/`: the page and its assets with their types,
 * a strict CSP and nosniff, revalidation by ETag, and a 404 for anything that is not one of its
 * files (traversal included). Needs dist/dashboard (node scripts/build-dashboard.mjs).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { serveDashboard } from '../../src/collector/dashboard';
import { startCollectorProcess, vectorDataDir } from '../helpers/collector';
import type { CollectorProcess } from '../helpers/collector';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

let collector: CollectorProcess;

before(async () => {
  collector = await startCollectorProcess(vectorDataDir());
});
after(async () => {
  await collector.stop();
});

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with the path sent exactly as given (fetch would normalise `..` away). */
function raw(path: string, method = 'GET', headers: Record<string, string> = {}, base = collector.url): Promise<Raw> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('GET / answers the page as HTML with a CSP that allows only same-origin scripts and styles, nosniff, and no inline script', async () => {
  const res = await raw('/');
  assert.equal(res.status, 200, `status ${res.status}: ${res.body} (is dist/dashboard built? node scripts/build-dashboard.mjs)`);
  assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
  const csp = String(res.headers['content-security-policy']);
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  assert.match(String(res.headers['cache-control']), /no-cache/);
  assert.match(res.body, /<script type="module" src="app\/main\.js"><\/script>/);
  const scripts = [...res.body.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)];
  assert.ok(scripts.length > 0);
  for (const [tag, content] of scripts) {
    assert.match(tag, /\ssrc="/, `inline script: ${tag}`);
    assert.equal(content, '');
  }
  assert.doesNotMatch(res.body, /\sstyle="|\son[a-z]+="/i, 'no inline style or event handler attributes');
});

test('the app, its styles and uPlot are served with their content types and the same security headers', async () => {
  const cases: Array<[string, string, RegExp]> = [
    ['/index.html', 'text/html; charset=utf-8', /<div id="app">/],
    ['/app/main.js', 'text/javascript; charset=utf-8', /from '\.\/app\.js'/],
    ['/app/pages/trace.js', 'text/javascript; charset=utf-8', /span-panel/],
    ['/uPlot.esm.js', 'text/javascript; charset=utf-8', /export \{ uPlot as default \}|export default/],
    ['/styles.css', 'text/css; charset=utf-8', /--primary/],
    ['/uPlot.min.css', 'text/css; charset=utf-8', /\.uplot/],
    ['/favicon.svg', 'image/svg+xml', /<svg/],
  ];
  for (const [path, type, content] of cases) {
    const res = await raw(path);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers['content-type'], type, path);
    assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body), path);
    assert.equal(res.headers['x-content-type-options'], 'nosniff', path);
    assert.match(String(res.headers['content-security-policy']), /default-src 'self'/, path);
    assert.match(res.body, content, path);
  }
});

test('HEAD answers the headers without a body, and a matching If-None-Match answers 304', async () => {
  const get = await raw('/app/main.js');
  const head = await raw('/app/main.js', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  assert.equal(head.headers['content-length'], get.headers['content-length']);
  assert.equal(head.headers.etag, get.headers.etag);
  const cached = await raw('/app/main.js', 'GET', { 'if-none-match': String(get.headers.etag) });
  assert.equal(cached.status, 304);
  assert.equal(cached.body, '');
});

test('unknown files, dotfiles, unknown types and traversal attempts are 404, and the query API still wants its key', async () => {
  const paths = [
    '/nope.js',
    '/app/nope.js',
    '/app',
    '/app/',
    '/index.html/',
    '/.env',
    '/app/.hidden.js',
    '/tsconfig.json',
    '/../package.json',
    '/../../package.json',
    '/app/../../package.json',
    '/..%2f..%2fpackage.json',
    '/%2e%2e/%2e%2e/package.json',
    '/app/%2e%2e/%2e%2e/%2e%2e/package.json',
    '/..\\..\\package.json',
    '/app%2fmain.js',
    '/index.html%00.js',
  ];
  for (const path of paths) {
    const res = await raw(path);
    assert.equal(res.status, 404, `${path} answered ${res.status}: ${res.body.slice(0, 200)}`);
    assert.doesNotMatch(res.body, /"name": "teracron"|compilerOptions/, path);
  }
  const query = await raw('/api/v1/workflows');
  assert.equal(query.status, 401);
});

test('without a built dashboard, / answers 503 with a plain message saying to run npm run compile', async () => {
  const missing = join(mkdtempSync(join(tmpdir(), 'teracron-no-dashboard-')), 'dashboard');
  const server = createServer((req, res) => {
    void serveDashboard(new URL(req.url ?? '/', 'http://x').pathname, req, res, missing).then((served) => {
      if (!served) {
        res.writeHead(404);
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const page = await raw('/', 'GET', {}, base);
    assert.equal(page.status, 503);
    assert.equal(page.headers['content-type'], 'text/plain; charset=utf-8');
    assert.match(page.body, /npm run compile/);
    assert.equal((await raw('/app/main.js', 'GET', {}, base)).status, 404);
  } finally {
    server.close();
  }
});
