/**
 * Every test file states its time budget at its top with `fileTimeout(ms)`. Past it the file
 * fails instead of hanging the run: a watchdog names the tests still running and the handles
 * still open (a collector that never answers, a server a test forgot to close), kills the child
 * processes the file started so none is left behind, and exits 1, which the runner reports as
 * this file's failure. The timer is unref'd: a file that is done is never kept alive by it.
 *
 * Budgets are for a loaded 2-core machine, several times what a file takes on an idle one.
 * scripts/run-tests.mjs passes --test-timeout above MAX_FILE_TIMEOUT_MS as the backstop for a
 * file whose event loop is blocked, where no timer (so no watchdog) can fire.
 */
import { readFileSync, readdirSync, writeSync } from 'node:fs';
import { afterEach, beforeEach } from 'node:test';

/** The largest budget a file may state; the runner's backstop sits above it. */
export const MAX_FILE_TIMEOUT_MS = 5 * 60_000;

export function fileTimeout(ms: number): void {
  if (!(Number.isInteger(ms) && ms > 0 && ms <= MAX_FILE_TIMEOUT_MS)) {
    throw new RangeError(`fileTimeout(${ms}): expected whole milliseconds above 0 and at most ${MAX_FILE_TIMEOUT_MS}`);
  }
  const running = new Set<string>();
  beforeEach((t) => void running.add(t.name));
  afterEach((t) => void running.delete(t.name));
  setTimeout(() => {
    const killed = killDescendants();
    const open = process.getActiveResourcesInfo().filter((kind) => kind !== 'Timeout');
    writeSync(
      2,
      `this test file is still running ${ms} ms after it started (its fileTimeout); ` +
        `tests running: ${running.size === 0 ? 'none (something keeps the process alive after its tests)' : [...running].map((name) => JSON.stringify(name)).join(', ')}; ` +
        `open handles: ${open.join(', ') || 'none'}; child processes killed: ${killed.join(', ') || 'none'}\n`,
    );
    process.exit(1);
  }, ms).unref();
}

/** SIGKILLs every descendant of this process (Linux: /proc/<pid>/task/<tid>/children); returns their pids. */
function killDescendants(): number[] {
  const pids: number[] = [];
  const visit = (pid: number): void => {
    for (const child of childrenOf(pid)) {
      pids.push(child);
      visit(child);
    }
  };
  visit(process.pid);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  return pids;
}

function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter((text) => text !== '').map(Number),
    );
  } catch {
    // No /proc (macOS) or the process is gone: nothing found to kill.
    return [];
  }
}
