/**
 * `teracron/process`: memory, CPU and family of any process (SPEC §6).
 *
 *   import { readProcess, listChildren, processReader } from 'teracron/process';
 *
 * The native addon is used when its binary loads; otherwise the TypeScript `/proc` reader, with
 * one warning that says why and how to get the addon. `TERACRON_PROCESS_READER=fallback` forces
 * the TypeScript reader (for comparison, or where loading native code is not wanted).
 */
import { writeStderrOnce } from '../stderr';
import { createFallbackReader } from './fallback';
import { loadNativeReader } from './native';
import type { ListChildrenOptions, ProcessReader, ProcessReaderKind, ProcessSample } from './types';

export type { ListChildrenOptions, ProcessReader, ProcessReaderKind, ProcessSample } from './types';
export { ProcessAccessError, ProcessNotFoundError, TeracronProcessError } from '../errors';

function chooseReader(): ProcessReader {
  if (process.env.TERACRON_PROCESS_READER === 'fallback') return createFallbackReader();
  try {
    return loadNativeReader();
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    writeStderrOnce('process-reader-fallback', `the native process reader did not load (${reason}); using the TypeScript /proc reader, which is slower. To build the addon: approve teracron's install script (\`npm install-scripts approve teracron\`, then \`npm rebuild teracron\`), with python3, make and a C++ compiler installed.`);
    return createFallbackReader();
  }
}

const reader = chooseReader();

/** The reader chosen for this process (the worker's metrics loop uses it directly). */
export function activeReader(): ProcessReader {
  return reader;
}

/** 'native' or 'fallback': which reader this process uses. */
export const processReader: ProcessReaderKind = reader.kind;

/** Reads one process. Throws ProcessNotFoundError / ProcessAccessError (TeracronProcessError). */
export function readProcess(pid: number): ProcessSample {
  return reader.readProcess(pid);
}

/** The PIDs of a process's children; with `{ recursive: true }`, of all its descendants. */
export function listChildren(pid: number, options?: ListChildrenOptions): number[] {
  return reader.listChildren(pid, options);
}
