/**
 * The process-wide tracing state that every wrapper reads first: which recorder spans go to
 * (null when no client runs or tracing is off, which makes every wrapper a pass-through), how
 * roots are sampled, and the scrubber. Set by the client on start, cleared on stop.
 */
import { performance } from 'node:perf_hooks';
import type { TeracronConfig } from '../config/resolve';
import type { TracingScrubber } from '../config/options';
import { newIdWords } from '../recorder/ids';
import type { IdWords } from '../recorder/ids';
import { recordSpanFields } from '../recorder/recorder';
import type { Recorder } from '../recorder/recorder';
import { writeStderrOnce } from '../stderr';
import { scrub } from './capture';
import { TraceScope, storage } from './context';
import { installEmitterContext } from './event-emitter';
import type { TraceContext } from './context';
import { makeIdSampler } from './id-sampler';
import { ActiveSpan } from './span';

export interface Tracer {
  recorder: Recorder | null;
  /** True at rate 1 (the default): roots skip the hash entirely. */
  sampleAll: boolean;
  sample: (id: IdWords) => boolean;
  scrubber: TracingScrubber | undefined;
  /** Workflow of the automatic HTTP server spans (`httpWorkflow`). */
  httpWorkflow: string;
  /** `scheme://host[:port]` of the endpoint: calls there are never traced. */
  endpointOrigin: string;
}

export const tracer: Tracer = { recorder: null, sampleAll: true, sample: () => true, scrubber: undefined, httpWorkflow: 'http', endpointOrigin: '' };

export function activateTracer(recorder: Recorder, config: TeracronConfig): void {
  installEmitterContext();
  tracer.sampleAll = config.traceSampleRate >= 1;
  tracer.sample = makeIdSampler(config.traceSampleRate);
  tracer.scrubber = config.tracingScrubber;
  tracer.httpWorkflow = config.httpWorkflow;
  tracer.endpointOrigin = originOf(config.baseUrl);
  tracer.recorder = recorder;
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

export function deactivateTracer(recorder: Recorder): void {
  if (tracer.recorder === recorder) tracer.recorder = null;
}

export function warnOnce(key: string, message: string): void {
  writeStderrOnce(key, message);
}

/** The decision for a trace id that arrives from elsewhere (a header). */
export function sampleTrace(traceWords: IdWords): boolean {
  return tracer.sampleAll || tracer.sample(traceWords);
}

/**
 * What a traced call runs under, given the context it was called in:
 * - an ActiveSpan to record (a sampled root, or a child of a sampled trace);
 * - a TraceScope for a root that sampling leaves out (entered so its children and outgoing
 *   headers carry the same trace, and the same decision);
 * - null when the call is inside a trace that is not recorded: run it as it is.
 */
export function openSpan(parent: TraceContext | undefined, workflow: string, operation: string): ActiveSpan | TraceScope | null {
  if (parent === undefined) {
    const trace = newIdWords();
    if (!tracer.sampleAll && !tracer.sample(trace)) return new TraceScope(trace, null, false);
    return new ActiveSpan(trace, null, workflow, operation, performance.now());
  }
  if (!parent.sampled) return null;
  if (parent instanceof ActiveSpan) return new ActiveSpan(parent.trace, parent, workflow, operation, performance.now());
  return new ActiveSpan(parent.traceWords, parent.parentWords, workflow, operation, performance.now());
}

/** Ends a span and hands it to the ring; a span still open when the client stops is not recorded. */
export function closeSpan(span: ActiveSpan): void {
  span.end = performance.now();
  // Listeners registered in the span hold its scope, which from now on must not hold the span.
  if (span.scope !== null) span.scope.live = null;
  const recorder = tracer.recorder;
  if (recorder === null) return;
  if (tracer.scrubber !== undefined) {
    if (span.metadata !== null) span.metadata = scrub(span.metadata, tracer.scrubber, warnOnce);
    if (span.capturedParams !== null) span.capturedParams = scrub(span.capturedParams, tracer.scrubber, warnOnce);
  }
  recordSpanFields(recorder, span);
}

export function closeSpanFailed(span: ActiveSpan, error: unknown): void {
  span.fail(error);
  closeSpan(span);
}

export { storage };
