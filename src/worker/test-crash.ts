/**
 * Makes the worker die for real, for the tests of what follows a worker's death (there is no
 * other way to reach one from outside). TERACRON_TEST_WORKER_CRASH=n: each of the first n
 * workers of a process throws from its loop on the first pass that finds records in the ring
 * once some were taken before (TAIL moved), which is the hard case: what is left in the ring
 * refers to strings that only the dead worker had read. TERACRON_TEST_WORKER_CRASH_AT says when
 * in that pass: `start` (default), before it takes anything, or `dispatched`, once it has taken
 * the records and handed their batches to the sender, so that it dies holding them.
 *
 * Not a setting: nothing documents it for users. Read once when the worker starts, checked twice
 * per pass of the loop, never per record.
 */
import { TAIL } from '../ring/layout';
import type { RingReader } from '../ring/reader';
import { pendingBytes } from '../ring/reader';

export type CrashPoint = 'start' | 'dispatched';
export type CrashCheck = (point: CrashPoint, reader: RingReader) => void;

/** The check for worker number `workerNumber` (1 for the first), or null when it must not crash. */
export function testCrash(workerNumber: number): CrashCheck | null {
  const raw = process.env.TERACRON_TEST_WORKER_CRASH;
  if (raw === undefined || !(workerNumber <= Number(raw))) return null;
  const at: CrashPoint = process.env.TERACRON_TEST_WORKER_CRASH_AT === 'dispatched' ? 'dispatched' : 'start';
  let tailAtStart = 0;
  return (point, reader) => {
    const tail = Atomics.load(reader.views.ctrl, TAIL);
    if (point === 'start') tailAtStart = tail;
    if (point !== at || tailAtStart === 0) return;
    if (at === 'start' ? pendingBytes(reader) > 0 : tail !== tailAtStart) {
      throw new Error(`worker ${workerNumber} crashed on purpose (TERACRON_TEST_WORKER_CRASH=${raw}, at ${at})`);
    }
  };
}
