/**
 * HTTP to the endpoint: one undici Pool per origin, keep-alive, `timeoutS` on connect, headers
 * and the whole answer body, of which only the first few KiB are ever kept (answer-body.ts).
 * It only says what happened; whether to retry is the sender's business.
 *
 * undici is loaded, and the Pool made, at the first post: an idle agent may not send anything
 * for a minute or more (metrics ship every flushDeadline), and undici's modules are 3.4 MiB of
 * the idle process (bench/memory-account.ts). A script that records and exits pays the same
 * load either way, once, before its first request.
 */
import { rootCertificates } from 'node:tls';
import type { Pool } from './undici-pool';
import { readAnswerBody } from './answer-body';
import { notePosting } from './body-writes';
import type { BodyLimits } from './answer-body';

export interface TransportOptions {
  baseUrl: string;
  slug: string;
  userAgent: string;
  timeoutS: number;
  /** Extra CA (PEM) trusted for the endpoint's certificate, from TERACRON_CA_FILE. */
  caPem: string | null;
  connections: number;
}

export interface PostResult {
  status: number;
  /** From Retry-After, in ms; null when absent or unreadable. */
  retryAfterMs: number | null;
  /** For non-2xx answers: the body's `error` (and `hint`) or its first bytes. */
  errorText: string | null;
}

const MAX_ERROR_TEXT = 300;
/** Enough for a JSON `{error, hint}` of any sensible length; the text itself is clipped to MAX_ERROR_TEXT. */
export const ERROR_BODY_KEEP_BYTES = 4 * 1024;
/** Past this much body the connection is closed rather than read (undici's dump() default is 128 KiB). */
export const BODY_DISCARD_BYTES = 64 * 1024;

export class Transport {
  /** Null until the first post. */
  #pool: Pool | null = null;
  readonly #options: TransportOptions;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  /** The origin posted to, for messages about it. */
  readonly baseUrl: string;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.#timeoutMs = options.timeoutS * 1000;
    this.baseUrl = options.baseUrl;
    this.#headers = {
      'content-type': 'application/octet-stream',
      'x-project-slug': options.slug,
      'user-agent': options.userAgent,
    };
  }

  /** Rejects only for network-level failures (refused, reset, timeout, TLS). */
  async post(path: string, body: Uint8Array): Promise<PostResult> {
    const pool = this.#poolNow();
    // Bodies may be reused buffers: which sockets write this one decides when it is free again.
    // (After the pool: the channel is subscribed once undici is loaded, see body-writes.ts.)
    notePosting(body);
    const res = await pool.request({ path, method: 'POST', headers: this.#headers, body });
    const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    // A success needs no body at all; an error needs only the start of it. A body cut off or
    // broken mid-way still leaves the status, which is the answer.
    const limits: BodyLimits = { keepBytes: ok ? 0 : ERROR_BODY_KEEP_BYTES, discardBytes: BODY_DISCARD_BYTES, timeoutMs: this.#timeoutMs };
    const kept = await readAnswerBody(res.body, declaredLength(res.headers['content-length']), limits);
    return { status: res.statusCode, retryAfterMs, errorText: ok ? null : errorTextOf(kept.toString('utf8')) };
  }

  async close(): Promise<void> {
    await this.#pool?.close();
  }

  destroy(): void {
    void this.#pool?.destroy();
  }

  #poolNow(): Pool {
    if (this.#pool !== null) return this.#pool;
    const { Pool: UndiciPool } = require('./undici-pool') as typeof import('./undici-pool');
    const { baseUrl, connections, caPem } = this.#options;
    const timeoutMs = this.#timeoutMs;
    this.#pool = new UndiciPool(baseUrl, {
      connections,
      pipelining: 1,
      connectTimeout: timeoutMs,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      keepAliveTimeout: 30_000,
      // `ca` replaces Node's trust store, so the extra CA is added to the system roots, not instead of them.
      connect: caPem === null ? undefined : { ca: [...rootCertificates, caPem] },
    });
    return this.#pool;
  }
}

/** Seconds or an HTTP date; negative or garbage values are ignored. */
export function parseRetryAfter(value: string | string[] | undefined): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return null;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : null;
  const date = Date.parse(raw);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - Date.now());
}

function declaredLength(value: string | string[] | undefined): number | null {
  const length = Number(Array.isArray(value) ? value[0] : value);
  return value !== undefined && Number.isSafeInteger(length) && length >= 0 ? length : null;
}

function errorTextOf(body: string): string | null {
  const trimmed = body.trim();
  if (trimmed === '') return null;
  try {
    const parsed = JSON.parse(trimmed) as { error?: unknown; hint?: unknown };
    if (typeof parsed.error === 'string') {
      const hint = typeof parsed.hint === 'string' ? ` (${parsed.hint})` : '';
      return clip(parsed.error + hint);
    }
  } catch {
    // Not JSON: report the start of the text as it is.
  }
  return clip(trimmed);
}

function clip(text: string): string {
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text;
}
