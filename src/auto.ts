/**
 * The preload entry: `node -r teracron/auto app.js` or `node --import teracron/auto app.mjs`.
 * Starts the agent from the environment (up() with no options) and turns on the automatic HTTP
 * spans. Without a usable key it says so in one line on stderr and leaves the app untouched.
 *
 * Runs on the main thread only: Node hands `-r` and `--import` to worker threads too (the
 * agent's own worker among them), and one agent per process is the point. Loading it twice
 * (both flags, or two copies of the package) starts one agent.
 */
import { isMainThread } from 'node:worker_threads';
import { up } from './agent';
import { TeracronConfigError } from './errors';
import { instrumentHttp } from './http/instrument';
import { writeStderr } from './stderr';

const LOADED = Symbol.for('teracron.auto');
const registry = globalThis as { [LOADED]?: true };

if (isMainThread && registry[LOADED] !== true) {
  registry[LOADED] = true;
  start();
}

function start(): void {
  try {
    up();
  } catch (error) {
    writeStderr(`teracron/auto is off, the app runs without it: ${reason(error)}`);
    return;
  }
  instrumentHttp();
}

function reason(error: unknown): string {
  const key = process.env.TERACRON_API_KEY;
  if (error instanceof TeracronConfigError && (key === undefined || key.trim() === '')) {
    return 'TERACRON_API_KEY is not set. Set it to your project\'s key (tcn_…; `npx teracron keygen --dir <dir>` makes one).';
  }
  const message = error instanceof Error ? error.message : String(error);
  const text = message.replace(/\s*\n\s*/g, ' ').trim();
  return error instanceof TeracronConfigError ? text : `the agent did not start (${text}).`;
}
