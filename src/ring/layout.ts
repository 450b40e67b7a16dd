/**
 * Everything both sides of the shared buffer agree on, and nothing else.
 *
 * One SharedArrayBuffer holds a control block, a small text area for the worker's last error,
 * and a single-producer/single-consumer ring of variable-length records. The main thread is the
 * only producer, the worker the only consumer.
 *
 *   byte 0                                                                            CONTROL_BYTES
 *   ┌─ line 0 ─┬─ line 1 ─┬─ line 2 ───┬─ line 3 ──┬─ lines 4-5 ─┬─ line 6 ─┬─ line 7 ────┬─ line 8 ──────┬─ line 9 ─┬─ line 10 ─────┐
 *   │ HEAD     │ TAIL     │ DOORBELL   │ FLUSH_REQ │ worker      │ ERROR_SEQ│ main-thread │ main-thread   │ MAIN_SEQ │ WORKER_STATE  │
 *   │          │          │ SLEEPING   │ FLUSH_DONE│ stats (f64) │ ERROR_LEN│ array bufs, │ metrics (f64) │          │ WORKER_CLAIM  │
 *   │          │          │ WAKE_BYTES │ FINAL     │             │          │ ring-full   │               │          │               │
 *   │          │          │            │ STOPPED   │             │          │             │               │          │               │
 *   │          │          │            │ EXIT_DEAD-│             │          │             │               │          │               │
 *   │          │          │            │ LINE (f64)│             │          │             │               │          │               │
 *   └──────────┴──────────┴────────────┴───────────┴─────────────┴──────────┴─────────────┴───────────────┴──────────┴───────────────┘
 *   ┌─ ERROR_TEXT (ERROR_TEXT_BYTES, UTF-8) ─┐┌─ ring data (capacity bytes, a power of two) ──────┐
 *
 * HEAD and TAIL are byte counters that only grow and wrap as int32; `(head - tail) | 0` is the
 * number of bytes in use and `counter & (capacity - 1)` the position. HEAD is written only by the
 * producer and published with Atomics.store after the record's bytes are in place (release);
 * the consumer reads it with Atomics.load (acquire). TAIL is the mirror image. They live on
 * separate 64-byte lines so the two threads do not fight over one cache line.
 *
 * Records are 8-byte aligned and start with an 8-byte header:
 *
 *   int32 [0]  total record bytes, header included, a multiple of 8
 *   int32 [1]  kind (bits 0-7) | flags (bits 8-31, meaning depends on the kind)
 *
 * A record never wraps: when it does not fit before the end of the data area, a PAD record fills
 * the rest and the record starts again at position 0.
 *
 * Strings (workflow, operation, metadata keys, event names) are interned: the first time the
 * producer sees one it writes a STRING record `[id int32][length int32][UTF-16 code units]`, and
 * later records refer to the id. STRINGS_RESET empties both tables (the producer bounds its map).
 * Free text (error messages, metadata string values) is written inline as `[length int32][UTF-16
 * code units]`, padded to 4 bytes.
 *
 * SPAN record (byte offsets from the record start):
 *
 *   0   header            flags: status (2 bits) | HAS_PARENT | HAS_ERROR | HAS_METADATA | HAS_CAPTURED
 *                         | WALL_CLOCK (start/end are unix ms given by the caller, not clock readings)
 *   8   trace id          16 bytes (4 × int32, raw random bytes)
 *   24  span id           16 bytes
 *   40  parent span id    16 bytes (zero when there is none)
 *   56  workflow          int32 string id
 *   60  operation         int32 string id
 *   64  start             float64, performance.now() of the producer (ms)
 *   72  end               float64, performance.now() of the producer (ms)
 *   80  [error type: inline string][error message: inline string]   when HAS_ERROR
 *       [metadata: int32 count, entries]                             when HAS_METADATA
 *       [captured params: int32 count, entries]                      when HAS_CAPTURED
 *
 * EVENT record:
 *
 *   0   header            flags: HAS_TRACE | HAS_SPAN | HAS_MESSAGE | HAS_METADATA | HAS_WORKFLOW
 *                         | WALL_CLOCK (time is unix ms given by the caller)
 *   8   trace id          16 bytes
 *   24  span id           16 bytes
 *   40  name              int32 string id
 *   44  event type        int32 string id
 *   48  severity          int32 string id
 *   52  workflow          int32 string id (or -1)
 *   56  time              float64, performance.now() of the producer (ms), or unix ms
 *   64  [message: inline string][metadata: int32 count, entries]
 *
 * LOG record:
 *
 *   0   header            flags: level (3 bits: index in LOG_LEVELS) | HAS_TRACE | HAS_SPAN | HAS_MODULE
 *                         | HAS_ERROR | HAS_STACK | HAS_EXTRA | WALL_CLOCK (time is unix ms)
 *   8   trace id          16 bytes
 *   24  span id           16 bytes
 *   40  module            int32 string id (or -1)
 *   44  (unused)
 *   48  time              float64, performance.now() of the producer (ms), or unix ms
 *   56  [message: inline string]
 *       [error type: inline string][error message: inline string]    when HAS_ERROR
 *       [stack: inline string]                                        when HAS_STACK
 *       [extra: int32 count, entries]                                 when HAS_EXTRA
 *
 * A metadata entry is `[key string id int32][tag int32][value]` where the value is an inline
 * string (TAG_STRING), a float64 aligned to 8 bytes (TAG_NUMBER), or nothing (TAG_TRUE/TAG_FALSE).
 */

