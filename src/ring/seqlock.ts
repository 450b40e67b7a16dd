/**
 * A seqlock over a few slots of the shared buffer, for figures one thread writes and another
 * reads whole: the writer never waits (odd sequence while it writes), the reader retries until
 * it saw the same even sequence before and after.
 */
export function writeSeqlocked(ctrl: Int32Array, seqSlot: number, write: () => void): void {
  Atomics.add(ctrl, seqSlot, 1);
  write();
  Atomics.add(ctrl, seqSlot, 1);
}

/** The value `read` returned under a stable sequence; null if never written (or always busy). */
export function readSeqlocked<T>(ctrl: Int32Array, seqSlot: number, read: () => T): T | null {
  for (let attempt = 0; attempt < 100; attempt++) {
    const before = Atomics.load(ctrl, seqSlot);
    if (before === 0) return null;
    if (before & 1) continue;
    const value = read();
    if (Atomics.load(ctrl, seqSlot) === before) return value;
  }
  return null;
}
