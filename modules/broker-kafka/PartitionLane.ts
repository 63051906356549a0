import type { AckMode, EventHandler, Logger, Message } from '../../src/index.js';
import type { Settlement } from '../../src/broker/delivery.js';
import { deliverOnce, type Delivery } from './deliverOnce.js';
import type { KafkaRecord } from './kafkaLibrary.js';
import { OffsetTracker } from './OffsetTracker.js';
import { decodeRecord } from './records.js';

export interface LaneOptions {
  topic: string;
  partition: number;
  handler: EventHandler;
  ackMode: AckMode;
  maxAttempts: number;
  redeliveryDelayMs: number;
  /** Writes the record to the dead-letter topic; resolves false if it gave up because the lane was revoked. */
  deadLetter: (record: KafkaRecord, reason: string, attempts: number, revoked: () => boolean) => Promise<boolean>;
  /** The commit point moved. */
  onCommitPoint: () => void;
  /** Resolves when what the commit point is now has been committed (or the attempt failed). */
  whenCommitted: () => Promise<void>;
  /** A record left the queue (for the subscription's backpressure). */
  onDequeued: () => void;
  /** A lane that handled this partition before (revoked, maybe still running a handler): wait for it first. */
  previous?: Promise<void>;
  logger: Logger;
}

interface Pending {
  record: KafkaRecord;
  attempt: number;
}

/**
 * One assigned partition of a subscription: its records are handled one at a time, in offset order, so events
 * with one key keep their order. A failed event is delivered again after `redeliveryDelay × attempt`, blocking
 * the partition meanwhile (retrying later would reorder it), up to `maxAttempts`, then dead-lettered; either way
 * it is finished only once that is done, and only finished runs of records are committed.
 */
export class PartitionLane {
  readonly tracker = new OffsetTracker();
  readonly #queue: Pending[] = [];
  readonly #wakers = new Set<() => void>();
  #leaderEpoch = -1;
  #revoked = false;
  #stopped = false;
  #running: Promise<void> | undefined;
  #previous: Promise<void> | undefined;

  constructor(private readonly options: LaneOptions) {
    this.#previous = options.previous;
  }

  get queued(): number {
    return this.#queue.length;
  }


