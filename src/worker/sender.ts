/**
 * Delivers one sealed batch: retries network errors, 408, 429 and 5xx with exponential backoff
 * and full jitter (or the server's Retry-After), up to `maxAttempts`; any other answer is final.
 * Every outcome lands in the shared counters.
 *
 * While the process exits (or stop() runs), `final` is set with a deadline (exit-mode.ts): the
 * same failures are retried with short backoffs, and a Retry-After is honoured, as long as the
 * retry fits before the deadline; past it, the batch is given up and counted. An endpoint that
 * refuses connections is retried only EXIT_CONNECT_RETRIES times per exit, so a process with
 * no collector to talk to still ends promptly.
 */
import { STAT_BATCHES, STAT_BYTES_SENT, STAT_DROPPED_SEND, STAT_METRICS_DROPPED, STAT_METRICS_SENT, STAT_REJECTED, STAT_RETRIES, STAT_SENT } from '../ring/layout';
import type { RingViews } from '../ring/layout';
import { addStat, setLastError } from '../ring/shared-stats';
import { writeStderr } from '../stderr';
import { describeNetworkError } from './network-error';
import { sharedNow } from './exit-mode';
import type { PostResult, Transport } from './transport';
import { replaySoon, spoolBatch } from './spooler';
import type { Spooler } from './spooler';

export interface SenderState {
  readonly views: RingViews;
  readonly transport: Transport;
  readonly maxAttempts: number;
  readonly debug: boolean;
  /** Set while the process exits or stop() runs: retries are short and bounded by `deadline`. */
  final: boolean;
  /** Wakes every normal backoff sleep at once when `final` is set. */
  finalSignal: AbortController;
  /** While final: when every batch must be sent or counted, in sharedNow() ms; else Infinity. */
  deadline: number;
  /** The deadline has passed: nothing more is attempted, what is left is counted as dropped. */
  expired: boolean;
  expiryTimer: NodeJS.Timeout | null;
  /** Called when the deadline passes (exit-mode.ts `untilDeadline`), and at the spool point. */
  readonly expiryWaiters: Set<(reason: 'expired' | 'spool') => void>;
  /**
   * With a spool, while final: from this moment (a slice of the budget before the deadline) what
   * is still unsent goes to the spool instead (exit-mode.ts). `spoolNow` once it has come.
   */
  spoolNow: boolean;
  spoolTimer: NodeJS.Timeout | null;
  /** Connection failures since this exit began (see EXIT_CONNECT_RETRIES), and the last one's text. */
  exitConnectFailures: number;
  lastConnectFailure: string;
  /** Statuses already reported on stderr, so a misconfiguration is said once, not per batch. */
  readonly reported: Set<number | string>;
  /** Where batches go that cannot be delivered (spooler.ts); null when the spool is off. */
  readonly spooler: Spooler | null;
  /**
   * The endpoint is known to be down: a connection to it failed, or a batch used up its retries,
   * and none was delivered since. While it is, the batcher spools batches without trying them.
   */
  knownDown: boolean;
  /**
   * Where drops are counted, for the stderr line that reports them: null for the agent's
   * stats(); a sender that is not the agent's (logs/direct-shipper.ts) names its own count.
   */
  readonly dropsCountedIn: string | null;
}

export function createSender(init: Pick<SenderState, 'views' | 'transport' | 'maxAttempts' | 'debug'> & { spooler?: Spooler | null; dropsCountedIn?: string }): SenderState {
  return {
    ...init,
    dropsCountedIn: init.dropsCountedIn ?? null,
    spooler: init.spooler ?? null,
    knownDown: false,
    final: false,
    finalSignal: new AbortController(),
    deadline: Number.POSITIVE_INFINITY,
    expired: false,
    expiryTimer: null,
    expiryWaiters: new Set(),
    spoolNow: false,
    spoolTimer: null,
    exitConnectFailures: 0,
    lastConnectFailure: '',
    reported: new Set(),
  };
}

export const BACKOFF_BASE_MS = 250;
export const BACKOFF_CAP_MS = 30_000;
export const RETRY_AFTER_CAP_MS = 60_000;
/**
 * Backoff while exiting: uniform in [50 ms, min(200 ms, 50·2^attempt ms)]. Long enough for a
 * collector that answered 503 mid-redeploy to come back, short enough for several tries in 2 s.
 */
export const EXIT_BACKOFF_MIN_MS = 50;
export const EXIT_BACKOFF_MAX_MS = 200;
/**
 * Retries after a refused (or unresolvable, or timed-out) connection per exit, all batches
 * together. A refusal from a live host is instant, so retrying it would only spend the budget
 * of a process whose collector is simply not there; two retries still ride out a restart that
 * takes a moment. Errors on an established connection (reset mid-request) are retried normally.
 */
