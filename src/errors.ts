/**
 * The agent's error tree. Every error carries a stable `code` so that callers
 * (and the collector's HTTP answers) can branch on it without parsing messages,
 * and every message says what was wrong, with the value, and what to do.
 */
export type TeracronErrorCode =
  | 'TERACRON_ERR_CONFIG'
  | 'TERACRON_ERR_KEY'
  | 'TERACRON_ERR_ENVELOPE'
  | 'TERACRON_ERR_WIRE'
  | 'TERACRON_ERR_PROCESS';

export class TeracronError extends Error {
  readonly code: TeracronErrorCode;

  constructor(code: TeracronErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A bad option or environment variable; thrown by `up()` and `new TeracronClient()`. */
export class TeracronConfigError extends TeracronError {
  constructor(message: string, options?: ErrorOptions) {
    super('TERACRON_ERR_CONFIG', message, options);
  }
}

/** A malformed API key or an RSA key that is not 4096-bit. */
export class TeracronKeyError extends TeracronError {
  constructor(message: string, options?: ErrorOptions) {
    super('TERACRON_ERR_KEY', message, options);
  }
}

/** An envelope that cannot be opened: too short, wrong key, or a failed GCM tag. */
export class TeracronEnvelopeError extends TeracronError {
  /** Which check failed, for receivers that map it to an HTTP status. */
  readonly reason: 'too-short' | 'key-unwrap' | 'auth-tag';

  constructor(reason: TeracronEnvelopeError['reason'], message: string, options?: ErrorOptions) {
    super('TERACRON_ERR_ENVELOPE', message, options);
    this.reason = reason;
  }
}

/** A plaintext that is not a valid batch (neither JSON nor msgpack, wrong shape, bad protobuf). */
export class TeracronWireError extends TeracronError {
  constructor(message: string, options?: ErrorOptions) {
    super('TERACRON_ERR_WIRE', message, options);
  }
}

/**
 * A process that cannot be read by `teracron/process`. `reason` says why, so a sidecar can tell
 * a process that has exited ('not-found') from one it may not look at ('forbidden').
 */
export class TeracronProcessError extends TeracronError {
  readonly pid: number;
  readonly reason: 'not-found' | 'forbidden' | 'unreadable';

  constructor(reason: TeracronProcessError['reason'], pid: number, message: string, options?: ErrorOptions) {
    super('TERACRON_ERR_PROCESS', message, options);
    this.pid = pid;
    this.reason = reason;
  }
}

/** The PID does not exist, or the process has exited (a zombie counts as exited). */
export class ProcessNotFoundError extends TeracronProcessError {
  constructor(pid: number, detail?: string, options?: ErrorOptions) {
    super('not-found', pid, `process ${pid} does not exist${detail ? ` (${detail})` : ''}; it may have exited. Check the PID, e.g. with \`ps -p ${pid}\`.`, options);
  }
}

/** The OS refuses to show the process's memory (another user's process, without privileges). */
export class ProcessAccessError extends TeracronProcessError {
  constructor(pid: number, detail?: string, options?: ErrorOptions) {
    super('forbidden', pid, `not allowed to read process ${pid}${detail ? ` (${detail})` : ''}: it belongs to another user or is protected. Run the monitor as the same user as the process, or as root.`, options);
  }
}
