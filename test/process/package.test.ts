/**
 * The published package carries its addon prebuilt: `npm run prebuild` (prebuildify) puts the
 * binary under prebuilds/, `npm pack` ships it, and a project installing the tarball loads it
 * without compiling anything. Runs the real npm against a copy of the package in a temp dir.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../../support/repo-root';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(300_000);

const run = promisify(execFile);
const PLATFORM = `${process.platform}-${process.arch}`;

/** The parent's npm_* variables (set when this runs under `npm test`) would point npm at the repo. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('npm_') && name !== 'INIT_CWD'));
}

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', args, { cwd, env: cleanEnv(), maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

test(
  'the npm tarball ships the linux-x64 prebuild, and a project installing it loads the addon without compiling',
  { skip: PLATFORM === 'linux-x64' ? false : `the prebuild is checked on linux-x64 only; this is ${PLATFORM}`, timeout: 240_000 },
  async () => {
    const root = repoRoot();
    // Real path: Node reports the loaded binary's path with symlinks resolved.
    const work = realpathSync(mkdtempSync(join(tmpdir(), 'teracron-package-')));
    try {
      const pkg = join(work, 'package');
      for (const entry of ['package.json', 'binding.gyp', 'native', join('dist', 'src'), 'esm', 'README.md']) {
        cpSync(join(root, entry), join(pkg, entry), { recursive: true });
      }
      // prebuildify and node-addon-api come from the repository's own install.
      symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'), 'dir');

      await npm(['run', 'prebuild'], pkg);
      const binaries = readdirSync(join(pkg, 'prebuilds', 'linux-x64')).filter((name) => name.endsWith('.node'));
      assert.notEqual(binaries.length, 0, 'prebuildify wrote no .node file under prebuilds/linux-x64');

      const [packed] = JSON.parse(await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], pkg)) as Array<{ filename: string; files: Array<{ path: string }> }>;
      assert.ok(packed);
      const shipped = packed.files.map((file) => file.path);
      for (const name of binaries) assert.ok(shipped.includes(`prebuilds/linux-x64/${name}`), `the tarball lacks prebuilds/linux-x64/${name}`);

      const app = join(work, 'app');
      mkdirSync(app);
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'teracron-package-test', version: '0.0.0', private: true }));
      await npm(['install', join(work, packed.filename), '--omit=optional', '--no-audit', '--no-fund'], app);
      assert.equal(existsSync(join(app, 'node_modules', 'teracron', 'build')), false, 'installing compiled the addon instead of using the prebuild');

      // dist/src/process/native is not in the package's exports map, so it is loaded by path.
      const probe = `
        const { dirname, join } = require('node:path');
        const processModule = require('teracron/process');
        const native = require(join(dirname(require.resolve('teracron/package.json')), 'dist', 'src', 'process', 'native.js'));
        const sample = processModule.readProcess(process.pid);
        console.log(JSON.stringify({ reader: processModule.processReader, path: native.nativeBindingPath(), rss: sample.rss, uss: sample.uss }));
      `;
      const { stdout, stderr } = await run(process.execPath, ['-e', probe], { cwd: app, env: cleanEnv() });
      const seen = JSON.parse(stdout) as { reader: string; path: string; rss: number; uss: number };
      assert.equal(seen.reader, 'native', `the installed package fell back to the TypeScript reader: ${stderr}`);
      assert.ok(seen.path.startsWith(join(app, 'node_modules', 'teracron', 'prebuilds', 'linux-x64') + '/'), `the binary loaded from ${seen.path}`);
      assert.ok(seen.rss > 0, `rss ${seen.rss}`);
      assert.ok(seen.uss > 0, `uss ${seen.uss}`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
);