  /** What to commit: one past the last finished run, with the leader epoch of the records (KIP-320). */
  get commit(): { offset: bigint; leaderEpoch: number } | undefined {
    const offset = this.tracker.commitPoint;
    return offset === undefined ? undefined : { offset, leaderEpoch: this.#leaderEpoch };
  }

  /** Where a new fetch should resume: past everything this lane already holds. */
  get resumeAt(): bigint | undefined {
    const highest = this.tracker.highest;
    return highest === undefined ? undefined : highest + 1n;
  }

  /** Takes a record; false (and ignored) when it was already received. */
  offer(record: KafkaRecord): boolean {
    if (this.#halted || !this.tracker.receive(record.offset)) return false;
    this.#leaderEpoch = record.leaderEpoch;
    this.#queue.push({ record, attempt: 1 });
    this.#kick();
    return true;
  }

  /** The partition is no longer ours: drop what is queued; a running handler finishes, but settles nothing. */
  revoke(): void {
    this.#revoked = true;
    this.stop();
  }

  /**
   * The subscription is ending: drop what is queued and stop retrying, but let a running handler finish and
   * settle, so the final commit includes it. What was dropped is delivered again to whoever reads next.
   */
  stop(): void {
    this.#stopped = true;
    this.#queue.length = 0;
    for (const wake of this.#wakers) wake();
  }

  get #halted(): boolean {
    return this.#stopped || this.#revoked;
  }

  /** Resolves when no handler of this lane is running. */
  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  #kick(): void {
    this.#running ??= this.#drain()
      // Nothing in a drain is meant to throw; if something does, log it rather than crash the process.
      .catch((error: unknown) => this.options.logger.error('broker: partition lane failed', { topic: this.options.topic, partition: this.options.partition, error: (error as Error)?.message ?? String(error) }))
      .finally(() => {
        this.#running = undefined;
        if (this.#queue.length > 0 && !this.#halted) this.#kick();
      });
  }

  async #drain(): Promise<void> {
    if (this.#previous) await this.#previous.catch(() => undefined);
    this.#previous = undefined;
    while (!this.#halted && this.#queue.length > 0) {
      const next = this.#queue.shift()!;
      this.options.onDequeued();
      await this.#handle(next);
    }
  }

  async #handle({ record, attempt: first }: Pending): Promise<void> {
    let message: Message;
    try {
      message = decodeRecord(record);
    } catch (error) {
      this.options.logger.error('broker: unreadable record', { ...this.#where(record), error: (error as Error).message });
      return this.#deadLetter(record, `unreadable record: ${(error as Error).message}`, 0);
    }
    for (let attempt = first; !this.#halted; attempt++) {
      const delivery = await this.#deliver(record, message, attempt);
      if (this.#revoked || delivery.settlement === undefined) return; // manual and unsettled: settles later, or never (left uncommitted)
      if (!(await this.#settle(record, attempt, delivery)) || this.#halted) return;
      await this.#wait(this.options.redeliveryDelayMs * attempt);
    }
  }

  #deliver(record: KafkaRecord, message: Message, attempt: number): Promise<Delivery> {
    return deliverOnce(message, attempt, {
      topic: this.options.topic,
      handler: this.options.handler,
      ackMode: this.options.ackMode,
      onAck: () => this.#acked(record),
      onLateSettlement: (settlement) => void this.#settleLate(record, attempt, settlement),
      onHandlerError: (error) => this.options.logger.warn('broker: subscriber failed', { ...this.#where(record), attempt, error: (error as Error)?.message ?? String(error) }),
    });
  }

  /**
   * An ack finishes the record at once. With on-receipt the handler starts only once that offset is committed:
   * at most once means a crash during the handler must not bring the event back.
   */
  #acked(record: KafkaRecord): Promise<void> | undefined {
    this.#finish(record);
    return this.options.ackMode === 'on-receipt' ? this.options.whenCommitted() : undefined;
  }

  /** Acts on a settlement once the handler has returned; true when the event is to be delivered again. */
  async #settle(record: KafkaRecord, attempt: number, { settlement, error }: Delivery): Promise<boolean> {
    if (settlement === 'ack') return false; // finished when it was acked
    if (settlement === 'drop') {
      await this.#deadLetter(record, 'rejected by the subscriber (nack without requeue)', attempt);
      return false;
    }
    if (attempt < this.options.maxAttempts) return true;
    await this.#deadLetter(record, `failed on its last allowed delivery (${attempt})${error ? `: ${error}` : ''}`, attempt);
    return false;
  }

  /** A manual ack or nack after the handler returned: later records have moved on meanwhile. */
  async #settleLate(record: KafkaRecord, attempt: number, settlement: Settlement): Promise<void> {
    if (this.#revoked) return;
    if (!(await this.#settle(record, attempt, { settlement, error: undefined })) || this.#halted) return;
    await this.#wait(this.options.redeliveryDelayMs * attempt);
    if (this.#halted) return;
    this.#queue.unshift({ record, attempt: attempt + 1 });
    this.#kick();
  }

  async #deadLetter(record: KafkaRecord, reason: string, attempts: number): Promise<void> {
    if (await this.options.deadLetter(record, reason, attempts, () => this.#halted)) this.#finish(record);
  }

  #finish(record: KafkaRecord): void {
    if (!this.#revoked && this.tracker.finish(record.offset)) this.options.onCommitPoint();
  }

  /** Sleeps, waking early when the lane is revoked or stopped. */
  #wait(ms: number): Promise<void> {
    if (ms <= 0 || this.#halted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wakers.add(wake);
    });
  }

  #where(record: KafkaRecord): Record<string, unknown> {
    return { topic: this.options.topic, partition: record.partition, offset: String(record.offset) };
  }
}
