/**
 * Serves the built dashboard (dist/dashboard, made by scripts/build-dashboard.mjs) at `/`. Only
 * plain file names of known types under that directory are served; anything else is left to the
 * caller's 404. The assets need no key: the page asks for it and sends it to the query API.
 */
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

// No inline script or style in markup; CSSOM property writes (what uPlot and the waterfall use) are allowed.
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** Where the compiled collector finds the built dashboard: dist/src/collector → dist/dashboard. */
export const DASHBOARD_DIR = resolve(__dirname, '..', '..', 'dashboard');

// Segments of letters, digits, '.', '_' and '-' that do not start with a dot: no '..', no
// dotfiles, no encoded separators (the path is checked before it is decoded, and never decoded).
const SAFE_PATH = /^\/(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/**
 * Answers GET/HEAD for `/` and the dashboard's files; returns false (nothing sent) for any other
 * path, or when the file does not exist, so that the caller answers 404.
 */
export async function serveDashboard(path: string, req: IncomingMessage, res: ServerResponse, root = DASHBOARD_DIR): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const isIndex = path === '/' || path === '/index.html';
  if (!isIndex && !SAFE_PATH.test(path)) return false;
  const type = CONTENT_TYPES[isIndex ? '.html' : extname(path)];
  if (type === undefined) return false;

  const file = resolve(root, isIndex ? 'index.html' : `.${path}`);
  if (!file.startsWith(root + sep)) return false;
  const info = await stat(file).catch(() => null);
  if (info === null || !info.isFile()) {
    if (!isIndex) return false;
    const text = 'The dashboard is not built. Run `npm run compile` in the teracron package (it writes dist/dashboard), then reload.\n';
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...SECURITY_HEADERS });
    res.end(req.method === 'HEAD' ? undefined : text);
    return true;
  }

  // File names carry no hash, so browsers revalidate every time; the ETag keeps that cheap.
  const etag = `"${info.size.toString(16)}-${Math.trunc(info.mtimeMs).toString(16)}"`;
  const headers = { 'cache-control': 'no-cache', etag, 'last-modified': info.mtime.toUTCString(), ...SECURITY_HEADERS };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return true;
  }
  // The files are small (uPlot, the largest, is about 150 kB): read whole, sent with a length.
  const body = req.method === 'HEAD' ? null : await readFile(file);
  res.writeHead(200, { ...headers, 'content-type': type, 'content-length': body?.length ?? info.size });
  res.end(body ?? undefined);
  return true;
}
