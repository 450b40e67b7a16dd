/**
 * Which reader this process uses, chosen once on first use: the native addon when its binary
 * loads, otherwise the TypeScript `/proc` reader, with one warning that says why and how to get
 * the addon. `TERACRON_PROCESS_READER=fallback` forces the TypeScript reader (for comparison, or
 * where loading native code is not wanted). The worker's metrics loop and `teracron/process`
 * share it.
 */
import { writeStderrOnce } from '../stderr';
import { createFallbackReader } from './fallback';
import { BUILD_ADDON_HINT, loadNativeReader } from './native';
import type { ProcessReader } from './types';

let reader: ProcessReader | undefined;

export function activeReader(): ProcessReader {
  reader ??= chooseReader();
  return reader;
}

function chooseReader(): ProcessReader {
  if (process.env.TERACRON_PROCESS_READER === 'fallback') return createFallbackReader();
  try {
    return loadNativeReader();
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    writeStderrOnce(
      'process-reader-fallback',
      `the native process reader did not load (${reason}); using the TypeScript /proc reader instead, which reads the same figures. ${BUILD_ADDON_HINT}.`,
    );
    return createFallbackReader();
  }
}
