/**
 * Live refresh: calls `tick` every `intervalMs` while the tab is visible, never two at once,
 * at once when the tab comes back, and later when the collector asks to slow down.
 */
export class Poller {
  readonly #intervalMs: number;
  readonly #tick: () => Promise<number | void>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #again = false;
  #stopped = true;
  readonly #onVisibility = (): void => {
    if (document.visibilityState === 'visible') void this.now();
    else clearTimeout(this.#timer);
  };

  /** `tick` may return a delay (ms) to wait before the next one, e.g. after a 429. */
  constructor(intervalMs: number, tick: () => Promise<number | void>) {
    this.#intervalMs = intervalMs;
    this.#tick = tick;
  }

  start(): void {
    this.#stopped = false;
    document.addEventListener('visibilitychange', this.#onVisibility);
    void this.now();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    document.removeEventListener('visibilitychange', this.#onVisibility);
  }

  /** Runs a tick now; during one, runs another as soon as it ends (its answer may be stale). */
  async now(): Promise<void> {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#running = true;
    let delay: number | void = undefined;
    try {
      delay = await this.#tick();
    } finally {
      this.#running = false;
    }
    if (this.#again) {
      this.#again = false;
      return this.now();
    }
    if (!this.#stopped && document.visibilityState === 'visible') {
      this.#timer = setTimeout(() => void this.now(), Math.max(this.#intervalMs, delay ?? 0));
    }
  }
}
