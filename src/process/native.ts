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

/**
 * How a user gets the addon where no prebuilt binary loads. The published package has no install
 * script (npm 11 would ask every user to approve it), so building is a step the user asks for;
 * `npm explore` runs it in the installed package with npm's own node-gyp on the PATH.
 */
export const BUILD_ADDON_HINT = 'To build the addon from source, run `npm explore teracron -- node-gyp rebuild --directory native` (needs python3, make and a C++ compiler)';

/** The package root: dist/src/process → ../../.. */
export const PACKAGE_ROOT = join(__dirname, '..', '..', '..');

/**
 * Where the binary for this platform is, as node-gyp-build finds it: one the user built from
 * source in native/build (see native/binding.gyp) first, since it exists because the prebuild did
 * not fit; otherwise build/Release (the repository's own build) and then prebuilds/.
 */
export function nativeBindingPath(): string {
  const load = require('node-gyp-build') as { path(dir: string): string };
  try {
    return load.path(join(PACKAGE_ROOT, 'native'));
  } catch {
    return load.path(PACKAGE_ROOT);
  }
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
