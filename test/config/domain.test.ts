import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TeracronConfigError } from '../../src/errors';
import { isLoopbackHost, isTeracronHost, parseDomain } from '../../src/config/domain';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const ALLOW = { TERACRON_ALLOW_CUSTOM_DOMAIN: '1' };

function rejects(value: string, env: NodeJS.ProcessEnv, pattern: RegExp): void {
  assert.throws(
    () => parseDomain(value, env),
    (err: unknown) => {
      assert.ok(err instanceof TeracronConfigError, `expected TeracronConfigError, got ${String(err)}`);
      assert.equal(err.code, 'TERACRON_ERR_CONFIG');
      assert.match(err.message, pattern);
      return true;
    },
  );
}

test('a bare host gets https and becomes the origin', () => {
  const endpoint = parseDomain('www.teracron.com', {});
  assert.equal(endpoint.baseUrl, 'https://www.teracron.com');
  assert.equal(endpoint.domain, 'www.teracron.com');
  assert.equal(endpoint.secure, true);
});

test('host:port keeps the port in both baseUrl and domain', () => {
  const endpoint = parseDomain('eu.teracron.com:8443', {});
  assert.equal(endpoint.baseUrl, 'https://eu.teracron.com:8443');
  assert.equal(endpoint.domain, 'eu.teracron.com:8443');
});

test('a full https URL with a trailing slash is accepted', () => {
  assert.equal(parseDomain('https://api.teracron.com/', {}).baseUrl, 'https://api.teracron.com');
});

test('the default https port is dropped from domain', () => {
  assert.equal(parseDomain('https://www.teracron.com:443', {}).domain, 'www.teracron.com');
});

test('hosts are compared in lower case', () => {
  assert.equal(parseDomain('HTTPS://WWW.Teracron.COM', {}).baseUrl, 'https://www.teracron.com');
});

test('surrounding whitespace is ignored', () => {
  assert.equal(parseDomain('  www.teracron.com \n', {}).domain, 'www.teracron.com');
});

test('the apex teracron.com and deep subdomains are allowed without opt-in', () => {
  assert.equal(parseDomain('teracron.com', {}).domain, 'teracron.com');
  assert.equal(parseDomain('a.b.eu.teracron.com', {}).domain, 'a.b.eu.teracron.com');
});

test('plain http is accepted for localhost', () => {
  const endpoint = parseDomain('http://localhost:7777', {});
  assert.equal(endpoint.baseUrl, 'http://localhost:7777');
  assert.equal(endpoint.secure, false);
});

test('plain http is accepted for [::1]', () => {
  const endpoint = parseDomain('http://[::1]:7777', {});
  assert.equal(endpoint.baseUrl, 'http://[::1]:7777');
  assert.equal(endpoint.domain, '[::1]:7777');
});

test('plain http is accepted for any 127.0.0.0/8 address such as 127.5.6.7', () => {
  assert.equal(parseDomain('http://127.5.6.7:9000', {}).baseUrl, 'http://127.5.6.7:9000');
});

test('a bare ::1 is read as an IPv6 host, not host:port', () => {
  assert.equal(parseDomain('::1', {}).baseUrl, 'https://[::1]');
});

test('loopback hosts need no custom-domain opt-in', () => {
  assert.equal(parseDomain('127.0.0.1:7777', {}).baseUrl, 'https://127.0.0.1:7777');
});

test('plain http to a non-loopback host is rejected with the value and the fix', () => {
  rejects('http://collector.example.com', ALLOW, /"http:\/\/collector\.example\.com".*plain http.*loopback.*https:\/\//);
});

test('plain http is rejected even for teracron.com', () => {
  rejects('http://www.teracron.com', {}, /plain http/);
});

test('plain http is rejected for a non-loopback IP such as 10.0.0.1', () => {
  rejects('http://10.0.0.1:7777', ALLOW, /plain http/);
});

test('a custom domain is rejected without TERACRON_ALLOW_CUSTOM_DOMAIN', () => {
  rejects('collector.example.com', {}, /TERACRON_DOMAIN="collector\.example\.com".*outside teracron\.com.*TERACRON_ALLOW_CUSTOM_DOMAIN=1/);
});

test('a custom domain is accepted with TERACRON_ALLOW_CUSTOM_DOMAIN=1', () => {
  const endpoint = parseDomain('https://collector.example.com:8443', ALLOW);
  assert.equal(endpoint.baseUrl, 'https://collector.example.com:8443');
});

test('TERACRON_ALLOW_CUSTOM_DOMAIN=0 keeps custom domains rejected', () => {
  rejects('collector.example.com', { TERACRON_ALLOW_CUSTOM_DOMAIN: '0' }, /outside teracron\.com/);
});

test('a TERACRON_ALLOW_CUSTOM_DOMAIN that is not a boolean is an error naming it', () => {
  rejects('collector.example.com', { TERACRON_ALLOW_CUSTOM_DOMAIN: 'please' }, /TERACRON_ALLOW_CUSTOM_DOMAIN="please"/);
});

test('look-alike domains are rejected', () => {
  for (const value of ['evilteracron.com', 'teracron.com.evil.io', 'teracron.co', 'www.teracron.com.evil.io', 'teracron.com-evil.io', 'www.t\u0435racron.com']) {
    rejects(value, {}, /outside teracron\.com/);
  }
});

test('userinfo cannot smuggle a host past the allowlist', () => {
  rejects('https://www.teracron.com@evil.io', {}, /"@"/);
});

test('a path is rejected', () => {
  rejects('www.teracron.com/api', {}, /has a path.*"\/api"/);
  rejects('https://www.teracron.com/api/ingest', {}, /has a path/);
});

test('a query or fragment is rejected', () => {
  rejects('www.teracron.com?x=1', {}, /has a path or query/);
  rejects('www.teracron.com#x', {}, /has a path or query/);
});

test('a backslash, which URL reads as a path, is rejected', () => {
  rejects('evil.io\\.teracron.com', ALLOW, /has a path/);
});

test('schemes other than http and https are rejected', () => {
  rejects('ftp://www.teracron.com', {}, /"ftp:\/\/"/);
});

test('an empty domain is rejected', () => {
  rejects('   ', {}, /is empty/);
});

test('a port above 65535 is rejected', () => {
  rejects('www.teracron.com:99999', {}, /not a valid host\[:port\]/);
});

test('port 0 is rejected', () => {
  rejects('www.teracron.com:0', {}, /port 0/);
});

test('messages name the setting they were given', () => {
  assert.throws(() => parseDomain('evil.io', {}, 'option domain'), /^TeracronConfigError: option domain="evil\.io"/);
});

test('isLoopbackHost recognises localhost, 127.0.0.0/8 and ::1 in its forms', () => {
  for (const host of ['localhost', 'LOCALHOST', 'localhost.', '127.0.0.1', '127.5.6.7', '127.255.255.254', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) {
    assert.equal(isLoopbackHost(host), true, host);
  }
});

test('isLoopbackHost rejects other hosts and names that merely look local', () => {
  for (const host of ['128.0.0.1', '10.0.0.1', '0.0.0.0', '::', '::2', 'localhost.evil.io', 'mylocalhost', '127.0.0.1.nip.io', '']) {
    assert.equal(isLoopbackHost(host), false, host);
  }
});

test('isTeracronHost matches only on a label boundary', () => {
  assert.equal(isTeracronHost('teracron.com'), true);
  assert.equal(isTeracronHost('eu.teracron.com'), true);
  assert.equal(isTeracronHost('evilteracron.com'), false);
  assert.equal(isTeracronHost('teracron.com.evil.io'), false);
});
