/**
 * At most `size` handlers at once per subscription: the consumer pulls no further ahead than that, so one slow
 * subscriber does not hoard events its queue group could be handling elsewhere.
 */
export class Slots {
  #free: number;
  readonly #size: number;
  #waiting: ((granted: boolean) => void)[] = [];
  #idle: (() => void)[] = [];

  constructor(size: number) {
    this.#size = size;
    this.#free = size;
  }

  get busy(): number {
    return this.#size - this.#free;
  }

  /** Resolves true with a slot, or false when waiting was cancelled (the subscription is stopping). */
  acquire(): Promise<boolean> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) return next(true);
    this.#free++;
    if (this.#free === this.#size) for (const wake of this.#idle.splice(0)) wake();
  }

  /** Ends every wait without a slot. */
  cancelWaiting(): void {
    for (const wake of this.#waiting.splice(0)) wake(false);
  }

  /** Resolves when nothing is running, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void> {
    if (this.#free === this.#size) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.#idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
