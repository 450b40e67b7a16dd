// Runs every compiled *.test.js under dist/test with node's test runner. Node 20 takes no glob
// and treats every .js file below a `test` folder as a test, fixtures and helpers included,
// so the files are listed here. Extra arguments (e.g. a file filter) are passed through.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const filter = process.argv[2];

function collect(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return collect(path);
    return entry.name.endsWith('.test.js') ? [path] : [];
  });
}

const files = collect(join(root, 'dist', 'test'))
  .map((file) => relative(root, file))
  .filter((file) => filter === undefined || file.includes(filter))
  .sort();
if (files.length === 0) {
  console.error(`no test files found${filter ? ` matching ${filter}` : ''}; did the build run?`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
