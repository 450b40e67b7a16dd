/**
 * The agent's voice on stderr, from either thread: always prefixed `[teracron]`, never a payload
 * or a key. fs.writeSync to fd 2 rather than process.stderr: a worker's process.stderr is relayed
 * through the main thread, which may be blocked in the exit handshake exactly when the message
 * matters, and a warning raised just before exit must not sit in a stream buffer.
 */
import { writeSync } from 'node:fs';

const said = new Set<string>();

export function writeStderr(line: string): void {
  try {
    writeSync(2, `[teracron] ${line}\n`);
  } catch {
    // stderr closed: nothing more to do.
  }
}

export function writeStderrOnce(key: string, line: string): void {
  if (said.has(key)) return;
  said.add(key);
  writeStderr(line);
}