export const EXIT_CONNECT_RETRIES = 2;
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** Which shared counters a batch's items land in (slot indexes into the stats area). */
export interface ItemCounters {
  sent: number;
  dropped: number;
  /** Refused with a non-retryable status; also counted in `dropped`. -1: not kept apart. */
  rejected: number;
}

/** Spans and events: these balance against what the application produced. */
export const TELEMETRY_COUNTERS: ItemCounters = { sent: STAT_SENT, dropped: STAT_DROPPED_SEND, rejected: STAT_REJECTED };
/** Process-metrics snapshots, counted apart so that spans' sent + dropped == produced holds. */
export const METRICS_COUNTERS: ItemCounters = { sent: STAT_METRICS_SENT, dropped: STAT_METRICS_DROPPED, rejected: -1 };

export interface Batch {
  /**
   * Set while a copy of this batch is written to the spool at exit (batcher.ts `spoolInFlight`):
   * its outcome is then counted there, so deliver() counts nothing more and stops; `settled`
   * says how it stopped (a 2xx, or not sent), for when the copy could not be written after all.
   */
  spooling?: { settled: 'sent' | 'unsent' | null };
  path: string;
  kind: string;
  /** The batch_id sealed inside, when known: said in the spool file, for people reading it. */
  batchId?: string | null;
  body: Uint8Array;
  items: number;
  counters: ItemCounters;
}

export async function deliver(s: SenderState, batch: Batch): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (batch.spooling !== undefined) {
      batch.spooling.settled = 'unsent';
      return;
    }
    if (s.expired) {
      if (attempt === 1) return spoolOrDrop(s, batch, 'before they were sent: the exit budget ran out');
      return giveUp(s, batch, attempt - 1, 'the exit budget ran out before another attempt');
    }
    let result: PostResult | null = null;
    let failure: string;
    try {
      result = await s.transport.post(batch.path, batch.body);
      // Read again after the await: the exit may have taken a copy for the spool meanwhile.
      const spooling = spoolingOf(batch);
      if (spooling !== undefined) {
        spooling.settled = result.status >= 200 && result.status < 300 ? 'sent' : 'unsent';
        return;
      }
      if (result.status >= 200 && result.status < 300) {
        s.knownDown = false;
        // The endpoint answers again: what waits in the spool can go.
        if (s.spooler?.mayHaveFiles === true) replaySoon(s.spooler);
        addStat(s.views, batch.counters.sent, batch.items);
        addStat(s.views, STAT_BATCHES, 1);
        addStat(s.views, STAT_BYTES_SENT, batch.body.byteLength);
        if (s.debug) writeStderr(`sent ${batch.items} ${batch.kind} items (${batch.body.byteLength} bytes) to ${batch.path}: ${result.status}`);
        return;
      }
      failure = `${batch.path} answered ${result.status}${result.errorText ? `: ${result.errorText}` : ''}`;
      if (!isRetryableStatus(result.status)) {
        reject(s, batch, result, failure);
        return;
      }
    } catch (err) {
      const spooling = spoolingOf(batch);
      if (spooling !== undefined) {
        spooling.settled = 'unsent';
        return;
      }
      failure = `${batch.path} could not be reached: ${describeNetworkError(err, s.transport.baseUrl)}`;
      // Nothing listens there (or the host is unreachable): down now, not after the retries.
      if (isConnectFailure(err)) s.knownDown = true;
      if (s.final && isConnectFailure(err)) {
        s.exitConnectFailures++;
        s.lastConnectFailure = failure;
      }
    }
    setLastError(s.views, failure);
    if (attempt >= s.maxAttempts) return giveUp(s, batch, attempt, failure);
    const retryAfterMs = result?.retryAfterMs ?? null;
    let delay: number;
    if (s.final) {
      const exitDelay = exitRetryDelay(s, attempt, retryAfterMs);
      if (typeof exitDelay === 'string') return giveUp(s, batch, attempt, `${failure}; ${exitDelay}`);
      delay = exitDelay;
    } else {
      delay = backoffDelay(attempt, retryAfterMs);
    }
    addStat(s.views, STAT_RETRIES, 1);
    if (s.debug) writeStderr(`${failure}; retry ${attempt} of ${s.maxAttempts - 1} in ${Math.round(delay)} ms`);
    // An exit backoff is short and fits before the deadline; a normal one wakes when the exit begins.
    await sleep(delay, s.final ? null : s.finalSignal.signal);
  }
}

function spoolingOf(batch: Batch): Batch['spooling'] {
  return batch.spooling;
}

