/**
 * Stopping by signal, as Docker and Kubernetes stop services: SIGTERM, SIGINT and SIGHUP, with
 * the agent preloaded (`node -r teracron/auto`) and with up(), with and without an app handler,
 * against a real collector. What the process does is compared with the same app without the
 * agent: the same death by the same signal, or the same exit code and output from the app's
 * handler. What is stored is every span recorded before the signal.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SIGNAL_ECHO_MS } from '../../src/signals';
import { exitBudgetEnv, fixturePath, runCommand } from '../helpers/child';
import type { NodeChild, NodeResult } from '../helpers/child';
import { query, startCollectorProcess, vectorDataDir } from '../helpers/collector';
import type { CollectorProcess } from '../helpers/collector';
import { serve } from '../helpers/http';
import { userEnv } from '../helpers/npm';
import { envelopeVectors } from '../helpers/vectors';
import { waitFor } from '../helpers/wait';
import { repoRoot } from '../../support/repo-root';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(300_000);

const SPANS = 20_000;
const vectors = envelopeVectors();
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
type Signal = (typeof SIGNALS)[number];
type Agent = 'off' | 'preload' | 'up';
type Handler = 'none' | 'drain' | 'exit';

/** What the app's own handler does, per signal: end naturally, or process.exit with a code. */
const APP_HANDLER: Record<Signal, { handler: Handler; exitCode?: string }> = {
  SIGTERM: { handler: 'drain' },
  SIGINT: { handler: 'exit', exitCode: '130' },
  SIGHUP: { handler: 'exit', exitCode: '0' },
};

let collector: CollectorProcess;
const rows: string[] = [];

before(async () => {
  collector = await startCollectorProcess(vectorDataDir());
});
after(async () => {
  await collector.stop();
  process.stdout.write(['', 'signal   agent    app handler  stored  ended by', ...rows, ''].join('\n'));
});

interface Run extends NodeResult {
  /** Date.now() when the signal was sent. */
  signalledAt: number;
}

/** Runs the fixture, sends `signal` once it says it is ready, and resolves when it has ended. */
function runApp(agent: Agent, signal: Signal, handler: Handler, env: Record<string, string>, onReady?: (child: NodeChild) => void): Promise<Run> {
  let signalledAt = 0;
  const flags = agent === 'preload' ? ['-r', 'teracron/auto'] : [];
  const keyed = agent === 'off' ? {} : { TERACRON_API_KEY: vectors.api_key, ...exitBudgetEnv };
  return runCommand(process.execPath, [...flags, fixturePath('signal-app')], {
    env: { PATH: process.env.PATH, AGENT: agent, HANDLER: handler, SPANS: String(SPANS), ...keyed, ...env },
    cwd: repoRoot(),
    timeoutMs: 120_000,
    onStart: (child) => {
      let out = '';
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
        if (signalledAt === 0 && out.includes('ready\n')) {
          signalledAt = Date.now();
          child.kill(signal);
          onReady?.(child);
        }
      });
    },
  }).then((result) => ({ ...result, signalledAt }));
}

async function stored(workflow: string): Promise<number> {
  const { status, body } = await query(collector.url, '/api/v1/workflows?limit=1000');
  assert.equal(status, 200);
  return body.workflows.find((w: { workflow: string }) => w.workflow === workflow)?.total_runs ?? 0;
}

function ending(run: NodeResult): string {
  return run.signal !== null ? `signal ${run.signal}` : `exit ${run.code}`;
}

for (const signal of SIGNALS) {
  for (const withHandler of [false, true]) {
    const { handler, exitCode } = withHandler ? APP_HANDLER[signal] : { handler: 'none' as const, exitCode: undefined };
    const label = withHandler ? `an app handler (${handler === 'exit' ? `process.exit(${exitCode})` : 'lets the loop end'})` : 'no app handler';
    test(`${signal}, ${label}: with the agent preloaded or started by up(), the process ends as it does without it and every span is stored`, async () => {
      const env: Record<string, string> = exitCode === undefined ? {} : { EXIT_CODE: exitCode };
      const plain = await runApp('off', signal, handler, env);
      if (withHandler) {
        assert.equal(plain.signal, null, plain.stderr);
        assert.equal(plain.stdout, `ready\nhandled ${signal}\n`);
      } else {
        assert.equal(plain.signal, signal, `without the agent, ${signal} kills the app: ${plain.stderr}`);
      }
      rows.push(`${signal.padEnd(8)} ${'none'.padEnd(8)} ${(withHandler ? handler : '-').padEnd(12)} ${'-'.padStart(6)}  ${ending(plain)}`);
      const runs: Array<[Agent, Run, number]> = [];
      for (const agent of ['preload', 'up'] as const) {
        const workflow = `${signal}-${agent}-${handler}`;
        const run = await runApp(agent, signal, handler, { ...env, TERACRON_DOMAIN: collector.url, WORKFLOW: workflow });
        const count = await stored(workflow);
        rows.push(`${signal.padEnd(8)} ${agent.padEnd(8)} ${(withHandler ? handler : '-').padEnd(12)} ${String(count).padStart(6)}  ${ending(run)}`);
        runs.push([agent, run, count]);
      }
      for (const [agent, run, count] of runs) {
        assert.equal(run.stderr, '', `${agent}: nothing on stderr`);
        assert.equal(run.signal, plain.signal, `${agent}: ends by the same signal as without the agent`);
        assert.equal(run.code, plain.code, `${agent}: same exit code as without the agent`);
        assert.equal(run.stdout, plain.stdout, `${agent}: the app's output is its own`);
        assert.equal(count, SPANS, `${agent}: every span recorded before ${signal} is stored`);
      }
    });
  }
}

