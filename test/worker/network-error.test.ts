/**
 * The one-line description of a failed request, from real failures made by undici over
 * loopback: TLS spoken to a plain-HTTP server gets a hint that names the URL to use.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Pool } from 'undici';
import { describeNetworkError } from '../../src/worker/network-error';
import { fileTimeout } from '../helpers/file-timeout';
import { serve } from '../helpers/http';
import type { TestServer } from '../helpers/http';
import { closedPort } from '../helpers/ports';

fileTimeout(60_000);

let plain: TestServer;

before(async () => {
  plain = await serve((_req, res) => res.end('plain http'));
});
after(() => plain.close());

/** What undici rejects with when posting to `origin`. */
async function failureOf(origin: string): Promise<unknown> {
  const pool = new Pool(origin, { connectTimeout: 5_000 });
  try {
    await pool.request({ path: '/api/v1/traces', method: 'POST', body: 'x' });
  } catch (err) {
    return err;
  } finally {
    await pool.destroy();
  }
  assert.fail(`posting to ${origin} succeeded`);
}

test('https to a loopback server that speaks plain HTTP says so and names the http:// URL to use', async () => {
  const baseUrl = `https://127.0.0.1:${plain.port}`;
  const text = describeNetworkError(await failureOf(baseUrl), baseUrl);
  assert.match(text, /^ERR_SSL_WRONG_VERSION_NUMBER SSL routines: wrong version number: /);
  assert.ok(text.includes(`the server at 127.0.0.1:${plain.port} speaks plain HTTP, not TLS`), text);
  assert.ok(text.includes(`Set the domain (TERACRON_DOMAIN or the domain option) to http://127.0.0.1:${plain.port}`), text);
  assert.doesNotMatch(text, /\n|ssl3_record\.c/, 'no OpenSSL source line');
});

test('for localhost and [::1] the hint keeps the host as written', async () => {
  const err = await failureOf(`https://127.0.0.1:${plain.port}`);
  assert.ok(describeNetworkError(err, 'https://localhost:7777').includes('to http://localhost:7777'));
  assert.ok(describeNetworkError(err, 'https://[::1]:7777').includes('to http://[::1]:7777'));
});

test('for a host that is not loopback the hint points at the TLS port, since http:// is not allowed there', async () => {
  const err = await failureOf(`https://127.0.0.1:${plain.port}`);
  const text = describeNetworkError(err, 'https://collector.example.com:8080');
  assert.ok(text.includes('the server at collector.example.com:8080 did not answer in TLS: it may speak plain HTTP on that port'), text);
  assert.ok(text.includes('plain http:// is allowed only for loopback hosts'), text);
  assert.doesNotMatch(text, /to http:\/\//);
});

test('other network errors get no TLS hint', async () => {
  const baseUrl = `http://127.0.0.1:${await closedPort()}`;
  const text = describeNetworkError(await failureOf(baseUrl), baseUrl);
  assert.match(text, /ECONNREFUSED/);
  assert.doesNotMatch(text, /TLS|plain HTTP/);
});

test('the hint is found on a cause deeper in the chain', () => {
  const tls = Object.assign(new Error('wrong version number'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' });
  const text = describeNetworkError(new Error('fetch failed', { cause: tls }), 'https://127.0.0.1:7777');
  assert.match(text, /^fetch failed \(wrong version number\): the server at 127\.0\.0\.1:7777 speaks plain HTTP/);
});
