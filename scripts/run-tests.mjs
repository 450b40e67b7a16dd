// Runs every compiled *.test.js under dist/test with node's test runner. Node 20 takes no glob
// and treats every .js file below a `test` folder as a test, fixtures and helpers included,
// so the files are listed here. The first argument, if any, keeps the files whose path has it.
//
// Backstop: given to the runner, node 20's --test-timeout is each file's wall-clock limit: past
// it the file's process is killed and the file reported failed. Each file states its own, smaller
// budget with fileTimeout() (test/helpers/file-timeout.ts), which fires first and says what was
// still running; the backstop is for a file whose event loop is blocked, where that cannot fire.
// So no file, not a hung collector nor a handle left open, can hang the run.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
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
const { MAX_FILE_TIMEOUT_MS } = createRequire(import.meta.url)(join(root, 'dist', 'test', 'helpers', 'file-timeout.js'));
const backstopMs = MAX_FILE_TIMEOUT_MS + 60_000;
// The agent's spool (TERACRON_SPOOL) is on by default and keeps, per project, what could not be
// sent, for the next process of that project to send. Tests share one project (the vectors'),
// so a test whose collector is down on purpose would leave batches that a later test's agent
// sends into its own collector. Off for every test; the spool's tests turn it on with a
// directory of their own.
const env = { ...process.env, TERACRON_SPOOL: process.env.TERACRON_SPOOL ?? '0' };
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', `--test-timeout=${backstopMs}`, ...files], { cwd: root, stdio: 'inherit', env });
process.exit(result.status ?? 1);