test('a second SIGTERM while the agent flushes ends the process at once, as the first would have without the agent', async () => {
  let firstRequestAt = 0;
  // An endpoint that takes the request and never answers: the flush would wait its whole budget.
  const hanging = await serve(() => {
    firstRequestAt ||= Date.now();
  });
  try {
    let secondAt = 0;
    const run = await runApp('up', 'SIGTERM', 'none', { TERACRON_DOMAIN: hanging.url, TERACRON_EXIT_TIMEOUT_MS: '60000', TERACRON_TIMEOUT: '30' }, (child) => {
      // A repeat within SIGNAL_ECHO_MS of the first is taken for the same stop; this one comes later.
      const flushingPastEcho = (): boolean => firstRequestAt > 0 && Date.now() > firstRequestAt + SIGNAL_ECHO_MS;
      void waitFor('the agent to be flushing (the endpoint got a request) for longer than the echo window', flushingPastEcho, { intervalMs: 10 }).then(() => {
        secondAt = Date.now();
        child.kill('SIGTERM');
      }, () => {});
    });
    assert.equal(run.signal, 'SIGTERM');
    assert.ok(secondAt > 0, 'the second SIGTERM was sent');
    const lingered = run.exitedAt - secondAt;
    assert.ok(lingered < 5_000, `the process lived ${lingered} ms after the second SIGTERM`);
  } finally {
    await hanging.close();
  }
});

/** `npm run start` in a fresh folder, its script running the fixture through bash, which execs node. */
function runUnderNpm(env: Record<string, string>): Promise<NodeResult> {
  const dir = mkdtempSync(join(tmpdir(), 'teracron-npm-signal-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'npm-signal', version: '1.0.0', private: true, scripts: { start: `node ${fixturePath('signal-app')}` } }));
  return new Promise((resolve, reject) => {
    // Its own process group, which is what a terminal signals on Ctrl-C: npm, bash and node.
    const child = spawn('npm', ['run', '--silent', '--script-shell=/bin/bash', 'start'], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...userEnv(), ...env } });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`npm run start did not end; stdout: ${stdout}; stderr: ${stderr}`));
    }, 120_000);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (!signalled && stdout.includes('ready\n')) {
        signalled = true;
        process.kill(-child.pid!, 'SIGINT');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, exitedAt: Date.now() });
    });
  });
}

test('Ctrl-C on `npm run start` (SIGINT from the terminal, then again from npm) ships everything, and npm ends as it does without the agent', { skip: existsSync('/bin/bash') ? false : 'needs /bin/bash' }, async () => {
  const plain = await runUnderNpm({ AGENT: 'off', HANDLER: 'none', SPANS: String(SPANS) });
  assert.equal(plain.signal, 'SIGINT', plain.stderr);
  const workflow = 'npm-ctrl-c';
  const run = await runUnderNpm({ AGENT: 'up', HANDLER: 'none', SPANS: String(SPANS), WORKFLOW: workflow, TERACRON_API_KEY: vectors.api_key, TERACRON_DOMAIN: collector.url, ...exitBudgetEnv });
  const count = await stored(workflow);
  rows.push(`${'SIGINT'.padEnd(8)} ${'npm+up'.padEnd(8)} ${'-'.padEnd(12)} ${String(count).padStart(6)}  npm: ${ending(run)} (without the agent: ${ending(plain)})`);
  assert.equal(run.signal, plain.signal);
  assert.equal(run.code, plain.code);
  assert.equal(run.stdout, plain.stdout);
  assert.equal(count, SPANS, 'the copy npm forwards does not cut the flush short');
});
