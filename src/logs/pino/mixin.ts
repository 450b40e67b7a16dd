/**
 * `pino({ mixin: pinoMixin }, …)`: every line logged inside a span carries `trace_id` and
 * `span_id` (32 hex), the ids of the span the agent records, so the collector joins pino's logs
 * to the trace as it joins `log.*` calls (the same rules as logs/log.ts: a span, or an ended
 * span's scope, gives both; a trace without a span of its own here gives the trace id).
 *
 * A new object each time: pino merges the line's own fields into what the mixin returns.
 */
import { idWordsToHex } from '../../recorder/ids';
import { storage } from '../../tracing/context';
import { spanOfContext, traceOfContext } from '../../tracing/record-context';

export interface PinoTraceFields {
  trace_id?: string;
  span_id?: string;
}

export function pinoMixin(): PinoTraceFields {
  const context = storage.getStore();
  const span = spanOfContext(context);
  const trace = traceOfContext(context, span);
  if (trace === null) return {};
  return span === null ? { trace_id: idWordsToHex(trace) } : { trace_id: idWordsToHex(trace), span_id: idWordsToHex(span) };
}
