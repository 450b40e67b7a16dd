import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCredentials } from '../../src/cli/credentials';
import { RequestError } from '../../src/cli/output';
import { queryApi, resolveTarget } from '../../src/cli/query-client';
import type { Target } from '../../src/cli/query-client';
import { TeracronConfigError, TeracronKeyError } from '../../src/errors';
import { closedPort } from '../helpers/ports';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const vectors = envelopeVectors();
const KEY = vectors.api_key;

function tempHome(): { env: NodeJS.ProcessEnv; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'teracron-qc-'));
  return { env: { TERACRON_HOME: join(root, '.teracron') }, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

function rejects(fn: () => unknown, kind: new (...args: never[]) => Error, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof kind, `expected ${kind.name}, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

// ---- resolveTarget -------------------------------------------------------------------------

test('the --domain and --api-key flags win over the environment', () => {
  const { env, cleanup } = tempHome();
  try {
    const target = resolveTarget({ domain: 'http://127.0.0.1:7001', apiKey: KEY }, { ...env, TERACRON_DOMAIN: 'http://127.0.0.1:7002', TERACRON_API_KEY: 'tcn_other' });
    assert.equal(target.baseUrl, 'http://127.0.0.1:7001');
    assert.equal(target.apiKey, KEY);
    assert.equal(target.slug, vectors.slug);
    assert.equal(target.keySource, '--api-key');
  } finally {
    cleanup();
  }
});

test('TERACRON_DOMAIN and TERACRON_API_KEY are used when no flag is given', () => {
  const { env, cleanup } = tempHome();
  try {
    const target = resolveTarget({}, { ...env, TERACRON_DOMAIN: 'localhost:7002', TERACRON_API_KEY: `  ${KEY}\n` });
    assert.equal(target.baseUrl, 'https://localhost:7002');
    assert.equal(target.apiKey, KEY);
    assert.equal(target.domainSource, 'TERACRON_DOMAIN');
  } finally {
    cleanup();
  }
});

test('the stored credentials are used when neither flags nor environment give them', () => {
  const { env, cleanup } = tempHome();
  try {
    writeCredentials({ domain: 'http://127.0.0.1:7003', api_key: KEY, project_slug: vectors.slug, saved_at: '' }, env);
    const target = resolveTarget({}, env);
    assert.equal(target.baseUrl, 'http://127.0.0.1:7003');
    assert.equal(target.apiKey, KEY);
    assert.match(target.keySource, /credentials\.json/);
  } finally {
    cleanup();
  }
});

test('a stored key is never sent to a domain other than the one it was stored with', () => {
  const { env, cleanup } = tempHome();
  try {
    writeCredentials({ domain: 'http://127.0.0.1:7003', api_key: KEY, project_slug: vectors.slug, saved_at: '' }, env);
    rejects(() => resolveTarget({ domain: 'http://127.0.0.1:7004' }, env), TeracronKeyError, /No API key for http:\/\/127\.0\.0\.1:7004: the stored credentials are for http:\/\/127\.0\.0\.1:7003 and are never sent to another domain/);
  } finally {
    cleanup();
  }
});

test('explicit flags work even when the stored credentials file is unsafe', { skip: process.platform === 'win32' }, () => {
  const { env, cleanup } = tempHome();
  try {
    chmodSync(writeCredentials({ domain: 'http://127.0.0.1:7003', api_key: KEY, project_slug: vectors.slug, saved_at: '' }, env), 0o644);
    assert.equal(resolveTarget({ domain: 'http://127.0.0.1:7005', apiKey: KEY }, env).baseUrl, 'http://127.0.0.1:7005');
    rejects(() => resolveTarget({}, env), TeracronConfigError, /chmod 600/);
  } finally {
    cleanup();
  }
});

test('a missing API key says every way to give one', () => {
  const { env, cleanup } = tempHome();
  try {
    rejects(() => resolveTarget({ domain: 'http://127.0.0.1:7006' }, env), TeracronKeyError, /No API key: pass --api-key, set TERACRON_API_KEY, or run `teracron login`/);
  } finally {
    cleanup();
  }
});

test('a malformed API key is rejected with the source it came from', () => {
  const { env, cleanup } = tempHome();
  try {
    rejects(() => resolveTarget({ domain: 'http://127.0.0.1:7006' }, { ...env, TERACRON_API_KEY: 'abc' }), TeracronKeyError, /^TERACRON_API_KEY: The API key must start with "tcn_"/);
  } finally {
    cleanup();
  }
});

test('with a key and no domain anywhere, the default https://www.teracron.com is used', () => {
  const { env, cleanup } = tempHome();
  try {
    assert.equal(resolveTarget({ apiKey: KEY }, env).baseUrl, 'https://www.teracron.com');
  } finally {
    cleanup();
  }
});

test('plain http to a non-loopback host is refused', () => {
  rejects(() => resolveTarget({ domain: 'http://collector.example.com', apiKey: KEY }, { TERACRON_ALLOW_CUSTOM_DOMAIN: '1' }), TeracronConfigError, /^--domain="http:\/\/collector\.example\.com" uses plain http:\/\//);
});

test('a domain outside teracron.com needs TERACRON_ALLOW_CUSTOM_DOMAIN=1', () => {
  rejects(() => resolveTarget({ domain: 'collector.example.com', apiKey: KEY }, {}), TeracronConfigError, /TERACRON_ALLOW_CUSTOM_DOMAIN=1/);
  assert.equal(resolveTarget({ domain: 'collector.example.com', apiKey: KEY }, { TERACRON_ALLOW_CUSTOM_DOMAIN: '1' }).baseUrl, 'https://collector.example.com');
});

test('an unreadable TERACRON_CA_FILE is reported for an https domain', () => {
  rejects(() => resolveTarget({ domain: 'www.teracron.com', apiKey: KEY }, { TERACRON_CA_FILE: '/nonexistent/ca.pem' }), TeracronConfigError, /TERACRON_CA_FILE="\/nonexistent\/ca\.pem" cannot be read \(ENOENT\)/);
});

// ---- queryApi against a stand-in for the error answers ----------------------------------------

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function withServer(handler: Handler, body: (target: Target, seen: IncomingMessage[]) => Promise<void>): Promise<void> {
  const seen: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await body(resolveTarget({ domain: `http://127.0.0.1:${port}`, apiKey: KEY }, {}), seen);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
}

async function requestError(promise: Promise<unknown>): Promise<RequestError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof RequestError, `expected RequestError, got ${String(err)}`);
    return err;
  }
  assert.fail('the request did not fail');
}

