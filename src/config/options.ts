/**
 * What a user may pass to `up()` / `new TeracronClient()`. Every option has an environment
 * variable; an option that is set wins over its variable. Numbers out of range are clamped
 * (with a warning in `config.warnings`), anything unparseable throws a `TeracronConfigError`.
 */

/**
 * Gets a shallow copy of the data about to be recorded (span metadata, captured parameters,
 * event metadata) and returns what to keep. If it throws, the data is dropped rather than
 * sent unscrubbed.
 */
export type TracingScrubber = (data: Record<string, unknown>) => Record<string, unknown>;

import type { LogLevel, WireFormat } from '../wire/batch-codec';

export type { WireFormat };

export interface TeracronOptions {
  /**
   * The project's API key (`tcn_…`), as printed by `teracron keygen`. Env: `TERACRON_API_KEY`.
   * Required. It holds only the project's public key, so it is not a secret.
   */
  apiKey?: string;

  /**
   * Where telemetry goes: `host`, `host:port` or `https://host[:port]`. Env: `TERACRON_DOMAIN`.
   * Default `www.teracron.com`. Plain `http://` is accepted only for loopback hosts
   * (localhost, 127.0.0.0/8, [::1]). A host outside teracron.com / *.teracron.com (other than
   * loopback) also needs the environment variable `TERACRON_ALLOW_CUSTOM_DOMAIN=1`, even when
   * the domain comes from this option: telemetry must not be redirectable by one stray setting.
   */
  domain?: string;

  /** Seconds between metrics samples, 5–300. Env: `TERACRON_INTERVAL`. Default 10. */
  intervalS?: number;

  /** Metrics snapshots buffered before a flush, 1–1000. Env: `TERACRON_MAX_BUFFER`. Default 10. */
  maxBufferSize?: number;

  /**
   * Seconds after which buffered metrics are flushed even if the buffer is not full, 10–600.
   * Env: `TERACRON_FLUSH_DEADLINE`. Default 60.
   */
  flushDeadlineS?: number;

  /** HTTP request timeout in seconds, 2–30. Env: `TERACRON_TIMEOUT`. Default 10. */
  timeoutS?: number;

  /**
   * Log the agent's own activity to stderr (never payloads or keys). Env: `TERACRON_DEBUG`
   * (1/0, true/false, yes/no, on/off). Default false.
   */
  debug?: boolean;

  /**
   * Sidecar mode: sample this process id instead of the current process. Env:
   * `TERACRON_TARGET_PID`. Default: the current process (`null`).
   */
  targetPid?: number | null;

  /**
   * Also sample every descendant of the watched process as it appears (what
   * `teracron run --children` sets). Env: `TERACRON_MONITOR_CHILDREN`. Default false.
   */
  monitorChildren?: boolean;

  /**
   * Sample process metrics (memory, CPU, heap, event-loop delay) every `intervalS` and send
   * them to `/api/ingest`. Env: `TERACRON_METRICS_ENABLED`. Default true.
   */
  metricsEnabled?: boolean;

  /** Record spans and events. Env: `TERACRON_TRACING_ENABLED`. Default true. */
  tracingEnabled?: boolean;

  /** Spans per trace batch, 1–10000. Env: `TERACRON_TRACE_BATCH_SIZE`. Default 100. */
  traceBatchSize?: number;

  /** Seconds between trace batch flushes, 1–300. Env: `TERACRON_TRACE_FLUSH_INTERVAL`. Default 10. */
  traceFlushInterval?: number;

  /**
   * Fraction of traces recorded, 0–1, decided once per trace at its root. Env:
   * `TERACRON_TRACE_SAMPLE_RATE`. Default 1.
   */
  traceSampleRate?: number;

  /** Rewrites recorded data before it leaves the process; see {@link TracingScrubber}. No env. */
  tracingScrubber?: TracingScrubber;

  /**
   * Also emit lifecycle events (workflow_started, step_completed, …) for every span. Env:
   * `TERACRON_TRACE_EMIT_EVENTS`. Default false.
   */
  traceEmitEvents?: boolean;

  /**
   * Service name attached to every batch. Env: `TERACRON_SERVICE`. Default: the `name` of the
   * nearest package.json above the working directory, else `node-app`.
   */
  service?: string;

  /**
   * Workflow of the spans the automatic HTTP instrumentation (`teracron/auto`,
   * `instrumentHttp()`) starts for incoming requests. Env: `TERACRON_HTTP_WORKFLOW`. Default
   * `http`.
   */
  httpWorkflow?: string;

  /** Deployment environment attached to every batch. Env: `TERACRON_ENVIRONMENT`. Default `production`. */
  environment?: string;

  /**
   * Encoding of trace, event and log plaintexts: `json` (what the hosted platform reads) or
   * `msgpack` (smaller, faster; read by this project's collector). Env: `TERACRON_WIRE_FORMAT`.
   * Default `msgpack`.
   */
  wireFormat?: WireFormat;

  /**
   * Path to an extra PEM CA certificate trusted for the collector's TLS certificate (a
   * self-hosted collector). Env: `TERACRON_CA_FILE`. Default: system CAs only.
   */
  caFile?: string;

  /**
   * This project's addition: milliseconds that process exit (and a stop signal the app does not
   * handle, and `down()`) spends shipping what is buffered, retrying failed batches with short
   * backoffs, 0–30000. What is still unsent then is counted as dropped. Env:
   * `TERACRON_EXIT_TIMEOUT_MS`. Default 2000.
   */
  exitTimeoutMs?: number;

  /**
   * This project's addition: size in bytes of the ring buffer shared between the main thread
   * and the worker, 4096–268435456, rounded up to a power of two. Env: `TERACRON_RING_BYTES`.
   * Default 8388608 (8 MiB): a burst of about 50,000 spans before the worker catches up.
   */
  ringBytes?: number;

  /**
   * This project's addition: attempts to send one batch before it is dropped (or spooled),
   * 1–20. Env: `TERACRON_MAX_SEND_ATTEMPTS`. Default 5.
   */
  maxSendAttempts?: number;

  /**
   * This project's addition: keep batches that cannot be delivered (retries used up, the endpoint
   * down at exit, or down while the ring fills) on disk, sealed, and send them once the endpoint
   * answers again, from this process or the next one of the project. Env: `TERACRON_SPOOL`
   * (`0` turns it off). Default true.
   */
  spool?: boolean;

  /**
   * This project's addition: the spool directory. Env: `TERACRON_SPOOL_DIR`. Default: the user's
   * cache directory, `teracron/spool/<project slug>` (on Linux `$XDG_CACHE_HOME` or `~/.cache`).
   */
  spoolDir?: string;

  /**
   * This project's addition: bytes the spool keeps at most; past it the oldest batches are
   * deleted and counted (stats().droppedSpoolFull), 1048576–68719476736. Env:
   * `TERACRON_SPOOL_MAX_BYTES`. Default 268435456 (256 MiB).
   */
  spoolMaxBytes?: number;

  /**
   * This project's addition: logs below this level are not recorded (`log.*`, console capture,
   * crashes): debug, info, warn, error or fatal. Env: `TERACRON_LOG_LEVEL`. Default info.
   */
  logLevel?: LogLevel;

  /**
   * This project's addition: console.debug/log/info/warn/error/trace calls are also recorded as
   * logs (module "console"); what they print is unchanged. Env: `TERACRON_CAPTURE_CONSOLE=1`.
   * Default false.
   */
  captureConsole?: boolean;
}

export type { LogLevel };
