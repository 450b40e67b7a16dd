/**
 * Makes the worker die for real, for the tests of what follows a worker's death (there is no
 * other way to reach one from outside). TERACRON_TEST_WORKER_CRASH=n: each of the first n
 * workers of a process throws from its loop on the first pass that finds records in the ring
 * once some were taken before (TAIL moved), which is the hard case: what is left in the ring
 * refers to strings that only the dead worker had read.
 *
 * Not a setting: nothing documents it for users. Read once when the worker starts, checked once
 * per pass of the loop, never per record.
 */
import { TAIL } from '../ring/layout';
import type { RingReader } from '../ring/reader';
import { pendingBytes } from '../ring/reader';

export type CrashCheck = (reader: RingReader) => void;

/** The check for worker number `workerNumber` (1 for the first), or null when it must not crash. */
export function testCrash(workerNumber: number): CrashCheck | null {
  const raw = process.env.TERACRON_TEST_WORKER_CRASH;
  if (raw === undefined || !(workerNumber <= Number(raw))) return null;
  return (reader) => {
    if (Atomics.load(reader.views.ctrl, TAIL) !== 0 && pendingBytes(reader) > 0) {
      throw new Error(`worker ${workerNumber} crashed on purpose (TERACRON_TEST_WORKER_CRASH=${raw})`);
    }
  };
}