test('the key travels only in the Authorization header, never in the URL', async () => {
  await withServer(json(200, { project_slug: vectors.slug, authenticated: true }), async (target, seen) => {
    const body = await queryApi(target, '/api/v1/events', { workflow: 'a b&c', limit: 5, since: undefined });
    assert.deepEqual(body, { project_slug: vectors.slug, authenticated: true });
    assert.equal(seen[0]?.headers.authorization, `Bearer ${KEY}`);
    assert.equal(seen[0]?.url, '/api/v1/events?workflow=a+b%26c&limit=5');
    assert.match(seen[0]?.headers['user-agent'] ?? '', /^teracron-node\//);
  });
});

test('a 401 names the status, the body error and the hint', async () => {
  await withServer(json(401, { error: 'unknown API key', hint: 'copy the key printed by teracron keygen' }), async (target) => {
    const err = await requestError(queryApi(target, '/v1/auth/whoami'));
    assert.equal(err.status, 401);
    assert.equal(err.message, `GET /v1/auth/whoami on ${target.baseUrl} answered 401 Unauthorized: unknown API key. Hint: copy the key printed by teracron keygen.`);
  });
});

test('a 429 names the Retry-After seconds', async () => {
  await withServer(json(429, { error: 'too many requests for this key', hint: 'slow down' }, { 'retry-after': '30' }), async (target) => {
    const err = await requestError(queryApi(target, '/api/v1/events'));
    assert.equal(err.status, 429);
    assert.match(err.message, /answered 429 Too Many Requests: too many requests for this key\. Hint: slow down\. Retry after 30 s\.$/);
  });
});

test('an error without a hint gets a local hint for its status', async () => {
  await withServer(json(404, { error: 'no such trace' }), async (target) => {
    const err = await requestError(queryApi(target, '/api/v1/traces/abc'));
    assert.match(err.message, /answered 404 Not Found: no such trace\. Hint: the id is not known to this project/);
  });
});

test('a non-JSON error body is shown by its start', async () => {
  await withServer((_req, res) => {
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end(`<html>bad gateway${'x'.repeat(500)}</html>`);
  }, async (target) => {
    const err = await requestError(queryApi(target, '/api/v1/events'));
    assert.match(err.message, /answered 502 Bad Gateway \(body: "<html>bad gatewayx+…"\)\.$/);
  });
});

test('control characters in a server error are escaped, not sent to the terminal', async () => {
  await withServer(json(400, { error: 'bad\u001b[2J id', hint: '\u009b31m' }), async (target) => {
    const err = await requestError(queryApi(target, '/api/v1/traces/zz'));
    assert.match(err.message, /: bad\\u001b\[2J id\. Hint: \\u009b31m\.$/);
    assert.doesNotMatch(err.message, /[\u001b\u009b]/);
  });
});

test('a redirect is not followed, so the key never reaches the other host', async () => {
  await withServer((req, res) => {
    if (req.url === '/elsewhere') {
      res.writeHead(200).end('{}');
      return;
    }
    res.writeHead(302, { location: '/elsewhere' }).end();
  }, async (target, seen) => {
    const err = await requestError(queryApi(target, '/v1/auth/whoami'));
    assert.match(err.message, /answered 302 Found\. Redirects are not followed, so the API key is never sent elsewhere \(it points to "\/elsewhere"\)/);
    assert.equal(seen.length, 1);
  });
});

test('a 200 that is not JSON asks whether the domain is a collector', async () => {
  await withServer((_req, res) => res.writeHead(200).end('<html>hello</html>'), async (target) => {
    const err = await requestError(queryApi(target, '/v1/auth/whoami'));
    assert.match(err.message, /answered 200 but not with JSON \(it starts "<html>hello<\/html>"\): is http:\/\/127\.0\.0\.1:\d+ a Teracron collector\?/);
  });
});

test('a refused connection names the URL and says to check the collector and domain', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const target = resolveTarget({ domain: `http://127.0.0.1:${port}`, apiKey: KEY }, {});
  const err = await requestError(queryApi(target, '/api/v1/workflows', { limit: 3 }));
  assert.equal(err.status, null);
  assert.match(err.message, new RegExp(`^could not reach http://127\\.0\\.0\\.1:${port}/api/v1/workflows \\((connect )?ECONNREFUSED.*\\): nothing is listening there: is the collector running`));
});

test('when no domain was given and the default cannot be reached, the message says how to point at a local collector', async () => {
  const { env, cleanup } = tempHome();
  try {
    const defaulted = resolveTarget({ apiKey: KEY }, env);
    assert.equal(defaulted.domainIsDefault, true);
    // A closed loopback port stands in for the default domain: nothing here reaches the internet.
    const target: Target = { ...defaulted, baseUrl: `http://127.0.0.1:${await closedPort()}` };
    const err = await requestError(queryApi(target, '/api/v1/events'));
    assert.match(err.message, /No domain was given \(--domain, TERACRON_DOMAIN or teracron login\), so the default www\.teracron\.com was used/);
    assert.match(err.message, /--domain http:\/\/127\.0\.0\.1:7777/);
    assert.match(err.message, /`teracron login --domain http:\/\/127\.0\.0\.1:7777`/);
  } finally {
    cleanup();
  }
});

test('when no domain was given and the default answers 401, the message says the key may be for a local collector', async () => {
  const { env, cleanup } = tempHome();
  try {
    await withServer(json(401, { error: 'unknown API key', hint: 'check the key' }), async (served) => {
      const target: Target = { ...resolveTarget({ apiKey: KEY }, env), baseUrl: served.baseUrl };
      const err = await requestError(queryApi(target, '/v1/auth/whoami'));
      assert.match(err.message, /answered 401 Unauthorized: unknown API key\. Hint: check the key\. No domain was given/);
      assert.match(err.message, /`teracron login --domain http:\/\/127\.0\.0\.1:7777`/);
    });
  } finally {
    cleanup();
  }
});

test('a domain that was given is never second-guessed: no local-collector advice', async () => {
  const target = resolveTarget({ domain: `http://127.0.0.1:${await closedPort()}`, apiKey: KEY }, {});
  assert.equal(target.domainIsDefault, false);
  const err = await requestError(queryApi(target, '/api/v1/events'));
  assert.doesNotMatch(err.message, /no domain was given|7777/i);
});

test('a server that never answers times out with a message naming the limit', async () => {
  await withServer(() => undefined, async (target) => {
    const err = await requestError(queryApi(target, '/v1/auth/whoami', {}, { timeoutMs: 200 }));
    assert.match(err.message, /^could not reach .*\/v1\/auth\/whoami \(UND_ERR_HEADERS_TIMEOUT.*\): no answer within 200 ms/);
  });
});

// ---- TLS with TERACRON_CA_FILE ---------------------------------------------------------------

const HAVE_OPENSSL = spawnSync('openssl', ['version']).status === 0;

test('an https collector with its own CA is trusted only once TERACRON_CA_FILE names that CA', { skip: !HAVE_OPENSSL && 'openssl not found' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'teracron-tls-'));
  try {
    const made = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      { encoding: 'utf8' },
    );
    assert.equal(made.status, 0, made.stderr);
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ project_slug: vectors.slug, authenticated: true }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const untrusted = resolveTarget({ domain: `127.0.0.1:${port}`, apiKey: KEY }, {});
      const err = await requestError(queryApi(untrusted, '/v1/auth/whoami'));
      assert.match(err.message, /the server's TLS certificate is not trusted: .* set TERACRON_CA_FILE/);

      writeFileSync(join(dir, 'ca.pem'), cert);
      const trusted = resolveTarget({ domain: `127.0.0.1:${port}`, apiKey: KEY }, { TERACRON_CA_FILE: join(dir, 'ca.pem') });
      assert.deepEqual(await queryApi(trusted, '/v1/auth/whoami'), { project_slug: vectors.slug, authenticated: true });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a TERACRON_CA_FILE without a PEM certificate is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'teracron-tls-'));
  try {
    writeFileSync(join(dir, 'ca.der'), Buffer.from([0x30, 0x82]));
    rejects(() => resolveTarget({ domain: 'www.teracron.com', apiKey: KEY }, { TERACRON_CA_FILE: join(dir, 'ca.der') }), TeracronConfigError, /holds no PEM certificate/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
