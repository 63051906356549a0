/** Small statistics over measurements: medians across rounds, percentiles of per-request latencies. */

/** The value below which `fraction` of the sorted samples fall (nearest rank). */
export function percentile(sorted: ArrayLike<number>, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: readonly number[]): number {
  const finite = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const middle = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[middle]! : (finite[middle - 1]! + finite[middle]!) / 2;
}

/** The spread of rounds as (max − min) / median, so a reader sees how much one number can be trusted. */
export function spread(values: readonly number[]): number {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length < 2) return 0;
  const middle = median(finite);
  return middle === 0 ? 0 : (Math.max(...finite) - Math.min(...finite)) / middle;
}

/**
 * Latencies kept in a growable Float64Array: a measured run records hundreds of thousands of them, and a plain
 * array of boxed numbers would make the client itself allocate (and collect) in the loop it is measuring.
 */
export class LatencyRecorder {
  #samples = new Float64Array(1 << 16);
  #count = 0;

  get count(): number {
    return this.#count;
  }

  record(ms: number): void {
    if (this.#count === this.#samples.length) {
      const grown = new Float64Array(this.#samples.length * 2);
      grown.set(this.#samples);
      this.#samples = grown;
    }
    this.#samples[this.#count++] = ms;
  }

  sorted(): Float64Array {
    return this.#samples.slice(0, this.#count).sort();
  }
}