/** Int32 slot indexes into the control block. */
export const HEAD = 0;
export const TAIL = 16;
/** Bumped by the producer (or a flush request) to wake a sleeping worker; the worker waits on it. */
export const DOORBELL = 32;
/** 1 while the worker is about to wait or waiting; the producer rings only then. */
export const SLEEPING = 33;
/** Bytes in use above which the producer wakes a sleeping worker. Set by the worker. */
export const WAKE_BYTES = 34;
/** Sequence number of the latest flush request (main thread) and of the latest completed one (worker). */
export const FLUSH_REQ = 48;
export const FLUSH_DONE = 49;
/**
 * Non-zero while the process ends (or stop() runs): the worker ships within EXIT_DEADLINE, with
 * short backoffs, and counts what it cannot send by then as dropped. Set by the main thread.
 */
export const FINAL = 50;
/**
 * Whether a worker is there to answer a flush request: WORKER_STARTING while one is on its way
 * (set by the main thread when it starts one), WORKER_RUNNING once its loop runs, WORKER_GONE
 * when it died (set by the dying worker when it can, else by the main thread when it learns it).
 */
export const WORKER_STATE = 160;
export const WORKER_STARTING = 0;
export const WORKER_RUNNING = 1;
export const WORKER_GONE = 2;
/**
 * The number of the last worker that took the ring. The main thread numbers the workers it
 * starts 1, 2, …; worker n takes the ring only by moving this from n - 1 to n, so a second
 * thread with the same number (one piscina starts on its own to replace a dead one) stays idle.
 * Line 10, both: line 7 holds main-thread figures (float64 slots 56-58).
 */
export const WORKER_CLAIM = 161;
/** Set to 1 by the worker once, after stop(), its last requests have settled and its connections are closed. */
export const STOPPED = 51;
/**
 * Float64 slot (line 3): while FINAL is set, the time by which the worker must have sent or
 * counted everything, in ms of `performance.timeOrigin + performance.now()` (one timeline for
 * every thread). Written by the main thread before it raises FINAL, a little before it stops
 * waiting itself, so the worker's last counts are in when it does.
 */
export const EXIT_DEADLINE = 28;
/** Seqlock around the last-error text: odd while the worker writes it. */
export const ERROR_SEQ = 96;
export const ERROR_LEN = 97;

/** Float64 slot indexes of the worker's counters (lines 4-5). */
export const STAT_SENT = 32;
export const STAT_DROPPED_SEND = 33;
export const STAT_RETRIES = 34;
export const STAT_BATCHES = 35;
export const STAT_BYTES_SENT = 36;
export const STAT_REJECTED = 37;
/** Process-metrics snapshots taken, accepted by the endpoint, and dropped (refused or given up). */
export const STAT_METRICS_SAMPLED = 38;
export const STAT_METRICS_SENT = 39;
export const STAT_METRICS_DROPPED = 40;
/**
 * Spans and events the worker has taken out of the ring (TAIL moved past them). What it took and
 * has not yet counted as sent or dropped is in its hands, and lost with it if it dies.
 */
