/**
 * The local sampling decision, made only when no upstream decided (no header, or `Sampled=?`). It follows the
 * shape of X-Ray's default sampling rule: a reservoir of `reservoir` traces per second is sampled first, so a
 * quiet service still shows up, then `rate` (0..1) of the requests beyond it. The defaults are X-Ray's own
 * (1 per second, then 5%). The reservoir is per process: N instances sample up to N per second together.
 */
export interface SamplingOptions {
  rate: number;
  reservoir: number;
}

export class Sampler {
  readonly #rate: number;
  readonly #reservoir: number;
  readonly #random: () => number;
  #second = -1;
  #taken = 0;

  constructor(options: SamplingOptions, random: () => number = Math.random) {
    this.#rate = Math.min(1, Math.max(0, options.rate));
    this.#reservoir = Math.max(0, Math.floor(options.reservoir));
    this.#random = random;
  }

  /** The upstream decision when there is one; otherwise ours. */
  decide(upstream: boolean | undefined, nowMs: number = Date.now()): boolean {
    if (upstream !== undefined) return upstream;
    const second = Math.floor(nowMs / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#taken = 0;
    }
    if (this.#taken < this.#reservoir) {
      this.#taken++;
      return true;
    }
    // `< rate` makes 0 mean never and 1 mean always (random() is in [0, 1)).
    return this.#random() < this.#rate;
  }
}
