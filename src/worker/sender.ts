/**
 * Delivers one sealed batch: retries network errors, 408, 429 and 5xx with exponential backoff
 * and full jitter (or the server's Retry-After), up to `maxAttempts`; any other answer is final.
 * Every outcome lands in the shared counters. Once the process is exiting (`final`), a batch
 * gets one more attempt and no sleep, so exit stays bounded even with no endpoint at all.
 */
import { STAT_BATCHES, STAT_BYTES_SENT, STAT_DROPPED_SEND, STAT_METRICS_DROPPED, STAT_METRICS_SENT, STAT_REJECTED, STAT_RETRIES, STAT_SENT } from '../ring/layout';
import type { RingViews } from '../ring/layout';
import { addStat, setLastError } from '../ring/shared-stats';
import { writeStderr } from '../stderr';
import { describeNetworkError } from './network-error';
import type { PostResult, Transport } from './transport';

export interface SenderState {
  readonly views: RingViews;
  readonly transport: Transport;
  readonly maxAttempts: number;
  readonly debug: boolean;
  /** Set when the process exits: no more sleeping between attempts. */
  final: boolean;
  /** Wakes every backoff sleep at once when `final` is set. */
  finalSignal: AbortController;
  /** Statuses already reported on stderr, so a misconfiguration is said once, not per batch. */
  readonly reported: Set<number | string>;
}

export const BACKOFF_BASE_MS = 250;
export const BACKOFF_CAP_MS = 30_000;
export const RETRY_AFTER_CAP_MS = 60_000;

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
  path: string;
  kind: string;
  body: Uint8Array;
  items: number;
  counters: ItemCounters;
}

export async function deliver(s: SenderState, batch: Batch): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let result: PostResult | null = null;
    let failure: string;
    try {
      result = await s.transport.post(batch.path, batch.body);
      if (result.status >= 200 && result.status < 300) {
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
      failure = `${batch.path} could not be reached: ${describeNetworkError(err, s.transport.baseUrl)}`;
    }
    setLastError(s.views, failure);
    if (s.final || attempt >= s.maxAttempts) {
      addStat(s.views, batch.counters.dropped, batch.items);
      if (s.debug || !s.reported.has('gave-up')) {
        s.reported.add('gave-up');
        writeStderr(`dropped ${batch.items} ${batch.kind} items after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${failure} (counted in stats().${batch.counters === METRICS_COUNTERS ? 'metricsDropped' : 'droppedSendFailed'})`);
      }
      return;
    }
    addStat(s.views, STAT_RETRIES, 1);
    const delay = backoffDelay(attempt, result?.retryAfterMs ?? null);
    if (s.debug) writeStderr(`${failure}; retry ${attempt} of ${s.maxAttempts - 1} in ${Math.round(delay)} ms`);
    await sleep(delay, s.finalSignal.signal);
  }
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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
