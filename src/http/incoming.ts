/**
 * Which trace an incoming request belongs to, read from its raw headers.
 *
 * `rawHeaders` is scanned rather than `req.headers`, whose first read builds an object of every
 * header: the three names looked for are told apart by length before any text is compared.
 *
 * - X-Teracron-Trace names the trace and the caller's whole span id: it wins for the ids.
 * - traceparent: the trace id, and the parent-id as '0000000000000000' + X (propagation.ts).
 * - Sampling: the sampled flag of a traceparent of the same trace when there is one (the caller
 *   set it to the decision it actually made, whichever rule made it), else the id-hash rule on
 *   the trace id, as for any root.
 * - A request made by a teracron agent (its User-Agent) is not traced at all: a collector, or a
 *   receiver in a test, that runs the agent itself would otherwise trace its own intake.
 */
import type { IncomingMessage } from 'node:http';
import { newIdWords } from '../recorder/ids';
import type { IdWords } from '../recorder/ids';
import { parseTraceHeader, parseTraceparent } from '../tracing/propagation';
import { tracer } from '../tracing/tracer';

export interface IncomingTrace {
  trace: IdWords;
  parent: IdWords | null;
  sampled: boolean;
}

const AGENT_PREFIX = 'teracron-node/';

/** The trace to run the request in, or null for a request from a teracron agent. */
export function incomingTrace(req: IncomingMessage): IncomingTrace | null {
  const raw = req.rawHeaders;
  let teracron: string | undefined;
  let traceparent: string | undefined;
  let traceparents = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    switch (name.length) {
      case 16:
        if (teracron === undefined && name.toLowerCase() === 'x-teracron-trace') teracron = raw[i + 1];
        break;
      case 11:
        if (name.toLowerCase() === 'traceparent') {
          traceparent = raw[i + 1];
          traceparents++;
        }
        break;
      case 10:
        if (raw[i + 1]!.startsWith(AGENT_PREFIX) && name.toLowerCase() === 'user-agent') return null;
        break;
    }
  }
  // W3C: a repeated traceparent is invalid.
  const w3c = traceparents === 1 ? parseTraceparent(traceparent) : null;
  const ours = teracron === undefined ? null : parseTraceHeader(teracron);
  if (ours !== null) {
    const flag = w3c !== null && sameId(w3c.traceId, ours.traceId) ? w3c.sampled : null;
    return { trace: ours.traceId, parent: ours.spanId, sampled: flag ?? sampleRoot(ours.traceId) };
  }
  if (w3c !== null) return { trace: w3c.traceId, parent: w3c.spanId, sampled: w3c.sampled };
  const trace = newIdWords();
  return { trace, parent: null, sampled: sampleRoot(trace) };
}

function sampleRoot(trace: IdWords): boolean {
  return tracer.sampleAll || tracer.sample(trace);
}

function sameId(a: IdWords, b: IdWords): boolean {
  return a.w0 === b.w0 && a.w1 === b.w1 && a.w2 === b.w2 && a.w3 === b.w3;
}
