import type { AckMode, EventHandler, Logger, SubscribeOptions, Subscription } from '../../src/index.js';
import { deadLetterRecord, writeDeadLetter } from './deadLetters.js';
import { describeError } from './describeError.js';
import { GroupMember, type ConsumerSettings, type MemberSink } from './GroupMember.js';
import type { KafkaLibrary, KafkaRecord } from './kafkaLibrary.js';
import { OffsetCommitter } from './OffsetCommitter.js';
import { PartitionLane } from './PartitionLane.js';
import type { RecordToProduce } from './records.js';
import type { StartFrom } from './startOffsets.js';

export interface SubscriptionSettings {
  topic: string;
  kafkaTopic: string;
  groupId: string;
  /** A generated group, deleted when the subscription ends. */
  ephemeral: boolean;
  deadLetterTopic: string;
  startFrom: StartFrom;
  maxAttempts: number;
  redeliveryDelayMs: number;
  /** Records held (fetched, not yet handled) before fetching pauses. */
  prefetch: number;
  drainTimeoutMs: number;
}

export interface SubscriptionDeps {
  library: KafkaLibrary;
  consumer: ConsumerSettings;
  produce: (record: RecordToProduce) => Promise<void>;
  deleteGroup: (groupId: string) => Promise<void>;
  logger: Logger;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * A subscription: a group member feeding one lane per assigned partition, and a committer for the lanes' commit
 * points. Fetching pauses while `prefetch` records wait in the lanes (a partition held up by retries must not fill
 * memory) and resumes when half of them are done.
 */
export class KafkaSubscription implements Subscription, MemberSink {
  readonly options: Readonly<SubscribeOptions>;
  readonly #lanes = new Map<number, PartitionLane>();
  readonly #retiring = new Map<number, Promise<void>>();
  readonly #member: GroupMember;
  readonly #committer: OffsetCommitter;
  readonly #ackMode: AckMode;
  readonly #logger: Logger;
  #paused = false;
  #stopping: Promise<void> | undefined;

  constructor(
    private readonly settings: SubscriptionSettings,
    private readonly handler: EventHandler,
    options: SubscribeOptions,
    private readonly deps: SubscriptionDeps,
    private readonly onStopped: (subscription: KafkaSubscription) => void,
  ) {
    this.options = Object.freeze({ ...options });
    this.#ackMode = options.ack ?? 'on-success';
    this.#logger = deps.logger.child({ topic: settings.topic, group: settings.groupId });
    const target = { kafkaTopic: settings.kafkaTopic, groupId: settings.groupId, startFrom: settings.startFrom };
    this.#member = new GroupMember(deps.library, deps.consumer, target, this, this.#logger);
    this.#committer = new OffsetCommitter({
      points: () => [...this.#lanes].flatMap(([partition, lane]) => (lane.commit ? [{ partition, ...lane.commit }] : [])),
      send: (points) => this.#member.commit(points),
      logger: this.#logger,
      where: { topic: settings.topic, group: settings.groupId },
    });
  }

  get topic(): string {
    return this.settings.topic;
  }

  start(): Promise<void> {
    return this.#member.start();
  }

  unsubscribe(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  assigned(partitions: number[]): void {
    for (const [partition, lane] of this.#lanes) {
      if (partitions.includes(partition)) continue;
      lane.revoke();
      this.#lanes.delete(partition);
      this.#committer.forget(partition);
      this.#retiring.set(partition, lane.idle());
    }
    for (const partition of partitions) if (!this.#lanes.has(partition)) this.#lanes.set(partition, this.#lane(partition));
    this.#applyBackpressure();
  }

  committed(partition: number, offset: bigint): void {
    this.#committer.known(partition, offset);
  }

  resumeAt(partition: number): bigint | undefined {
    return this.#lanes.get(partition)?.resumeAt;
  }

  record(record: KafkaRecord): void {
    // A partition not (or no longer) ours: its next owner reads it from the group's committed offset.
    if (this.#lanes.get(record.partition)?.offer(record)) this.#applyBackpressure();
  }

  #lane(partition: number): PartitionLane {
    const previous = this.#retiring.get(partition);
    this.#retiring.delete(partition);
    return new PartitionLane({
      topic: this.settings.topic,
      partition,
      handler: this.handler,
      ackMode: this.#ackMode,
      maxAttempts: this.settings.maxAttempts,
      redeliveryDelayMs: this.settings.redeliveryDelayMs,
      deadLetter: (record, reason, attempts, abandoned) => this.#deadLetter(record, reason, attempts, abandoned),
      onCommitPoint: () => this.#committer.schedule(),
      whenCommitted: () => this.#committer.whenCommitted(),
      onDequeued: () => this.#applyBackpressure(),
      ...(previous ? { previous } : {}),
      logger: this.#logger,
    });
  }

  async #deadLetter(record: KafkaRecord, reason: string, attempts: number, abandoned: () => boolean): Promise<boolean> {
    const letter = deadLetterRecord(this.settings.deadLetterTopic, record, { reason, group: this.settings.groupId, attempts });
    const written = await writeDeadLetter(this.deps.produce, letter, abandoned, this.#logger);
    if (written) this.#logger.error('broker: event moved to the dead-letter topic', { partition: record.partition, offset: String(record.offset), reason, attempts, deadLetterTopic: this.settings.deadLetterTopic });
    return written;
  }

  #applyBackpressure(): void {
    let queued = 0;
    for (const lane of this.#lanes.values()) queued += lane.queued;
    const pause = this.#paused ? queued > this.settings.prefetch / 2 : queued >= this.settings.prefetch;
    if (pause === this.#paused) return;
    this.#paused = pause;
    this.#member.pause(pause);
  }

  /** Stops reading, lets running handlers finish (up to drainTimeout), commits, leaves the group. */
  async #stop(): Promise<void> {
    this.#member.stopReading();
    const lanes = [...this.#lanes.values()];
    for (const lane of lanes) lane.stop();
    await Promise.race([Promise.all(lanes.map((lane) => lane.idle())), sleep(this.settings.drainTimeoutMs)]);
    await this.#committer.flush().catch(() => undefined);
    await this.#member.close();
    this.onStopped(this);
    if (!this.settings.ephemeral) return;
    await this.deps.deleteGroup(this.settings.groupId).catch((error: unknown) =>
      this.#logger.debug('broker: deleting the generated consumer group failed; Kafka expires it after offsets.retention.minutes', { error: describeError(error) }),
    );
  }
}
