/**
 * `--help` and `-h` on every command the CLI has (the list comes from the command table, so a
 * new command is covered without being named here): the usage on stdout, nothing on stderr,
 * exit 0, and nothing else done.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { COMMANDS } from '../../src/cli/commands';
import { runNode } from '../helpers/child';
import { cliPath } from '../helpers/collector';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(180_000);

const TIMEOUT = { timeout: 120_000 };
const agentPath = (): string => join(cliPath(), '..', 'agent-main.js');
// A home with no credentials and no key in the environment: help must need neither.
const env = (): Record<string, string> => ({ TERACRON_HOME: mkdtempSync(join(tmpdir(), 'teracron-help-')) });

function assertUsage(result: { code: number | null; stdout: string; stderr: string }, name: string, how: string): void {
  assert.equal(result.stderr, '', `${how}: nothing on stderr`);
  assert.equal(result.code, 0, `${how}: exit 0`);
  assert.match(result.stdout, /^usage: teracron/, `${how}: the usage on stdout`);
  assert.ok(result.stdout.includes(name), `${how}: the usage names ${name}: ${result.stdout}`);
}

test('every command prints its usage on stdout and exits 0 with --help and with -h', TIMEOUT, async () => {
  const names = Object.keys(COMMANDS);
  assert.ok(names.length >= 11, `the command table lists ${names.join(', ')}`);
  for (const name of names) {
    for (const flag of ['--help', '-h']) {
      assertUsage(await runNode([cliPath(), name, flag], env()), name, `teracron ${name} ${flag}`);
    }
  }
});

test('--help after other flags is still help, and wins over missing required flags', TIMEOUT, async () => {
  assertUsage(await runNode([cliPath(), 'run', '--children', '--help'], env()), 'run', 'teracron run --children --help');
  assertUsage(await runNode([cliPath(), 'collector', '--port', '0', '-h'], env()), 'collector', 'teracron collector --port 0 -h');
  assertUsage(await runNode([cliPath(), 'agent', '--children', '--help'], env()), 'agent', 'teracron agent --children --help');
});

test('teracron help <command> prints that command\'s usage', TIMEOUT, async () => {
  for (const name of ['run', 'collector', 'trace']) {
    assertUsage(await runNode([cliPath(), 'help', name], env()), name, `teracron help ${name}`);
  }
});

test('teracron --help, -h and help alone print the list of commands on stdout', TIMEOUT, async () => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    const result = await runNode([cliPath(), ...args], env());
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    for (const name of Object.keys(COMMANDS)) assert.match(result.stdout, new RegExp(`^  ${name} `, 'm'), `${args[0]} lists ${name}`);
  }
});

test('the teracron-agent executable takes --help and -h', TIMEOUT, async () => {
  for (const flag of ['--help', '-h']) {
    assertUsage(await runNode([agentPath(), flag], env()), 'agent', `teracron-agent ${flag}`);
  }
});

test('teracron run leaves a --help that belongs to the command alone: the command gets it', TIMEOUT, async () => {
  const script = 'console.log(JSON.stringify(process.argv.slice(1)))';
  for (const args of [['--', process.execPath, '-e', script, '--', '--help'], [process.execPath, '-e', script, '--', '-h']]) {
    const result = await runNode([cliPath(), 'run', ...args], env());
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), [args.at(-1)], `teracron run ${args.join(' ')}`);
  }
});
