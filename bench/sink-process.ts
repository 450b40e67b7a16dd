/**
 * The counting sink (bench/counting-sink.ts) as a child of the bench process: forked with an IPC
 * channel, it answers `reset` and `count` requests in order, each with a SinkCount.
 * bench/pipeline.ts and bench/exit.ts use it.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { SinkCount, SinkFormat, SinkMessage, SinkRequest } from './counting-sink';

export class SinkProcess {
  readonly #child: ChildProcess;
  readonly #waiting: Array<{ resolve: (count: SinkCount) => void; reject: (err: Error) => void }> = [];
  #exited: string | null = null;
  /** Base URL the sink listens on (loopback). */
  readonly url: string;

  private constructor(child: ChildProcess, url: string) {
    this.#child = child;
    this.url = url;
    child.on('message', (message: SinkMessage) => {
      if (message.type === 'count') this.#waiting.shift()?.resolve(message);
    });
    child.on('exit', (code, signal) => {
      this.#exited = `the counting sink exited (${signal ?? code})`;
      for (const waiter of this.#waiting.splice(0)) waiter.reject(new Error(this.#exited));
    });
  }

  /**
   * `pemPath`: the private key a teracron sink opens envelopes with (null for an OTLP sink).
   * `execArgv`: Node options for the sink's process (--cpu-prof, say).
   */
  static start(format: SinkFormat, pemPath: string | null, execArgv: string[] = []): Promise<SinkProcess> {
    const child = fork(join(__dirname, 'counting-sink.js'), pemPath === null ? [format] : [format, pemPath], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      child.once('message', (message: SinkMessage) => {
        if (message.type === 'ready') resolve(new SinkProcess(child, message.url));
        else reject(new Error(`counting-sink: expected ready, got ${message.type}`));
      });
      child.once('exit', (code) => reject(new Error(`counting-sink (${format}) exited with ${code} before listening`)));
    });
  }

  request(type: SinkRequest['type']): Promise<SinkCount> {
    return new Promise((resolve, reject) => {
      if (this.#exited !== null) return reject(new Error(this.#exited));
      this.#waiting.push({ resolve, reject });
      this.#child.send({ type } satisfies SinkRequest);
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#exited !== null) return resolve();
      this.#child.once('exit', () => resolve());
      this.#child.kill('SIGTERM');
    });
  }
}
