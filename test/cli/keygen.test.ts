import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectKeys } from '../../src/collector/keys';
import { runNode } from '../helpers/child';
import type { NodeResult } from '../helpers/child';
import { decodeApiKey, SLUG_PATTERN } from '../../src/wire/api-key';
import { loadPrivateKey, loadPublicKey, openEnvelope, sealEnvelope } from '../../src/wire/envelope';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const MAIN = join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

function teracron(args: string[], env: Record<string, string | undefined> = { PATH: process.env.PATH }): Promise<NodeResult> {
  return runNode([MAIN, ...args], env, 60_000);
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'teracron-keygen-'));
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

function keyFrom(stdout: string): string {
  const match = /^TERACRON_API_KEY=(tcn_[A-Za-z0-9_-]+)\n$/.exec(stdout);
  assert.ok(match, `stdout is not one TERACRON_API_KEY line: ${JSON.stringify(stdout)}`);
  return match[1]!;
}

test('keygen prints exactly one TERACRON_API_KEY line and writes the key pair with private modes', async () => {
  const dir = tempDir();
  const result = await teracron(['keygen', '--dir', dir]);
  assert.equal(result.code, 0, result.stderr);
  const apiKey = keyFrom(result.stdout);
  const { slug, publicKeyPem } = decodeApiKey(apiKey);
  assert.match(slug, SLUG_PATTERN);
  const keysDir = join(dir, 'keys');
  assert.deepEqual(readdirSync(keysDir).sort(), [`${slug}.apikey`, `${slug}.pem`]);
  assert.equal(mode(keysDir), 0o700);
  assert.equal(mode(join(keysDir, `${slug}.pem`)), 0o600);
  assert.equal(readFileSync(join(keysDir, `${slug}.apikey`), 'utf8'), `${apiKey}\n`);
  assert.equal(loadPublicKey(publicKeyPem).asymmetricKeyDetails?.modulusLength, 4096);
  assert.match(result.stderr, new RegExp(`made project ${slug}`));
  assert.match(result.stderr, new RegExp(`teracron collector --data ${dir.replace(/[.]/g, '\\.')}`));
  assert.match(result.stderr, /teracron login --domain http:\/\/127\.0\.0\.1:7777 --api-key/, 'says how to point the query commands at the collector');
  assert.equal(existsSync(join(dir, 'tls')), false);
});

test('the written private key opens an envelope sealed with the printed key, and the collector loads the pair', async () => {
  const dir = tempDir();
  const result = await teracron(['keygen', '--dir', dir]);
  assert.equal(result.code, 0, result.stderr);
  const apiKey = keyFrom(result.stdout);
  const { slug, publicKeyPem } = decodeApiKey(apiKey);
  const pem = readFileSync(join(dir, 'keys', `${slug}.pem`), 'utf8');
  assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
  const sealed = sealEnvelope(Buffer.from('hello collector'), loadPublicKey(publicKeyPem));
  assert.equal(openEnvelope(sealed, loadPrivateKey(pem)).toString('utf8'), 'hello collector');
  const projects = loadProjectKeys(dir);
  assert.deepEqual([...projects.keys()], [slug]);
  assert.equal(projects.get(slug)!.apiKey, apiKey);
});

test('a second keygen in the same directory makes a second project with another slug', async () => {
  const dir = tempDir();
  const first = decodeApiKey(keyFrom((await teracron(['keygen', '--dir', dir])).stdout)).slug;
  const second = decodeApiKey(keyFrom((await teracron(['keygen', '--dir', dir])).stdout)).slug;
  assert.notEqual(first, second);
  assert.deepEqual([...loadProjectKeys(dir).keys()].sort(), [first, second].sort());
});

test('keygen --tls writes a self-signed certificate for localhost and 127.0.0.1 with a private key file', { skip: !hasOpenssl && 'openssl is not installed' }, async () => {
  const dir = tempDir();
  const result = await teracron(['keygen', '--dir', dir, '--tls']);
  assert.equal(result.code, 0, result.stderr);
  keyFrom(result.stdout);
  const cert = new X509Certificate(readFileSync(join(dir, 'tls', 'cert.pem')));
  assert.deepEqual(cert.subjectAltName?.split(', ').sort(), ['DNS:localhost', 'IP Address:127.0.0.1']);
  assert.equal(cert.subject, 'CN=localhost');
  assert.equal(cert.checkPrivateKey(createPrivateKey(readFileSync(join(dir, 'tls', 'key.pem')))), true);
  assert.equal(mode(join(dir, 'tls', 'key.pem')), 0o600);
  assert.match(result.stderr, /--tls-cert .*cert\.pem --tls-key .*key\.pem/);
});

test('keygen --tls without openssl on PATH says to install it, exits 1 and writes no project', async () => {
  const dir = tempDir();
  const result = await teracron(['keygen', '--dir', dir, '--tls'], { PATH: tempDir() });
  assert.equal(result.code, 1);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /needs the `openssl` command-line tool, which was not found on PATH: install openssl/);
  assert.equal(existsSync(join(dir, 'keys')), false);
});

test('keygen without --dir exits 2 with the usage and prints nothing on stdout', async () => {
  const result = await teracron(['keygen']);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /--dir is required/);
  assert.match(result.stderr, /usage: teracron keygen --dir <dir> \[--tls\]/);
});

test('keygen with an unknown flag exits 2', async () => {
  const result = await teracron(['keygen', '--dir', tempDir(), '--bits', '2048']);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /Unknown option '--bits'/);
});
