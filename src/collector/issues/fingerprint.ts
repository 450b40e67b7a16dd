/**
 * What groups errors into issues (docs/query-api.md, "Logs and issues"): the SHA-256 of the
 * error type, the message normalised (normalize-message.ts) and the top in-app frames of the
 * stack (stack-frames.ts). The same error thrown from the same place with other ids in its
 * message is one issue; another call site is another. Pure: run on the ingest pool.
 */
import { createHash } from 'node:crypto';
import type { WireLog, WireSpan } from '../../wire/batch-codec';
import { normalizeMessage } from './normalize-message';
import { inAppFrames } from './stack-frames';

export interface ErrorFingerprint {
  /** 64 lowercase hex. */
  fingerprint: string;
  type: string;
  normalized_message: string;
  frames: string[];
}

export interface ErrorFacts {
  type?: string | null | undefined;
  message?: string | null | undefined;
  stack?: string | null | undefined;
}

export function fingerprintError(error: ErrorFacts): ErrorFingerprint {
  return fingerprintOf(error.type || 'Error', normalizeMessage(error.message ?? ''), inAppFrames(error.stack));
}

function fingerprintOf(type: string, normalized: string, frames: string[]): ErrorFingerprint {
  const fingerprint = createHash('sha256').update(`${type}\n${normalized}\n${frames.join('\n')}`).digest('hex');
  return { fingerprint, type, normalized_message: normalized, frames };
}

/**
 * The text a log's issue is made of: its error's message when it carries one, else its own. An
 * empty error message counts as none: the agent sends '' for an error thrown without a message.
 */
export function logErrorMessage(log: WireLog): string {
  return log.error_message || log.message;
}

/** An error or fatal log's issue, whether or not it carries error fields; null for lower levels. */
export function fingerprintLog(log: WireLog): ErrorFingerprint | null {
  if (log.level !== 'error' && log.level !== 'fatal') return null;
  return fingerprintError({ type: log.error_type, message: logErrorMessage(log), stack: log.stack });
}

/**
 * A failed span with an error type or message; null for any other. A span carries no stack, so
 * its place in the application stands in for the frames: `workflow › operation`.
 */
export function fingerprintSpan(span: WireSpan): ErrorFingerprint | null {
  if (span.status !== 'failed' || (span.error_type == null && span.error_message == null)) return null;
  return fingerprintOf(span.error_type || 'Error', normalizeMessage(span.error_message ?? ''), [`${span.workflow} › ${span.operation}`]);
}
