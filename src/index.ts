/** The public API of `teracron`. */
export { up, down, getClient } from './agent';
export { TeracronClient } from './client';
export type { TeracronStats } from './client';
export type { TeracronOptions, TracingScrubber, WireFormat } from './config/options';
export type { SpanInput, EventInput } from './recorder/recorder';
export { TeracronError, TeracronConfigError, TeracronKeyError, TeracronEnvelopeError, TeracronWireError } from './errors';
export type { TeracronErrorCode } from './errors';
export { SDK_VERSION } from './version';
export { trace, withSpan, currentSpan } from './tracing/trace';
export type { TraceOptions, WithSpanOptions } from './tracing/trace';
export { traced } from './tracing/decorator';
export type { Span } from './tracing/span';
export type { CaptureOption } from './tracing/capture';
export { getTraceHeader, setTraceHeader, continueTrace } from './tracing/header-api';
export { TRACE_HEADER } from './tracing/propagation';
export { event } from './tracing/event';
export type { EventOptions } from './tracing/event';
export { isSampled } from './tracing/sampling';
