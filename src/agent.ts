/**
 * The process-wide agent behind `up()` / `down()`: one running client at a time.
 */
import { TeracronClient } from './client';
import type { TeracronOptions } from './config/options';

let current: TeracronClient | null = null;

/**
 * Starts the agent from options and the environment and returns the running client. Calling it
 * again returns the same client (options of later calls are ignored). Throws
 * TeracronConfigError when the key or a setting is wrong.
 */
export function up(options: TeracronOptions = {}): TeracronClient {
  if (current !== null && current.running) return current;
  current = new TeracronClient(options).start();
  return current;
}

/** Flushes what is buffered and stops the agent. Safe to call without `up()`, and twice. */
export async function down(): Promise<void> {
  const client = current;
  current = null;
  if (client !== null) await client.stop();
}

/** The running client, or null. */
export function getClient(): TeracronClient | null {
  return current !== null && current.running ? current : null;
}
