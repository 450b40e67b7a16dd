/**
 * The addon's reader (native/, built by node-gyp, or prebuilt under prebuilds/ by prebuildify and
 * found by node-gyp-build). Loading throws when no binary fits this platform and Node; the caller
 * (index.ts) then falls back to the TypeScript reader.
 */
import { join } from 'node:path';
import { checkPid, processError } from './errno';
import type { ListChildrenOptions, ProcessReader, ProcessSample } from './types';

/** What the compiled binding exports (native/addon.cc). */
interface Binding {
  readProcess(pid: number): ProcessSample;
  listChildren(pid: number, recursive: boolean): number[];
}

/** The package root: dist/src/process → ../../.. */
export const PACKAGE_ROOT = join(__dirname, '..', '..', '..');

/** Where node-gyp-build finds the binary for this platform (build/Release first, then prebuilds/). */
export function nativeBindingPath(): string {
  const load = require('node-gyp-build') as { path(dir: string): string };
  return load.path(PACKAGE_ROOT);
}

export function loadNativeReader(): ProcessReader {
  const binding = require(nativeBindingPath()) as Binding;
  return {
    kind: 'native',
    readProcess(pid: number): ProcessSample {
      checkPid(pid);
      try {
        return binding.readProcess(pid);
      } catch (err) {
        throw processError(pid, err);
      }
    },
    listChildren(pid: number, options?: ListChildrenOptions): number[] {
      checkPid(pid);
      try {
        return binding.listChildren(pid, options?.recursive === true);
      } catch (err) {
        throw processError(pid, err);
      }
    },
  };
}
