/**
 * One producer run of bench/exit.ts, as its own process, because what is measured is the
 * process's own end: how long `process.exit()` takes when the agent still holds spans.
 * The run is described by one JSON argument (ExitProducerConfig).
 *
 *   teracron  new TeracronClient({ apiKey, domain }) with the defaults (ring, batching, 2 s exit
 *             budget); one flush() so that the worker is up, as in a running app; then `spans`
 *             recordSpan() calls in one synchronous loop (nothing yields, so the worker has had
 *             no turn of this thread's event loop: the spans sit in the ring, bar what the worker
 *             thread drains meanwhile, which `sentBeforeExit` reports), then process.exit(0).
 *             The agent's exit hook ships what is buffered before the process goes.
 *   baseline  loads nothing (not even the agent's modules) and calls process.exit(0) at once:
 *             what a process exit costs on this machine with no agent.
 *
 * Just before process.exit(0), in the same synchronous block, it writes one JSON line
 * (ExitProducerLine) with the time of the call. stdout is a pipe, which Node writes
 * asynchronously, so the line goes out with fs.writeSync: a pending async write would be lost
 * at exit. The teracron run writes a second line (ExitHookLine) from an 'exit' listener added
 * after the agent's, so it runs once the agent's final flush has returned: when that was, and
 * what the agent counted, for the parent to name when spans are missing.
 *
 * Times are unix ms with sub-ms resolution (performance.timeOrigin + performance.now()),
 * comparable with the parent's and the counting sink's on the same machine.
 */
import { writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { TeracronClient } from '../src/client';

export interface ExitProducerConfig {
  system: 'teracron' | 'baseline';
  /** Base URL of the counting sink (unused by baseline). */
  url: string;
  /** The bench project's key (bench/project.ts), for teracron. */
  apiKey: string;
  /** Spans to record before process.exit() (0 for baseline). */
  spans: number;
  workflow: string;
}

/** The line written just before process.exit(0). */
export interface ExitProducerLine {
  kind: 'exiting';
  /** recordSpan() calls that returned true (the span is in the ring). */
  recorded: number;
  /** Spans the sink had accepted, as the agent counts them, when the loop ended (0 for baseline). */
  sentBeforeExit: number;
  /** When process.exit(0) was called, unix ms. */
  exitCalledAt: number;
}

/** The line written from the 'exit' listener that runs after the agent's exit hook (teracron only). */
export interface ExitHookLine {
  kind: 'exit-hook-done';
  /** When the agent's exit hook had returned, unix ms. */
  hookDoneAt: number;
  sent: number;
  pending: number;
  droppedRingFull: number;
  droppedSendFailed: number;
  lastError: string | null;
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

function writeLine(line: ExitProducerLine | ExitHookLine): void {
  writeSync(1, `${JSON.stringify(line)}\n`);
}

/** Writes the line and ends the process, in one synchronous block. */
function exitNow(recorded: number, sentBeforeExit: number): never {
  writeLine({ kind: 'exiting', recorded, sentBeforeExit, exitCalledAt: now() });
  process.exit(0);
}

function reportAfterAgentHook(client: TeracronClient): void {
  // Registered after start(), which registered the agent's own 'exit' listener: runs after it.
  process.on('exit', () => {
    const s = client.stats();
    writeLine({ kind: 'exit-hook-done', hookDoneAt: now(), sent: s.sent, pending: s.pending, droppedRingFull: s.droppedRingFull, droppedSendFailed: s.droppedSendFailed, lastError: s.lastError });
  });
}

async function teracron(config: ExitProducerConfig): Promise<never> {
  // Loaded here, not at the top, so that the baseline process never loads the agent.
  const { TeracronClient } = require('../src/client') as typeof import('../src/client');
  const client = new TeracronClient({ apiKey: config.apiKey, domain: config.url }).start();
  // One round trip to the worker, so the run starts with the worker up, as in a running app.
  await client.flush();
  reportAfterAgentHook(client);
  const { workflow, spans } = config;
  const operation = `${workflow}-op`;
  // One clock reading for all: what is timed is the exit, not performance.now().
  const endTime = performance.now();
  const startTime = endTime - 0.25;
  let recorded = 0;
  for (let i = 0; i < spans; i++) if (client.recordSpan({ workflow, operation, startTime, endTime })) recorded++;
  return exitNow(recorded, client.stats().sent);
}

function parseConfig(arg: string | undefined): ExitProducerConfig {
  if (arg === undefined) throw new Error('exit-producer: expected one JSON argument (ExitProducerConfig), got none');
  const config = JSON.parse(arg) as ExitProducerConfig;
  if (config.system !== 'teracron' && config.system !== 'baseline') throw new Error(`exit-producer: system must be teracron or baseline, not ${JSON.stringify(config.system)}`);
  if (!Number.isInteger(config.spans) || config.spans < 0) throw new Error(`exit-producer: spans must be a whole number ≥ 0, not ${JSON.stringify(config.spans)}`);
  return config;
}

if (require.main === module) {
  const fail = (err: unknown): void => {
    process.stderr.write(`exit-producer: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  };
  try {
    const config = parseConfig(process.argv[2]);
    if (config.system === 'baseline') exitNow(0, 0);
    else teracron(config).catch(fail);
  } catch (err) {
    fail(err);
  }
}
