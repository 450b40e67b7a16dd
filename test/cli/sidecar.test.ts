/**
 * The sidecar commands against the real collector: `teracron run` (spawn, monitor, forward
 * signals, pass the exit code on) and `teracron-agent --pid` (watch a running process until it
 * exits). Metrics are read back through the collector's query API.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixturePath, runNode } from '../helpers/child';
import type { NodeChild, NodeResult } from '../helpers/child';
import { cliPath, query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import type { CollectorProcess } from '../helpers/collector';
import { envelopeVectors } from '../helpers/vectors';
import { waitFor } from '../helpers/wait';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(180_000);

let collector: CollectorProcess;

before(async () => {
  collector = await startCollectorProcess(vectorDataDir());
});
after(() => collector.stop());

function agentEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return { PATH: process.env.PATH, TERACRON_API_KEY: envelopeVectors().api_key, TERACRON_DOMAIN: collector.url, ...extra };
}

/** Runs a script with node; `onStart` gets the child (to signal it) once it is running. */
function runScript(script: string, args: string[], env: Record<string, string | undefined>, onStart?: (child: NodeChild) => void): Promise<NodeResult> {
  return runNode([script, ...args], env, 60_000, onStart);
}

async function pidsOnCollector(): Promise<Array<{ pid: number; ppid: number | null; command: string | null; samples: number }>> {
  const { status, body } = await query(collector.url, '/api/v1/metrics?limit=1');
  assert.equal(status, 200);
  return body.pids;
}

test('teracron run --children monitors the command and its three children, and returns its exit code', { timeout: 90_000 }, async () => {
  // The children live until released, and are released once the collector holds samples of all
  // four: each interval's round ships at once (TERACRON_MAX_BUFFER=1), however slow the start.
  const release = join(mkdtempSync(join(tmpdir(), 'teracron-release-')), 'release');
  let stdout = '';
  const running = runScript(cliPath(), ['run', '--children', '--', process.execPath, fixturePath('spawn-children')], agentEnv({ EXIT_CODE: '7', RELEASE_FILE: release, TERACRON_INTERVAL: '5', TERACRON_MAX_BUFFER: '1' }), (child) => {
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
  });
  try {
    await waitFor('samples of the command and its three children on the collector', async () => {
      if (!stdout.includes('\n')) return undefined;
      const made = JSON.parse(stdout.split('\n')[0]!) as { parent: number; children: number[] };
      const seen = new Set((await pidsOnCollector()).map((p) => p.pid));
      return [made.parent, ...made.children].every((pid) => seen.has(pid));
    }, { timeoutMs: 60_000, intervalMs: 200 });
  } finally {
    writeFileSync(release, '');
  }
  const result = await running;
  assert.equal(result.code, 7, result.stderr);
  const made = JSON.parse(result.stdout.trim().split('\n')[0]!) as { parent: number; children: number[] };
  const pids = await pidsOnCollector();
  const byPid = new Map(pids.map((p) => [p.pid, p]));
  for (const pid of [made.parent, ...made.children]) assert.ok(byPid.has(pid), `no metrics for pid ${pid}; collector has ${[...byPid.keys()].join(', ')}`);
  for (const pid of made.children) {
    assert.equal(byPid.get(pid)!.ppid, made.parent, 'children are tagged with their parent');
    assert.equal(byPid.get(pid)!.command, 'node');
  }
  assert.equal(byPid.get(made.parent)!.command, 'node');
  const { body } = await query(collector.url, `/api/v1/metrics?pid=${made.children[0]}`);
  const sample = body.samples[0];
  assert.ok(sample.rss > 10 * 1024 * 1024 && sample.uss > 0 && sample.uss <= sample.rss, `child sample ${JSON.stringify(sample)}`);
});

test('teracron run forwards SIGTERM to the command and exits with its code', { timeout: 60_000 }, async () => {
  const script = "process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(3); }); console.log('ready'); setInterval(() => {}, 1000);";
  const result = await runScript(cliPath(), ['run', '--', process.execPath, '-e', script], agentEnv(), (child) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) child.kill('SIGTERM');
    });
  });
  assert.equal(result.code, 3, result.stderr);
  assert.match(result.stdout, /got SIGTERM/);
});

test('teracron run exits with 128 + the signal that ended the command', { timeout: 60_000 }, async () => {
  const script = "console.log('ready'); setInterval(() => {}, 1000);";
  const result = await runScript(cliPath(), ['run', '--', process.execPath, '-e', script], agentEnv(), (child) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) child.kill('SIGHUP');
    });
  });
  assert.equal(result.code, 128 + 1, result.stderr);
});

test('teracron run without a key still runs the command, says why it is not monitored, and passes the code on', { timeout: 30_000 }, async () => {
  const result = await runScript(cliPath(), ['run', process.execPath, '-e', "console.log('hello'); process.exitCode = 5"], { PATH: process.env.PATH });
  assert.equal(result.code, 5);
  assert.equal(result.stdout, 'hello\n');
  assert.match(result.stderr, /^teracron run: not monitoring process \d+: no API key: pass --api-key tcn_… or set TERACRON_API_KEY/);
  assert.equal(result.stderr.trim().split('\n').length, 1);
});

test('teracron run names a command that cannot start', { timeout: 30_000 }, async () => {
  const result = await runScript(cliPath(), ['run', '--', 'no-such-command-teracron'], agentEnv());
  assert.equal(result.code, 127);
  assert.match(result.stderr, /cannot start "no-such-command-teracron"/);
});

test('teracron-agent --pid watches a running process until it exits, then stops after a final flush', { timeout: 60_000 }, async () => {
  // The target lives until its stdin ends, which the test ends once the agent says (--debug) that
  // its first round has sampled the target: a slow start cannot find the target gone already.
  const target = spawn(process.execPath, ['-e', 'process.stdin.resume()'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const agent = join(cliPath(), '..', 'agent-main.js');
  const result = await runScript(agent, ['--pid', String(target.pid), '--debug'], agentEnv({ TERACRON_MAX_BUFFER: '10' }), (child) => {
    let stderr = '';
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.includes(`sampling process ${target.pid} `)) target.stdin.end();
    });
  }).finally(() => target.kill());
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, new RegExp(`process ${target.pid} has exited; sending the last samples and stopping`));
  assert.match(result.stderr, /stopped; [1-9]\d* samples sent, 0 dropped/);
  const pids = await pidsOnCollector();
  const entry = pids.find((p) => p.pid === target.pid);
  assert.ok(entry !== undefined, 'the target has samples on the collector');
  assert.equal(entry.ppid, process.pid);
  assert.equal(entry.command, 'node');
});

test('teracron-agent refuses a pid that does not exist, naming it', { timeout: 30_000 }, async () => {
  const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => gone.on('exit', resolve));
  const result = await runScript(join(cliPath(), '..', 'agent-main.js'), ['--pid', String(gone.pid)], agentEnv());
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`process ${gone.pid} does not exist`));
});
