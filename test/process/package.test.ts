/**
 * The package a user installs. `npm pack` builds the linux-x64 prebuild, ships it, and ships a
 * package.json with no scripts (npm 11 asks users to approve every dependency's install script),
 * which is also what `npm publish` tells the registry; a project installing the tarball on a
 * machine without a compiler, with or without --ignore-scripts, and again from its lockfile,
 * loads the addon from prebuilds/, compiles nothing and pulls no collector dependency, and
 * `teracron collector` there says what to install. The repository's package.json comes out of a
 * pack or publish byte for byte, even when the pack fails.
 *
 * Everything runs the real npm on a copy of the repository in a temp dir (sharing its
 * node_modules), so the repository itself is never packed while other tests read it.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DRIVER_RANGE } from '../../src/collector/store/open';
import { compilerlessBin, mustRun, npmCli, runCommand, userEnv } from '../helpers/npm';
import { repoRoot } from '../../support/repo-root';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(300_000);

const PLATFORM = `${process.platform}-${process.arch}`;
const NPM_TIMEOUT_MS = 600_000;
// What a clone holds beyond the sources: outputs, installs, and what a pack leaves.
const NOT_COPIED = new Set(['.git', 'node_modules', 'dist', 'build', 'prebuilds', 'test-results', '.teracron', join('bench', 'node_modules')]);
// Fields of the repository's package.json that only its own install reads.
const DEV_ONLY_FIELDS = ['scripts', 'devDependencies', 'overrides', 'allowScripts'];

interface Manifest {
  [field: string]: unknown;
  scripts?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

let work = '';
let checkout = ''; // the copy of the repository that is packed
let originalManifest = '';
let tarball = '';
let unpacked = ''; // the tarball, extracted: unpacked/package/…
let bin = ''; // PATH for a machine without a compiler

async function waitFor(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`waited ${timeoutMs} ms: ${what()}`);
    await sleep(50);
  }
}

/** A fresh project in a temp folder, as `npm init` would leave it. */
function freshProject(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `teracron-${name}`, version: '0.0.0', private: true }, null, 2)}\n`);
  return dir;
}

/** Folders node-gyp leaves when it compiles (build/ with a Makefile, config.gypi or Release/). */
function compiledFolders(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (entry.name === 'build' && ['Makefile', 'config.gypi', 'Release', 'Debug'].some((name) => existsSync(join(path, name)))) found.push(path);
    else found.push(...compiledFolders(path));
  }
  return found;
}

/** Which reader the installed package picks and where its binary comes from, seen from the app. */
async function probeReader(app: string): Promise<{ reader: string; path: string; uss: number; stderr: string }> {
  // dist/src/process/native is not in the package's exports map, so it is loaded by path.
  const probe = `
    const { dirname, join } = require('node:path');
    const processModule = require('teracron/process');
    const native = require(join(dirname(require.resolve('teracron/package.json')), 'dist', 'src', 'process', 'native.js'));
    console.log(JSON.stringify({ reader: processModule.processReader, path: native.nativeBindingPath(), uss: processModule.readProcess(process.pid).uss }));
  `;
  const ran = await mustRun(join(bin, 'node'), ['-e', probe], { cwd: app, env: userEnv(bin) });
  return { ...(JSON.parse(ran.stdout) as { reader: string; path: string; uss: number }), stderr: ran.stderr };
}

/** The packages npm names in its "not yet covered by allowScripts" list. */
function listedForApproval(npmOutput: string): string[] {
  return [...npmOutput.matchAll(/^(?:npm warn install-scripts)?\s+((?:@[^\s/]+\/)?[^\s@]+)@\S+ \((?:preinstall|install|postinstall|prepare):/gm)].map((match) => match[1] as string);
}

/** `shipped` is the repository's package.json without its dev-only fields, with gypfile false. */
function assertPublishedManifest(shipped: Manifest): void {
  const repository = JSON.parse(originalManifest) as Manifest;
  assert.ok(repository.scripts?.install !== undefined && repository.scripts.prepare !== undefined, 'the repository should keep its install and prepare scripts for npm ci');
  for (const field of DEV_ONLY_FIELDS) assert.equal(shipped[field], undefined, `the published package.json still has ${field}: ${JSON.stringify(shipped[field])}`);
  // Without it, npm publish sees the repository's binding.gyp and adds `install: node-gyp rebuild`.
  assert.equal(shipped.gypfile, false);
  const kept = Object.fromEntries(Object.entries(repository).filter(([field]) => !DEV_ONLY_FIELDS.includes(field) && field !== 'gypfile'));
  assert.deepEqual(Object.fromEntries(Object.entries(shipped).filter(([field]) => field !== 'gypfile')), kept);
}

/** package.json in the packed checkout is the repository's again, with no backup beside it. */
async function manifestRestored(why: string): Promise<void> {
  const manifest = join(checkout, 'package.json');
  await waitFor(
    () => readFileSync(manifest, 'utf8') === originalManifest && readdirSync(checkout).every((name) => !name.startsWith('package.json.')),
    30_000,
    () => `package.json was not restored ${why}:\n${readFileSync(manifest, 'utf8')}`,
  );
}

function assertInstalledLikeAUser(app: string): void {
  const modules = join(app, 'node_modules');
  for (const name of ['better-sqlite3', 'prebuild-install', 'bindings']) {
    assert.equal(existsSync(join(modules, name)), false, `installing teracron pulled ${name}, a dependency of the collector's driver`);
  }
  assert.deepEqual(compiledFolders(modules), [], 'installing teracron compiled something');
}

