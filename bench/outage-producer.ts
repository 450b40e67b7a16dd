/**
 * The application of the outage bench (bench/outage.ts): records RATE spans a second, each its
 * own trace of workflow WORKFLOW, in 10 ms ticks for DURATION_MS, then waits (up to DRAIN_MS)
 * until nothing is pending and all it spooled was replayed, and stops the agent. Its config
 * (key, domain, spool) comes from the environment the bench gives it. Prints its stats and when
 * it finished recording, as one JSON line.
 */
import { writeSync } from 'node:fs';
import { down, up } from '../src/index';

const rate = Number(process.env.RATE);
const durationMs = Number(process.env.DURATION_MS);
const drainMs = Number(process.env.DRAIN_MS ?? '300000');
const workflow = process.env.WORKFLOW ?? 'outage';

const client = up();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const start = Date.now();
  let recorded = 0;
  while (Date.now() - start < durationMs) {
    const due = Math.floor(((Date.now() - start) / 1000) * rate);
    for (; recorded < due; recorded++) client.recordSpan({ workflow, operation: 'step', startedAt: Date.now(), durationMs: 1, status: 'succeeded', metadata: { n: recorded } });
    await sleep(10);
  }
  const recordedAt = Date.now();
  const deadline = recordedAt + drainMs;
  for (;;) {
    const stats = client.stats();
    // What the spool deleted when full will never be replayed.
    if ((stats.pending === 0 && stats.replayed + stats.droppedSpoolFull >= stats.spooled) || Date.now() > deadline) break;
    await sleep(100);
  }
  const drainedAt = Date.now();
  await down();
  writeSync(1, `${JSON.stringify({ stats: client.stats(), drainS: (drainedAt - recordedAt) / 1000 })}\n`);
}

void main();