export const STAT_TAKEN = 41;
/**
 * The spool (src/worker/spooler.ts): spans and events this process wrote to the spool instead of
 * sending (they balance produced like sent and dropped do); spans and events sent from the spool
 * (this process's or an earlier one's); spans and events the spool deleted to stay under its
 * size; and the spool's size in bytes as last seen (a gauge, not a count).
 */
export const STAT_SPOOLED = 42;
export const STAT_REPLAYED = 43;
export const STAT_DROPPED_SPOOL_FULL = 44;
export const STAT_SPOOL_BYTES = 45;
/** Spans and events in spool files found damaged (cut short, altered) and moved aside unsent. */
export const STAT_SPOOL_CORRUPT = 46;

/**
 * The main thread's latest figures (line 8, float64), which only it can read: V8 heap and
 * event-loop delay. The worker reads them when it samples the process. MAIN_SEQ (int32, line
 * 9) is a seqlock, odd while the main thread writes. See src/ring/main-metrics.ts.
 */
export const MAIN_SAMPLED_AT = 64;
export const MAIN_HEAP_TOTAL = 65;
export const MAIN_HEAP_USED = 66;
export const MAIN_EXTERNAL = 67;
export const MAIN_EL_MEAN_US = 68;
export const MAIN_EL_P50_US = 69;
export const MAIN_EL_P99_US = 70;
export const MAIN_EL_MAX_US = 71;
export const MAIN_SEQ = 144;
/** Line 7 (float64): the last main-thread figure of the MAIN_SEQ set (line 8 is full). */
export const MAIN_ARRAY_BUFFERS = 56;
/**
 * Line 7 (float64): records dropped on the main thread because the ring was full, since start.
 * The main thread (its only writer) stores its running count on every drop, so the worker can
 * ship it as a metric (src/ring/agent-counters.ts) without asking the main thread for it.
 */
export const MAIN_DROPPED_RING_FULL = 57;
/**
 * Line 7 (float64), written by the worker: 1 + the ring-full count its latest sample of this
 * process carried; 0 while it has none (metrics off, sidecar). The exit path compares it with
 * MAIN_DROPPED_RING_FULL to know whether drops still wait to be reported.
 */
export const SAMPLED_RING_FULL = 58;

export const CONTROL_BYTES = 704;
export const ERROR_TEXT_BYTES = 1024;
export const DATA_OFFSET = CONTROL_BYTES + ERROR_TEXT_BYTES;

export const RECORD_HEADER_BYTES = 8;

/** Record kinds (low 8 bits of header word 1). */
export const KIND_PAD = 1;
export const KIND_STRING = 2;
export const KIND_STRINGS_RESET = 3;
export const KIND_SPAN = 4;
export const KIND_EVENT = 5;
export const KIND_LOG = 6;

/** Span flags (bits 8-31 of header word 1). Status occupies bits 8-9. */
export const STATUS_SHIFT = 8;
export const STATUS_MASK = 0b11 << STATUS_SHIFT;
export const STATUS_SUCCEEDED = 0;
export const STATUS_FAILED = 1;
export const STATUS_STARTED = 2;
export const SPAN_HAS_PARENT = 1 << 10;
export const SPAN_HAS_ERROR = 1 << 11;
export const SPAN_HAS_METADATA = 1 << 12;
export const SPAN_HAS_CAPTURED = 1 << 13;
export const SPAN_WALL_CLOCK = 1 << 14;

export const EVENT_HAS_TRACE = 1 << 8;
export const EVENT_HAS_SPAN = 1 << 9;
export const EVENT_HAS_MESSAGE = 1 << 10;
export const EVENT_HAS_METADATA = 1 << 11;
export const EVENT_HAS_WORKFLOW = 1 << 12;
export const EVENT_WALL_CLOCK = 1 << 13;

/** Log flags: the level in bits 8-10 (its index in LOG_LEVELS, src/wire/batch-codec.ts), then presence bits. */
export const LOG_LEVEL_SHIFT = 8;
export const LOG_LEVEL_MASK = 0b111 << LOG_LEVEL_SHIFT;
export const LOG_HAS_TRACE = 1 << 11;
export const LOG_HAS_SPAN = 1 << 12;
export const LOG_HAS_MODULE = 1 << 13;
export const LOG_HAS_ERROR = 1 << 14;
export const LOG_HAS_STACK = 1 << 15;
export const LOG_HAS_EXTRA = 1 << 16;
export const LOG_WALL_CLOCK = 1 << 17;