describe('the package a user installs', { skip: PLATFORM === 'linux-x64' ? false : `the prebuild is checked on linux-x64 only; this is ${PLATFORM}` }, () => {
  before(
    async () => {
      // Real paths: Node reports the loaded binary's path with symlinks resolved.
      work = realpathSync(mkdtempSync(join(tmpdir(), 'teracron-package-')));
      const root = repoRoot();
      checkout = join(work, 'checkout');
      cpSync(root, checkout, {
        recursive: true,
        filter: (source) => {
          const path = relative(root, source);
          return !NOT_COPIED.has(path) && !path.endsWith('.tgz') && !path.startsWith(`package.json.`);
        },
      });
      // tsc, prebuildify and node-addon-api come from the repository's own install.
      symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'), 'dir');
      originalManifest = readFileSync(join(checkout, 'package.json'), 'utf8');
      bin = compilerlessBin(join(work, 'bin'));

      // No --ignore-scripts: prepack is what builds dist/ and the prebuild and writes the manifest.
      const destination = join(work, 'packed');
      mkdirSync(destination);
      await mustRun(npmCli(), ['pack', '--pack-destination', destination], { cwd: checkout, env: userEnv() });
      const [name, ...others] = readdirSync(destination);
      assert.ok(name !== undefined && others.length === 0, `npm pack should write one tarball, not ${readdirSync(destination).join(', ') || 'none'}`);
      tarball = join(destination, name);
      unpacked = join(work, 'unpacked');
      mkdirSync(unpacked);
      await mustRun('tar', ['-xzf', tarball, '-C', unpacked], { cwd: work, env: userEnv() });
    },
    { timeout: NPM_TIMEOUT_MS },
  );

  after(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  test('the tarball carries the linux-x64 prebuild, a shared object for x86-64', () => {
    const dir = join(unpacked, 'package', 'prebuilds', 'linux-x64');
    const binaries = existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.node')) : [];
    assert.notEqual(binaries.length, 0, `the tarball has no prebuilds/linux-x64/*.node`);
    for (const name of binaries) {
      const header = readFileSync(join(dir, name)).subarray(0, 20);
      assert.deepEqual([...header.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], `${name} is not an ELF file`);
      assert.equal(header.readUInt16LE(18), 62, `${name} is not built for x86-64 (e_machine ${header.readUInt16LE(18)})`);
    }
  });

  test('the packed package.json has no scripts or other dev-only fields, says gypfile false, and is otherwise the repository one', () => {
    assertPublishedManifest(JSON.parse(readFileSync(join(unpacked, 'package', 'package.json'), 'utf8')) as Manifest);
  });

  test('the tarball has no binding.gyp at its root, and the sources to build the addon on request under native/', () => {
    // A root binding.gyp makes npm run `node-gyp rebuild` on install, whatever package.json says.
    assert.equal(existsSync(join(unpacked, 'package', 'binding.gyp')), false);
    for (const name of ['binding.gyp', 'addon.gypi', 'addon.cc', 'proc_linux.cc']) assert.ok(existsSync(join(unpacked, 'package', 'native', name)), `native/${name} is missing`);
    assert.equal(existsSync(join(unpacked, 'package', 'native', 'build')), false);
  });

  test('npm pack leaves the repository package.json byte for byte as it was, and nothing beside it', () => {
    // postpack restores it before npm pack returns: no waiting here.
    assert.equal(readFileSync(join(checkout, 'package.json'), 'utf8'), originalManifest);
    assert.deepEqual(readdirSync(checkout).filter((name) => name.startsWith('package.json.')), []);
  });

  test(
    'a pack that fails after prepack still gets the repository package.json back once npm ends',
    { timeout: NPM_TIMEOUT_MS },
    async () => {
      // The tarball is written after prepack and before postpack: a destination that does not
      // exist fails the pack exactly where package.json holds the published manifest.
      const missing = join(work, 'no-such-folder');
      const ran = await runCommand(npmCli(), ['pack', '--pack-destination', missing], { cwd: checkout, env: userEnv() });
      assert.notEqual(ran.code, 0, `npm pack into ${missing} should have failed:\n${ran.stderr}`);
      assert.match(ran.stderr, /ENOENT/);
      await manifestRestored('after the failed pack');
    },
  );

  test(
    'npm publish sends the registry the published manifest, with no install script, and package.json comes back after',
    { timeout: NPM_TIMEOUT_MS },
    async (t) => {
      // A registry on loopback that has never heard of teracron and keeps what npm publishes.
      const published: Buffer[] = [];
      const registry = createServer((request, response) => {
        if (request.method === 'PUT') {
          request.on('data', (chunk: Buffer) => published.push(chunk));
          request.on('end', () => response.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}'));
          return;
        }
        request.resume();
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      });
      await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
      t.after(() => registry.close());
      const url = `http://127.0.0.1:${(registry.address() as AddressInfo).port}/`;

      await mustRun(npmCli(), ['publish', `--registry=${url}`, `--${url.slice('http:'.length)}:_authToken=test-token`], { cwd: checkout, env: userEnv() });
      const body = JSON.parse(Buffer.concat(published).toString('utf8')) as { versions?: Record<string, Manifest> };
      const version = (JSON.parse(originalManifest) as { version: string }).version;
      const metadata = body.versions?.[version];
      assert.ok(metadata !== undefined, `npm published no version ${version}: ${Object.keys(body.versions ?? {}).join(', ')}`);
      assert.equal(metadata.scripts, undefined, `the registry would tell every consumer that teracron has scripts: ${JSON.stringify(metadata.scripts)}`);
      assert.equal(metadata.gypfile, false);
      assert.equal(metadata.devDependencies, undefined);
      await manifestRestored('after npm publish');
    },
  );

  test(
    'installed with --ignore-scripts on a machine without a compiler, the package loads the addon from prebuilds/ and pulls no collector dependency',
    { timeout: NPM_TIMEOUT_MS },
    async () => {
      const app = freshProject('ignore-scripts');
      await mustRun(join(bin, 'npm'), ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: app, env: userEnv(bin) });
      assertInstalledLikeAUser(app);

      const seen = await probeReader(app);
      assert.equal(seen.reader, 'native', `the installed package fell back to the TypeScript reader: ${seen.stderr}`);
      assert.ok(seen.path.startsWith(join(app, 'node_modules', 'teracron', 'prebuilds', 'linux-x64') + sep), `the binary loaded from ${seen.path}`);
      assert.ok(seen.uss > 0, `uss ${seen.uss}`);
      assert.equal(seen.stderr, '');
    },
  );

  test(
    'a plain install and then npm ci from its lockfile, on a machine without a compiler, compile nothing, and npm asks no approval for teracron',
    { timeout: NPM_TIMEOUT_MS },
    async () => {
      const app = freshProject('plain');
      const installed = await mustRun(join(bin, 'npm'), ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: app, env: userEnv(bin) });
      assertInstalledLikeAUser(app);
      // Installing again from the lockfile, as CI does: npm then knows the packages from
      // package-lock.json, which keeps no scripts, and looks at each one's files instead.
      rmSync(join(app, 'node_modules'), { recursive: true });
      await mustRun(join(bin, 'npm'), ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, env: userEnv(bin) });
      assertInstalledLikeAUser(app);
      const pending = await mustRun(join(bin, 'npm'), ['install-scripts', 'ls'], { cwd: app, env: userEnv(bin) });
      for (const output of [installed.stderr, pending.stdout]) {
        const listed = listedForApproval(output);
        // msgpackr's optional msgpackr-extract has an install script of its own: npm listing it
        // shows this parser reads npm's list, so teracron's absence from it means something.
        assert.ok(listed.includes('msgpackr-extract'), `npm's approval list was not found in its output:\n${output}`);
        assert.ok(!listed.includes('teracron'), `npm asks to approve teracron's install scripts:\n${output}`);
      }
      assert.equal((await probeReader(app)).reader, 'native');
    },
  );

  test(
    'without better-sqlite3, `teracron collector` says to install it, with the range package.json declares',
    { timeout: NPM_TIMEOUT_MS },
    async () => {
      const peer = (JSON.parse(originalManifest) as Manifest).peerDependencies?.['better-sqlite3'];
      assert.equal(peer, DRIVER_RANGE, 'the collector names a better-sqlite3 range other than package.json peerDependencies');
      assert.equal((JSON.parse(originalManifest) as Manifest).peerDependenciesMeta?.['better-sqlite3']?.optional, true);

      const app = freshProject('collector');
      const env = userEnv(bin);
      await mustRun(join(bin, 'npm'), ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: app, env });
      const teracron = join(app, 'node_modules', '.bin', 'teracron');
      await mustRun(teracron, ['keygen', '--dir', 'data'], { cwd: app, env });
      const ran = await runCommand(teracron, ['collector', '--data', 'data'], { cwd: app, env });
      assert.equal(ran.code, 1, `teracron collector exited with ${ran.code}:\n${ran.stdout}\n${ran.stderr}`);
      assert.ok(ran.stderr.includes('better-sqlite3, which is not installed'), ran.stderr);
      assert.ok(ran.stderr.includes(`npm install teracron "better-sqlite3@${peer}"`), ran.stderr);
      assert.equal(ran.stdout.includes('listening'), false);
    },
  );
});
