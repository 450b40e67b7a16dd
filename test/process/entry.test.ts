/** `teracron/process` through the package's exports map: require and import share one reader. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { repoRoot } from '../../support/repo-root';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

test('import and require of "teracron/process" give the same reader and every export', () => {
  const script = [
    "const cjs = require('teracron/process');",
    "import('teracron/process').then((esm) => {",
    '  const missing = Object.keys(cjs).filter((name) => esm[name] !== cjs[name]);',
    '  const sample = esm.readProcess(process.pid);',
    "  process.stdout.write(JSON.stringify({ missing, reader: esm.processReader, pid: sample.pid, command: sample.command, same: esm.default === cjs }));",
    '});',
  ].join('\n');
  const out = execFileSync(process.execPath, ['-e', script], { cwd: repoRoot(), encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), { missing: [], reader: 'native', pid: JSON.parse(out).pid, command: 'node', same: true });
  assert.ok(JSON.parse(out).pid > 0);
});
