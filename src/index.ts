/** The public API of `teracron`. */
export { up, down, getClient } from './agent';
export { TeracronClient } from './client';
export type { TeracronStats } from './client';
export type { TeracronOptions, TracingScrubber, WireFormat } from './config/options';
export type { SpanInput, EventInput } from './recorder/recorder';
export { TeracronError, TeracronConfigError, TeracronKeyError, TeracronEnvelopeError, TeracronWireError } from './errors';
export type { TeracronErrorCode } from './errors';
export { SDK_VERSION } from './version';