/** While exiting, the endpoint refused more connections than EXIT_CONNECT_RETRIES allows for. */
export function endpointDown(s: SenderState): boolean {
  return s.final && s.exitConnectFailures > EXIT_CONNECT_RETRIES;
}

/** The wait before retrying while final, or why there is no retry. */
function exitRetryDelay(s: SenderState, attempt: number, retryAfterMs: number | null): number | string {
  if (endpointDown(s)) return `the endpoint could not be reached ${s.exitConnectFailures} times during this exit, so it is not waited for`;
  const delay = retryAfterMs ?? exitBackoffDelay(attempt);
  // The attempt itself needs a moment too.
  const left = s.deadline - sharedNow() - EXIT_BACKOFF_MIN_MS;
  if (delay <= left) return delay;
  const leftText = `${Math.max(0, Math.round(left))} ms left of the exit budget`;
  return retryAfterMs === null ? `no time for another attempt (${leftText})` : `its Retry-After of ${Math.round(retryAfterMs)} ms is longer than the ${leftText}`;
}

export function exitBackoffDelay(attempt: number): number {
  const span = Math.min(EXIT_BACKOFF_MAX_MS, EXIT_BACKOFF_MIN_MS * 2 ** attempt) - EXIT_BACKOFF_MIN_MS;
  return EXIT_BACKOFF_MIN_MS + Math.random() * span;
}

/**
 * Where a batch that cannot be delivered goes: to the spool, sealed as it is, when there is one
 * and it takes the batch; else it is dropped, counted, and said once on stderr.
 */
async function giveUp(s: SenderState, batch: Batch, attempts: number, failure: string): Promise<void> {
  s.knownDown = true;
  // The endpoint's own words are already the last error.
  await spoolOrDrop(s, batch, `after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${failure}`, false);
}

/**
 * A sealed batch that will not be sent now: to the spool when there is one and it takes the
 * batch, else dropped and counted (dropCounted). Spans and events go to the spool; process-metrics
 * snapshots do not (they describe a moment, and are counted apart from what the application
 * produced).
 */
export async function spoolOrDrop(s: SenderState, batch: Batch, why: string, recordAsLastError = true): Promise<void> {
  if (s.spooler !== null && batch.counters === TELEMETRY_COUNTERS) {
    if (await spoolBatch(s.spooler, { path: batch.path, kind: batch.kind, batchId: batch.batchId ?? null, body: batch.body, items: batch.items })) return;
  }
  dropCounted(s, batch.items, batch.kind, batch.counters, why, recordAsLastError);
}

/**
 * Counts items that will not be sent (given up, or never sealed because the exit budget ran
 * out) and says so on stderr the first time. Unless the caller already recorded the failure
 * itself as the last error (a batch given up: the endpoint's own words), this is recorded.
 */
export function dropCounted(s: SenderState, items: number, kind: string, counters: ItemCounters, why: string, recordAsLastError = true): void {
  addStat(s.views, counters.dropped, items);
  const text = `dropped ${items} ${kind} items ${why}`;
  if (recordAsLastError) setLastError(s.views, text);
  if (s.debug || !s.reported.has('gave-up')) {
    s.reported.add('gave-up');
    writeStderr(`${text} (counted in ${s.dropsCountedIn ?? `stats().${counters === METRICS_COUNTERS ? 'metricsDropped' : 'droppedSendFailed'}`})`);
  }
}

function isConnectFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECT_FAILURES.has(code)) return true;
  }
  return false;
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Full jitter: uniform in [0, min(cap, base·2^(attempt-1))]; a Retry-After wins when given. */
export function backoffDelay(attempt: number, retryAfterMs: number | null): number {
  if (retryAfterMs !== null) return Math.min(retryAfterMs, RETRY_AFTER_CAP_MS);
  return Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
}

function reject(s: SenderState, batch: Batch, result: PostResult, failure: string): void {
  addStat(s.views, batch.counters.dropped, batch.items);
  if (batch.counters.rejected >= 0) addStat(s.views, batch.counters.rejected, batch.items);
  setLastError(s.views, failure);
  if (s.reported.has(result.status)) return;
  s.reported.add(result.status);
  writeStderr(`the endpoint refused a ${batch.kind} batch: ${failure}. ${adviceFor(result.status)} Not retried; later refusals with this status are counted in stats() only.`);
}

function adviceFor(status: number): string {
  if (status === 401 || status === 403) return 'Check TERACRON_API_KEY: the receiver does not accept this project key.';
  if (status === 404) return 'Check TERACRON_DOMAIN: this host does not serve the Teracron ingest API.';
  if (status === 413) return 'The batch is larger than the receiver accepts; lower TERACRON_TRACE_BATCH_SIZE.';
  return '';
}

function sleep(ms: number, signal: AbortSignal | null): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
