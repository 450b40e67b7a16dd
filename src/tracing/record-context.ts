/**
 * Which span and trace a record made now (an event, a log, a pino line) belongs to: an active
 * span, or an ended span's scope (a listener registered in it), gives both; a trace scope alone
 * (an unsampled root, a continued trace) gives only the trace; outside any, neither.
 */
import type { TraceContext, TraceScope } from './context';
import type { IdWords } from '../recorder/ids';
import { ActiveSpan } from './span';
import { SpanScope } from './span-scope';

export function spanOfContext(context: TraceContext | undefined): ActiveSpan | SpanScope | null {
  return context instanceof ActiveSpan || context instanceof SpanScope ? context : null;
}

export function traceOfContext(context: TraceContext | undefined, span: ActiveSpan | SpanScope | null): IdWords | null {
  if (span !== null) return span.trace;
  return context === undefined ? null : (context as TraceScope).traceWords;
}
