/**
 * Which offset of one partition may be committed. Records are received in offset order, but finish in any order
 * (a manual ack can come late); the commit point is one past the last record of the unbroken run of finished
 * records from the oldest one, so a commit never passes a record that is still being handled. It follows the
 * records actually received rather than counting offsets, because Kafka offsets have gaps (transaction markers,
 * compaction).
 */
export class OffsetTracker {
  /** Received and not yet passed by the commit point, oldest first. */
  readonly #open: bigint[] = [];
  readonly #finished = new Set<bigint>();
  #commitPoint: bigint | undefined;
  #highest: bigint | undefined;

  /** The highest offset received: a record at or below it is a copy (a re-fetch after a rebalance) and is skipped. */
  get highest(): bigint | undefined {
    return this.#highest;
  }

  get commitPoint(): bigint | undefined {
    return this.#commitPoint;
  }

  get openCount(): number {
    return this.#open.length;
  }

  /** False when `offset` was already received. */
  receive(offset: bigint): boolean {
    if (this.#highest !== undefined && offset <= this.#highest) return false;
    this.#highest = offset;
    this.#open.push(offset);
    return true;
  }

  /** Marks a record finished (handled, or dead-lettered); true when the commit point moved. */
  finish(offset: bigint): boolean {
    this.#finished.add(offset);
    let moved = false;
    while (this.#open.length > 0 && this.#finished.has(this.#open[0]!)) {
      const passed = this.#open.shift()!;
      this.#finished.delete(passed);
      this.#commitPoint = passed + 1n;
      moved = true;
    }
    return moved;
  }
}
