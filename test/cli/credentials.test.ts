import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentialsPath, readCredentials, removeCredentials, writeCredentials } from '../../src/cli/credentials';
import type { StoredCredentials } from '../../src/cli/credentials';
import { TeracronConfigError } from '../../src/errors';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const POSIX = process.platform !== 'win32';
const vectors = envelopeVectors();

const SAMPLE: StoredCredentials = { domain: 'http://127.0.0.1:7777', api_key: vectors.api_key, project_slug: vectors.slug, saved_at: '2024-05-01T00:00:00.000Z' };

/** A fresh TERACRON_HOME under a temporary root, removed when the test ends. */
function home(t: TestContext): { env: NodeJS.ProcessEnv; root: string; dir: string } {
  const root = mkdtempSync(join(tmpdir(), 'teracron-cred-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'home', '.teracron');
  return { env: { TERACRON_HOME: dir }, root, dir };
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

function rejectsWith(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TeracronConfigError, String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

test('credentials are written 0600 in a 0700 directory even under a permissive umask', { skip: !POSIX }, (t) => {
  const { env, dir } = home(t);
  const old = process.umask(0o000);
  try {
    const path = writeCredentials(SAMPLE, env);
    assert.equal(path, join(dir, 'credentials.json'));
    assert.equal(mode(path), 0o600);
    assert.equal(mode(dir), 0o700);
  } finally {
    process.umask(old);
  }
});

test('written credentials read back with every field', (t) => {
  const { env } = home(t);
  writeCredentials(SAMPLE, env);
  assert.deepEqual(readCredentials(env), SAMPLE);
});

test('reading when there is no file gives null', (t) => {
  const { env } = home(t);
  assert.equal(readCredentials(env), null);
});

test('a credentials file readable by group and others (0644) is refused with the chmod fix', { skip: !POSIX }, (t) => {
  const { env } = home(t);
  const path = writeCredentials(SAMPLE, env);
  chmodSync(path, 0o644);
  rejectsWith(() => readCredentials(env), new RegExp(`readable by group/others \\(mode 0644\\).*chmod 600 ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
});

test('a credentials file writable by the group (0620) is refused too', { skip: !POSIX }, (t) => {
  const { env } = home(t);
  chmodSync(writeCredentials(SAMPLE, env), 0o620);
  rejectsWith(() => readCredentials(env), /writable by group\/others \(mode 0620\)/);
});

test('a credentials path that is a symbolic link is not followed when reading', { skip: !POSIX }, (t) => {
  const { env, root, dir } = home(t);
  mkdirSync(dir, { recursive: true });
  const elsewhere = join(root, 'elsewhere.json');
  writeFileSync(elsewhere, JSON.stringify(SAMPLE), { mode: 0o600 });
  symlinkSync(elsewhere, credentialsPath(env));
  rejectsWith(() => readCredentials(env), /symbolic link/);
});

test('a malformed credentials file is reported, not half-used', (t) => {
  const { env, dir } = home(t);
  mkdirSync(dir, { recursive: true });
  writeFileSync(credentialsPath(env), '{"domain": 1}', { mode: 0o600 });
  rejectsWith(() => readCredentials(env), /no "domain" string/);
  writeFileSync(credentialsPath(env), 'not json', { mode: 0o600 });
  rejectsWith(() => readCredentials(env), /not valid JSON/);
});

test('writing replaces a symbolic link at the path instead of writing through it', { skip: !POSIX }, (t) => {
  const { env, root, dir } = home(t);
  mkdirSync(dir, { recursive: true });
  const target = join(root, 'victim.txt');
  writeFileSync(target, 'keep me');
  symlinkSync(target, credentialsPath(env));
  writeCredentials(SAMPLE, env);
  assert.equal(readFileSync(target, 'utf8'), 'keep me');
  assert.deepEqual(readCredentials(env), SAMPLE);
});

test('removing overwrites the file content with zeros of the same length before deleting it', { skip: !POSIX }, (t) => {
  const { env, root } = home(t);
  const path = writeCredentials(SAMPLE, env);
  const before = readFileSync(path);
  // A second name for the same inode shows what was left in the file once its name is gone.
  const witness = join(root, 'witness');
  linkSync(path, witness);
  const result = removeCredentials(env);
  assert.deepEqual(result, { path, removed: true, zeroedBytes: before.length, wasSymlink: false });
  assert.equal(existsSync(path), false);
  const after = readFileSync(witness);
  assert.equal(after.length, before.length);
  assert.ok(after.every((byte) => byte === 0));
});

test('removing a symbolic link deletes the link and leaves its target untouched', { skip: !POSIX }, (t) => {
  const { env, root, dir } = home(t);
  mkdirSync(dir, { recursive: true });
  const target = join(root, 'victim.txt');
  writeFileSync(target, 'keep me');
  symlinkSync(target, credentialsPath(env));
  assert.equal(removeCredentials(env).wasSymlink, true);
  assert.equal(readFileSync(target, 'utf8'), 'keep me');
  assert.equal(existsSync(credentialsPath(env)), false);
});

test('removing when there is no file reports that nothing was removed', (t) => {
  const { env } = home(t);
  assert.equal(removeCredentials(env).removed, false);
});

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(argv: string[], env: Record<string, string>): Promise<CliResult> {
  const modulePath = join(__dirname, '..', '..', 'src', 'cli', 'credentials-commands.js');
  const script = `require(${JSON.stringify(modulePath)}).run(${JSON.stringify(argv)}).then((c) => { process.exitCode = c; }, (e) => { console.error(e); process.exitCode = 99; });`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('teracron logout says it overwrote and deleted the file, then that there is nothing to do', async (t) => {
  const { env } = home(t);
  const path = writeCredentials(SAMPLE, env);
  const first = await cli(['logout'], { TERACRON_HOME: env.TERACRON_HOME as string });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /^Overwrote .*credentials\.json with \d+ zero bytes, flushed it to disk and deleted it\.\n$/);
  assert.equal(existsSync(path), false);
  const second = await cli(['logout'], { TERACRON_HOME: env.TERACRON_HOME as string });
  assert.equal(second.code, 0);
  assert.match(second.stderr, /No credentials at .*; nothing to do/);
});

test('teracron login without an API key on a non-terminal stdin is a usage error and saves nothing', async (t) => {
  const { env } = home(t);
  const result = await cli(['login', '--domain', 'http://127.0.0.1:9'], { TERACRON_HOME: env.TERACRON_HOME as string });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /login needs --api-key \(or TERACRON_API_KEY\); stdin is not a terminal/);
  assert.equal(existsSync(credentialsPath(env)), false);
});

test('teracron login rejected by the server (401) fails with its error and hint and saves nothing', async (t) => {
  const { env } = home(t);
  // Stand-in for the collector's error answer only.
  const server = createServer((_req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'unknown API key', hint: 'copy the key from <data>/keys/<slug>.apikey' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const result = await cli(['login', '--domain', `http://127.0.0.1:${port}`, '--api-key', vectors.api_key], { TERACRON_HOME: env.TERACRON_HOME as string });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /answered 401 Unauthorized: unknown API key\. Hint: copy the key from <data>\/keys\/<slug>\.apikey\./);
    assert.equal(existsSync(credentialsPath(env)), false);
  } finally {
    server.close();
  }
});
