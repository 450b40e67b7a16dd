/**
 * The stream pino's transport worker writes its lines into (thread-stream's worker.js calls the
 * default export of `teracron/pino` with the transport's `options` and writes NDJSON text).
 *
 * It ships directly (direct-shipper.ts) rather than through an agent: this thread is pino's, and
 * an agent here would be a second one in the process, with its own metrics and exit work. The
 * app's agent, if any, is not involved, and its stats() do not count these logs.
 *
 * The end: at exit pino calls end() on its side and blocks the app's thread until this stream
 * emits 'close' (10 s at most). `_final` ships what is left within the exit budget
 * (MAX_EXIT_BUDGET_MS), and only then lets the stream finish and close. `flush(cb)` (pino's
 * `logger.flush(cb)`) sends what is pending and calls back once it is delivered or counted.
 *
 * Nothing is thrown into pino: a line that is not JSON, or any failure here, is counted as a
 * dropped log and said on stderr (each one with TERACRON_DEBUG, else once).
 */
import { StringDecoder } from 'node:string_decoder';
import { Writable } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import type { TeracronOptions } from '../../config/options';
import { resolveConfig } from '../../config/resolve';
import { writeStderr } from '../../stderr';
import { appPaths } from '../../worker/log-records';
import type { AppPaths } from '../../worker/log-records';
import { closeShipper, createDirectShipper, flushShipper, noteDropped, shipLog } from '../direct-shipper';
import type { DirectShipper } from '../direct-shipper';
import { DEFAULT_PINO_LINE_CONFIG, parsePinoLine } from './pino-line';
import type { PinoLineConfig } from './pino-line';

const NAME = 'teracron/pino';
/** How long the transport waits for pino's PINO_CONFIG (messageKey, errorKey, levels) before using pino's defaults. */
const CONFIG_WAIT_MS = 1000;

/** The agent's options (apiKey, domain, service, …), each falling back to its TERACRON_* variable as in up(). */
export type PinoTransportOptions = TeracronOptions & {
  /** Set by pino.transport(): pino will post its logger's settings to this thread. */
  pinoWillSendConfig?: boolean;
  /** Set by thread-stream (its version). */
  $context?: unknown;
};

export async function createPinoStream(options: PinoTransportOptions = {}): Promise<Writable> {
  // What pino and thread-stream add is theirs; the rest is the agent's options.
  const { pinoWillSendConfig, $context: _threadStream, ...teracronOptions } = options ?? {};
  const lineConfig = pinoWillSendConfig === true ? await pinoConfig() : DEFAULT_PINO_LINE_CONFIG;
  let shipper: DirectShipper;
  try {
    const config = resolveConfig(teracronOptions);
    for (const warning of config.warnings) writeStderr(`${NAME}: warning: ${warning}`);
    shipper = createDirectShipper({ config, name: NAME });
  } catch (error) {
    // As teracron/auto does without a key: the app runs, its logs are not shipped, and it is said once.
    const text = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ').trim();
    writeStderr(`${NAME} is off, pino's lines are not shipped: ${text}`);
    return new Writable({ write: (_chunk, _encoding, callback) => callback() });
  }
  return new PinoDestination(shipper, lineConfig);
}

/** pino posts `{ code: 'PINO_CONFIG', config: { levels, messageKey, errorKey } }` once the logger is made. */
function pinoConfig(): Promise<PinoLineConfig> {
  const port = parentPort;
  if (port === null) return Promise.resolve(DEFAULT_PINO_LINE_CONFIG);
  return new Promise((resolve) => {
    const done = (config: PinoLineConfig): void => {
      clearTimeout(timer);
      port.off('message', onMessage);
      resolve(config);
    };
    const onMessage = (message: unknown): void => {
      if (typeof message === 'object' && message !== null && (message as { code?: unknown }).code === 'PINO_CONFIG') {
        done(lineConfigOf((message as { config?: unknown }).config));
      }
    };
    const timer = setTimeout(() => done(DEFAULT_PINO_LINE_CONFIG), CONFIG_WAIT_MS);
    port.on('message', onMessage);
  });
}

function lineConfigOf(value: unknown): PinoLineConfig {
  if (typeof value !== 'object' || value === null) return DEFAULT_PINO_LINE_CONFIG;
  const { messageKey, errorKey, levels } = value as { messageKey?: unknown; errorKey?: unknown; levels?: { labels?: unknown } };
  const labels = levels?.labels;
  return {
    messageKey: typeof messageKey === 'string' ? messageKey : DEFAULT_PINO_LINE_CONFIG.messageKey,
    errorKey: typeof errorKey === 'string' ? errorKey : DEFAULT_PINO_LINE_CONFIG.errorKey,
    labels: typeof labels === 'object' && labels !== null ? (labels as Record<string, string>) : null,
  };
}

class PinoDestination extends Writable {
  readonly #shipper: DirectShipper;
  readonly #lineConfig: PinoLineConfig;
  // The process's working directory, which a worker thread shares.
  readonly #paths: AppPaths = appPaths(process.cwd());
  readonly #decoder = new StringDecoder('utf8');
  /** The start of a line whose end has not come yet. */
  #rest = '';

  constructor(shipper: DirectShipper, lineConfig: PinoLineConfig) {
    super({ decodeStrings: false });
    this.#shipper = shipper;
    this.#lineConfig = lineConfig;
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#take(typeof chunk === 'string' ? chunk : this.#decoder.write(chunk));
    // Never held back: a slow endpoint must not stall pino (its buffer full would block the app).
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#take(this.#decoder.end());
    if (this.#rest !== '') this.#line(this.#rest);
    this.#rest = '';
    closeShipper(this.#shipper).then(() => callback(), () => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    void closeShipper(this.#shipper);
    callback(error);
  }

  /** thread-stream's FLUSH (pino's `logger.flush(cb)`): calls back once what was written is delivered or counted. */
  flush(callback: (error?: Error) => void): void {
    flushShipper(this.#shipper).then(() => callback(), callback);
  }

  #take(text: string): void {
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      const line = start === 0 && this.#rest !== '' ? this.#rest + text.slice(0, end) : text.slice(start, end);
      if (start === 0) this.#rest = '';
      this.#line(line);
      start = end + 1;
    }
    if (start < text.length) this.#rest += text.slice(start);
  }

  #line(line: string): void {
    if (line.trim() === '') return;
    try {
      const parsed = parsePinoLine(line, this.#lineConfig, this.#paths);
      if (parsed === null) return noteDropped(this.#shipper, 1, `that is not a JSON object (a line of ${line.length} characters)`);
      shipLog(this.#shipper, parsed.log, parsed.pid, parsed.host);
    } catch (error) {
      noteDropped(this.#shipper, 1, `that could not be read: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