/** Byte offsets inside a LOG record. */
export const LOG_TRACE_ID = 8;
export const LOG_SPAN_ID = 24;
export const LOG_MODULE = 40;
export const LOG_TIME = 48;
export const LOG_FIXED_BYTES = 56;

/** Byte offsets inside a SPAN record. */
export const SPAN_TRACE_ID = 8;
export const SPAN_SPAN_ID = 24;
export const SPAN_PARENT_ID = 40;
export const SPAN_WORKFLOW = 56;
export const SPAN_OPERATION = 60;
export const SPAN_START = 64;
export const SPAN_END = 72;
export const SPAN_FIXED_BYTES = 80;

/** Byte offsets inside an EVENT record. */
export const EVENT_TRACE_ID = 8;
export const EVENT_SPAN_ID = 24;
export const EVENT_NAME = 40;
export const EVENT_TYPE = 44;
export const EVENT_SEVERITY = 48;
export const EVENT_WORKFLOW = 52;
export const EVENT_TIME = 56;
export const EVENT_FIXED_BYTES = 64;

/** Metadata value tags. */
export const TAG_STRING = 0;
export const TAG_NUMBER = 1;
export const TAG_TRUE = 2;
export const TAG_FALSE = 3;

/** Limits of SPEC §3, applied while writing so that nothing longer ever crosses. */
export const MAX_METADATA_KEYS = 32;
export const MAX_KEY_CHARS = 128;
export const MAX_METADATA_STRING_CHARS = 1024;
export const MAX_CAPTURED_STRING_CHARS = 512;
export const MAX_ERROR_MESSAGE_CHARS = 1024;
export const MAX_ERROR_TYPE_CHARS = 256;
export const MAX_NAME_CHARS = 256;
export const MAX_SEVERITY_CHARS = 32;
/** Log limits (the collector's checkLog): message and error message 8192, stack 16384. */
export const MAX_LOG_MESSAGE_CHARS = 8192;
export const MAX_LOG_STACK_CHARS = 16_384;

/** The smallest ring; a record that cannot fit in the free space is dropped and counted. */
export const MIN_RING_BYTES = 4096;

/** Interned strings kept before the producer resets both tables (bounds memory on both sides). */
export const MAX_INTERNED_STRINGS = 8192;

export function ringBufferBytes(capacity: number): number {
  return DATA_OFFSET + capacity;
}

/** Views over one shared buffer, made once per side. */
export interface RingViews {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  readonly mask: number;
  /** Control block as int32. */
  readonly ctrl: Int32Array;
  /** Control block as float64 (worker stats). */
  readonly stats: Float64Array;
  /** Error text area. */
  readonly errorText: Uint8Array;
  /** The data area, under three element types. */
  readonly i32: Int32Array;
  readonly u16: Uint16Array;
  readonly f64: Float64Array;
}

export function createRingBuffer(capacity: number): SharedArrayBuffer {
  if (!Number.isInteger(capacity) || capacity < MIN_RING_BYTES || (capacity & (capacity - 1)) !== 0) {
    throw new RangeError(`ring capacity must be a power of two of at least ${MIN_RING_BYTES} bytes, got ${capacity}`);
  }
  return new SharedArrayBuffer(ringBufferBytes(capacity));
}

export function ringViews(sab: SharedArrayBuffer): RingViews {
  const capacity = sab.byteLength - DATA_OFFSET;
  return {
    sab,
    capacity,
    mask: capacity - 1,
    ctrl: new Int32Array(sab, 0, CONTROL_BYTES / 4),
    stats: new Float64Array(sab, 0, CONTROL_BYTES / 8),
    errorText: new Uint8Array(sab, CONTROL_BYTES, ERROR_TEXT_BYTES),
    i32: new Int32Array(sab, DATA_OFFSET, capacity / 4),
    u16: new Uint16Array(sab, DATA_OFFSET, capacity / 2),
    f64: new Float64Array(sab, DATA_OFFSET, capacity / 8),
  };
}
