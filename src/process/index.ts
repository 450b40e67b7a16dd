/**
 * `teracron/process`: memory, CPU and family of any process (SPEC §6).
 *
 *   import { readProcess, listChildren, processReader } from 'teracron/process';
 *
 * Backed by the native addon, or by the TypeScript `/proc` reader when the addon's binary does
 * not load (see active.ts).
 */
import { activeReader } from './active';
import type { ListChildrenOptions, ProcessReaderKind, ProcessSample } from './types';

export type { ListChildrenOptions, ProcessReader, ProcessReaderKind, ProcessSample } from './types';
export { ProcessAccessError, ProcessNotFoundError, TeracronProcessError } from '../errors';

const reader = activeReader();

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
