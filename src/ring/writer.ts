/**
 * The producer side of the ring: runs on the application's thread, so every function here is
 * on the hot path. No allocation on the common path, no atomics but one store per record and
 * a couple of loads, never a wait. When a record does not fit it is dropped and counted.
 */
import {
  DOORBELL,
  HEAD,
  KIND_PAD,
  KIND_STRING,
  KIND_STRINGS_RESET,
  MAX_INTERNED_STRINGS,
  RECORD_HEADER_BYTES,
  SLEEPING,
  TAIL,
  WAKE_BYTES,
  ringViews,
} from './layout';
import type { RingViews } from './layout';

export interface RingWriter {
  readonly views: RingViews;
  /** Producer's cursor; published to HEAD after each record. */
  head: number;
  /** Last TAIL seen; refreshed only when the ring looks full or at a wake check. */
  cachedTail: number;
  /** HEAD value from which the next publish looks at the fill level and the worker's sleep. */
  nextWakeCheck: number;
  strings: Map<string, number>;
  nextStringId: number;
  /** The current generation's strings by id, as the worker stores them (see stringsAt). */
  names: string[];
  /**
   * Earlier generations the worker may still be reading: their strings, and the HEAD value
   * right after the STRINGS_RESET that ended them. Dropped at the next reset once TAIL is past.
   */
  retired: Array<{ endsAt: number; names: string[] }>;
  /**
   * Bumped by every STRINGS_RESET. A writer that interned several strings for one record checks
   * it before reserving: if a later intern reset the table, earlier ids are void and it starts over.
   */
  generation: number;
  /**
   * One-entry caches in front of `strings` for the two names every span carries: a span's
   * workflow and operation are usually the same string objects as the previous span's, and
   * `===` on those is a pointer compare, cheaper than hashing into the map.
   */
  lastWorkflow: string | null;
  lastWorkflowId: number;
  lastOperation: string | null;
  lastOperationId: number;
}

export function createRingWriter(sab: SharedArrayBuffer): RingWriter {
  const views = ringViews(sab);
  const head = Atomics.load(views.ctrl, HEAD);
  return {
    views,
    head,
    cachedTail: Atomics.load(views.ctrl, TAIL),
    nextWakeCheck: head,
    strings: new Map(),
    nextStringId: 0,
    names: [],
    retired: [],
    generation: 0,
    lastWorkflow: null,
    lastWorkflowId: -1,
    lastOperation: null,
    lastOperationId: -1,
  };
}

/**
 * Reserves `bytes` (a multiple of 8) at the head and returns the byte position to write at, or
 * -1 when the ring is full. Writes a PAD record first when the reservation would cross the end.
 * Nothing is visible to the worker until `publish`.
 */
export function reserve(w: RingWriter, bytes: number): number {
  const { capacity } = w.views;
  const pos = w.head & w.views.mask;
  const pad = pos + bytes > capacity ? capacity - pos : 0;
  const needed = pad + bytes;
  if (((w.head - w.cachedTail) | 0) + needed > capacity) {
    w.cachedTail = Atomics.load(w.views.ctrl, TAIL);
    if (((w.head - w.cachedTail) | 0) + needed > capacity) return -1;
  }
  if (pad === 0) return pos;
  const i = pos >> 2;
  w.views.i32[i] = pad;
  w.views.i32[i + 1] = KIND_PAD;
  w.head = (w.head + pad) | 0;
  return 0;
}

/** Writes the header of a record reserved at `pos` and advances the private head past it. */
export function seal(w: RingWriter, pos: number, bytes: number, kindAndFlags: number): void {
  const i = pos >> 2;
  w.views.i32[i] = bytes;
  w.views.i32[i + 1] = kindAndFlags;
  w.head = (w.head + bytes) | 0;
}

/** Bytes between two looks at a busy worker, so a long burst does not pay atomics per record. */
const MIN_WAKE_CHECK_BYTES = 4096;

/**
 * Makes every sealed record visible to the worker (Atomics.store is a release), and rings the
 * worker's doorbell when it sleeps and the ring holds more than it asked to be woken for.
 * Most calls stop after the store: the fill level is looked at only once HEAD reaches
 * `nextWakeCheck`, the earliest point at which it could have crossed the mark.
 */
