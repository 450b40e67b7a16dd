/**
 * The errors of a validated batch as IssueOccurrences (store/types.ts), computed on the ingest
 * pool next to the decoding, so the store's writer only counts them.
 */
import type { WireLog, WireSpan } from '../../wire/batch-codec';
import type { IssueOccurrence, LogLevel } from '../store/types';
import { fingerprintLog, fingerprintSpan, logErrorMessage } from './fingerprint';

export interface LogIssues {
  /** Aligned with the logs: each error or fatal log's fingerprint, else null. */
  fingerprints: Array<string | null>;
  occurrences: IssueOccurrence[];
}

export function logOccurrences(logs: readonly WireLog[]): LogIssues {
  const fingerprints: Array<string | null> = new Array(logs.length);
  const occurrences: IssueOccurrence[] = [];
  logs.forEach((log, i) => {
    const issue = fingerprintLog(log);
    fingerprints[i] = issue?.fingerprint ?? null;
    if (issue === null) return;
    occurrences.push({
      ...issue,
      source: 'log',
      timestamp: log.timestamp,
      message: logErrorMessage(log),
      stack: log.stack ?? null,
      level: log.level as LogLevel,
      trace_id: log.trace_id ?? null,
      span_id: log.span_id ?? null,
    });
  });
  return { fingerprints, occurrences };
}

/** Failed spans with an error; a span sent twice in the batch (started, then failed) counts once. */
export function spanOccurrences(spans: readonly WireSpan[]): IssueOccurrence[] {
  const occurrences: IssueOccurrence[] = [];
  const seen = new Set<string>();
  for (const span of spans) {
    const issue = fingerprintSpan(span);
    if (issue === null || seen.has(span.span_id)) continue;
    seen.add(span.span_id);
    occurrences.push({
      ...issue,
      source: 'span',
      timestamp: span.started_at,
      message: span.error_message ?? '',
      stack: null,
      level: null,
      trace_id: span.trace_id,
      span_id: span.span_id,
    });
  }
  return occurrences;
}
