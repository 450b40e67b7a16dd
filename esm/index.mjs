// ESM entry: the same single CommonJS instance, so `import` and `require` share one agent.
import teracron from '../dist/src/index.js';

export const {
  up,
  down,
  getClient,
  TeracronClient,
  TeracronError,
  TeracronConfigError,
  TeracronKeyError,
  TeracronEnvelopeError,
  TeracronWireError,
  SDK_VERSION,
  trace,
  withSpan,
  currentSpan,
  traced,
  getTraceHeader,
  getTraceparent,
  setTraceHeader,
  continueTrace,
  TRACE_HEADER,
  TRACEPARENT_HEADER,
  instrumentHttp,
  setServerRoute,
  recordServerError,
  event,
  isSampled,
  log,
} = teracron;
export default teracron;