export function publish(w: RingWriter): void {
  const ctrl = w.views.ctrl;
  Atomics.store(ctrl, HEAD, w.head);
  if (((w.head - w.nextWakeCheck) | 0) < 0) return;
  w.cachedTail = Atomics.load(ctrl, TAIL);
  const wakeBytes = ctrl[WAKE_BYTES]!;
  if (((w.head - w.cachedTail) | 0) < wakeBytes) {
    w.nextWakeCheck = (w.cachedTail + wakeBytes) | 0;
    return;
  }
  if (Atomics.load(ctrl, SLEEPING) === 1) {
    Atomics.store(ctrl, SLEEPING, 0);
    wake(w.views);
  }
  w.nextWakeCheck = (w.head + Math.max(wakeBytes >> 2, MIN_WAKE_CHECK_BYTES)) | 0;
}

/** Wakes the worker now, whatever the fill level (flush requests, exit). */
export function wake(views: RingViews): void {
  Atomics.add(views.ctrl, DOORBELL, 1);
  Atomics.notify(views.ctrl, DOORBELL);
}

/** Bytes an inline string of `chars` UTF-16 units takes: length word + units, padded to 4. */
export function inlineStringBytes(chars: number): number {
  return 4 + ((chars * 2 + 3) & ~3);
}

/**
 * Writes `[length][units]` at byte position `pos` for at most `maxChars` units of `text` and
 * returns the byte position after it (4-byte aligned). A short charCodeAt loop beats
 * TextEncoder here: the strings are short and the worker does the UTF-8 work.
 */
export function writeInlineString(w: RingWriter, pos: number, text: string, maxChars: number): number {
  const n = text.length < maxChars ? text.length : maxChars;
  const { i32, u16 } = w.views;
  i32[pos >> 2] = n;
  const base = (pos + 4) >> 1;
  for (let k = 0; k < n; k++) u16[base + k] = text.charCodeAt(k);
  return pos + 4 + ((n * 2 + 3) & ~3);
}

/**
 * Returns the id of an interned string, writing its STRING record (unpublished) the first time.
 * Returns -1 when the ring has no room for it, in which case the caller drops its record.
 * The map is bounded: at MAX_INTERNED_STRINGS both sides start over with a STRINGS_RESET.
 */
export function intern(w: RingWriter, text: string, maxChars: number): number {
  const known = w.strings.get(text);
  if (known !== undefined) return known;
  if (w.strings.size >= MAX_INTERNED_STRINGS && !resetStrings(w)) return -1;
  const n = text.length < maxChars ? text.length : maxChars;
  const bytes = (RECORD_HEADER_BYTES + 4 + inlineStringBytes(n) + 7) & ~7;
  const pos = reserve(w, bytes);
  if (pos < 0) return -1;
  const id = w.nextStringId++;
  w.views.i32[(pos >> 2) + 2] = id;
  writeInlineString(w, pos + 12, text, maxChars);
  seal(w, pos, bytes, KIND_STRING);
  w.strings.set(text, id);
  w.names.push(n < text.length ? text.slice(0, n) : text);
  return id;
}

/**
 * The string table a reader needs to start at `tail`: what a worker that replaces a dead one
 * cannot read back from the ring, because the STRING records before `tail` were consumed by the
 * dead one. Later strings come with it too; the reader meets their records again with the same
 * ids and text. Exact only while no consumer moves TAIL, which is the case between two workers.
 */
export function stringsAt(w: RingWriter, tail: number): string[] {
  for (const generation of w.retired) {
    if (((generation.endsAt - tail) | 0) > 0) return generation.names;
  }
  return w.names;
}

function resetStrings(w: RingWriter): boolean {
  const pos = reserve(w, RECORD_HEADER_BYTES);
  if (pos < 0) return false;
  seal(w, pos, RECORD_HEADER_BYTES, KIND_STRINGS_RESET);
  const tail = Atomics.load(w.views.ctrl, TAIL);
  w.retired = w.retired.filter((generation) => ((generation.endsAt - tail) | 0) > 0);
  w.retired.push({ endsAt: w.head, names: w.names });
  w.names = [];
  w.strings.clear();
  w.nextStringId = 0;
  w.generation++;
  w.lastWorkflow = null;
  w.lastOperation = null;
  return true;
}
