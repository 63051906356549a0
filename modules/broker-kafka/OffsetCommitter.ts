import type { Logger } from '../../src/index.js';
import { describeError } from './describeError.js';

export interface CommitPoint {
  partition: number;
  offset: bigint;
  leaderEpoch: number;
}

export interface CommitterOptions {
  /** The commit points of the partitions this subscription holds now (revoked ones are not asked). */
  points: () => CommitPoint[];
  /** Sends one OffsetCommit for these partitions (through the group member of the moment). */
  send: (points: CommitPoint[]) => Promise<void>;
  logger: Logger;
  where: Record<string, unknown>;
}

/**
 * Commits the subscription's commit points in the background: one request at a time, carrying every partition
 * that moved, so a burst of acks costs one round trip. A failed commit (broker away, group rebalancing) is tried
 * again after a backoff; nothing is lost meanwhile, the offsets stay where they were and the events are delivered
 * again if the partition changes hands before it succeeds (at least once).
 */
export class OffsetCommitter {
  readonly #committed = new Map<number, bigint>();
  #running: Promise<void> | undefined;
  #again = false;
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Requests (schedule calls) so far, and the last one a finished attempt covered: for whenCommitted(). */
  #requested = 0;
  #covered = 0;
  #waiters: { request: number; resolve: () => void }[] = [];

  constructor(private readonly options: CommitterOptions) {}

  /** The group's committed offset for a partition just assigned: commit points at or below it need no request. */
  known(partition: number, offset: bigint): void {
    this.#committed.set(partition, offset);
  }

  forget(partition: number): void {
    this.#committed.delete(partition);
  }

  /** A commit point moved: commit soon. */
  schedule(): void {
    this.#requested++;
    if (this.#stopped || this.#retry) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#commitAll()
      .catch((error: unknown) => this.options.logger.error('broker: committing offsets failed unexpectedly', { ...this.options.where, error: describeError(error) }))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.schedule();
        }
      });
  }

  /** Resolves once an attempt that includes every commit point moved so far has finished (well or not). */
  whenCommitted(): Promise<void> {
    this.schedule();
    const request = this.#requested;
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ request, resolve }));
  }

  /** Commits what is pending now, once, and stops committing in the background (the subscription is ending). */
  async flush(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    await this.#running;
    await this.#commitAll();
    this.#release(Number.POSITIVE_INFINITY);
  }

  #release(covered: number): void {
    this.#covered = Math.max(this.#covered, covered);
    const ready = this.#waiters.filter((waiter) => waiter.request <= this.#covered);
    this.#waiters = this.#waiters.filter((waiter) => waiter.request > this.#covered);
    for (const waiter of ready) waiter.resolve();
  }

  #pending(): CommitPoint[] {
    return this.options.points().filter((point) => point.offset > (this.#committed.get(point.partition) ?? -1n));
  }

  async #commitAll(): Promise<void> {
    const covering = this.#requested;
    try {
      await this.#send();
    } finally {
      this.#release(covering);
    }
  }

  async #send(): Promise<void> {
    const pending = this.#pending();
    if (pending.length === 0) return;
    try {
      await this.options.send(pending);
      for (const point of pending) if (point.offset > (this.#committed.get(point.partition) ?? -1n)) this.#committed.set(point.partition, point.offset);
      if (this.#failures > 0) this.options.logger.info('broker: committing offsets works again', this.options.where);
      this.#failures = 0;
    } catch (error) {
      if (this.#failures++ === 0) this.options.logger.warn('broker: committing offsets failed; retrying', { ...this.options.where, error: describeError(error) });
      if (this.#stopped) return;
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        this.schedule();
      }, Math.min(200 * 2 ** this.#failures, 5000));
    }
  }
}
