import type { Logger } from '../../src/index.js';
import { subscriptionAwareAssigner } from './assigner.js';
import { describeError, needsRejoin } from './describeError.js';
import type { KafkaConsumer, KafkaLibrary, KafkaRecord, KafkaStream } from './kafkaLibrary.js';
import type { CommitPoint } from './OffsetCommitter.js';
import { endOffsets, startPositions, type StartFrom } from './startOffsets.js';

export interface ConsumerSettings {
  clientId: string;
  bootstrapBrokers: string[];
  connectTimeout: number;
  requestTimeout: number;
  autocreateTopics: boolean;
  sessionTimeout: number;
  heartbeatInterval: number;
  rebalanceTimeout: number;
  maxWaitTime: number;
  highWaterMark: number;
}

export interface MemberTarget {
  kafkaTopic: string;
  groupId: string;
  startFrom: StartFrom;
}

/** What the member tells its subscription. */
export interface MemberSink {
  /** The partitions of the topic this member holds from now on (called at every assignment, before reading). */
  assigned(partitions: number[]): void;
  /** The group's committed offset of a partition just assigned. */
  committed(partition: number, offset: bigint): void;
  /** Where to resume a partition the subscription still holds records of (undefined: from the committed offset). */
  resumeAt(partition: number): bigint | undefined;
  record(record: KafkaRecord): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * One subscription's membership in its consumer group: the client's Consumer, and the stream of records of the
 * partitions it is assigned. At every assignment (the client emits a join after each rebalance) the stream is
 * replaced by one that starts at the positions read from the group (see startOffsets.ts); records of a replaced
 * stream are ignored, so nothing fetched under an old assignment is ever handled under a new one.
 * Failures heal here: a stream that fails (the broker went away) is started again with backoff, keeping the
 * membership; a consumer that lost its membership for good (the client reports an error) is replaced.
 */
export class GroupMember {
  #consumer: KafkaConsumer | undefined;
  #stream: KafkaStream | undefined;
  #assigning: Promise<void> | undefined;
  #epoch = 0;
  #failures = 0;
  #subscribedAt: Map<number, bigint> | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #started = false;
  #replacing = false;
  #stopped = false;
  #paused = false;

  constructor(
    private readonly library: KafkaLibrary,
    private readonly settings: ConsumerSettings,
    private readonly target: MemberTarget,
    private readonly sink: MemberSink,
    private readonly logger: Logger,
  ) {}

  /** Joins the group; resolves once the start positions are committed and the first stream reads. */
  async start(): Promise<void> {
    await this.#open();
    this.#started = true;
  }

  /** Stops reading (records already delivered to the sink stay there); the membership stays until close(). */
  stopReading(): void {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    this.#closeStream();
  }

  async close(): Promise<void> {
    this.stopReading();
    const consumer = this.#consumer;
    this.#consumer = undefined;
    await closeQuietly(consumer, this.logger);
  }

  commit(points: CommitPoint[]): Promise<void> {
    if (!this.#consumer) return Promise.reject(new Error('no consumer'));
    return this.#consumer.commit({ offsets: points.map(({ partition, offset, leaderEpoch }) => ({ topic: this.target.kafkaTopic, partition, offset, leaderEpoch })) });
  }

  pause(paused: boolean): void {
    this.#paused = paused;
    if (paused) this.#stream?.pause();
    else this.#stream?.resume();
  }

  async #open(): Promise<void> {
    const { kafkaTopic, groupId } = this.target;
    const consumer = new this.library.Consumer({ ...this.settings, groupId, autocommit: false, partitionAssigner: subscriptionAwareAssigner });
    this.#consumer = consumer;
    consumer.on('error', (error: Error) => this.#consumerFailed(consumer, error));
    consumer.on('consumer:group:join', () => this.#assign(consumer));
    // The subscription's own reference to the topic: replacing the stream (which untracks the topic when it
    // closes) must never look like a change of subscription, or every replacement would cause a rebalance.
    consumer.topics.track(kafkaTopic);
    this.#assigning = undefined;
    try {
      if (this.target.startFrom === 'latest') this.#subscribedAt ??= await endOffsets(consumer, kafkaTopic);
      await this.#join(consumer);
      // A rebalance during the first assignment supersedes it: wait for the one that stands.
      for (let assigning = this.#assigning; ; assigning = this.#assigning) {
        await assigning;
        if (assigning === this.#assigning) break;
      }
    } catch (error) {
      if (this.#consumer === consumer) this.#consumer = undefined;
      await closeQuietly(consumer, this.logger);
      throw error;
    }
  }

  /**
   * Joins the group. A member joining a busy group while others come and go is told again and again to rejoin;
   * the client gives up after its few retries, but the group settles within its rebalance timeout, so the join
   * keeps trying until then. Any other failure is final at once.
   */
  async #join(consumer: KafkaConsumer): Promise<void> {
    const deadline = Date.now() + this.settings.rebalanceTimeout;
    for (;;) {
      try {
        await consumer.joinGroup({});
        return;
      } catch (error) {
        if (!needsRejoin(error) || Date.now() >= deadline || this.#stopped) throw error;
        this.logger.debug('kafka broker: the group was rebalancing; joining again', { group: this.target.groupId, error: describeError(error) });
      }
    }
  }

  /** A (re)assignment: a new stream from the group's positions. Superseded at once by a newer one. */
  #assign(consumer: KafkaConsumer): void {
    if (this.#stopped || consumer !== this.#consumer) return;
    const epoch = ++this.#epoch;
    this.#closeStream();
    const partitions = (consumer.assignments ?? []).filter((assignment) => assignment.topic === this.target.kafkaTopic).flatMap((assignment) => assignment.partitions);
    this.sink.assigned(partitions);
    const assigning = this.#read(consumer, partitions, () => epoch !== this.#epoch || this.#stopped);
    this.#assigning = assigning;
    assigning.catch((error: unknown) => {
      if (this.#started && epoch === this.#epoch && !this.#stopped) this.#restartLater(`starting to read failed: ${describeError(error)}`);
    });
  }

  async #read(consumer: KafkaConsumer, partitions: number[], superseded: () => boolean): Promise<void> {
    if (partitions.length === 0) return; // more members than partitions: this one waits for a rebalance
    const { kafkaTopic: topic, groupId, startFrom } = this.target;
    const committed = await startPositions(consumer, partitions, { topic, groupId, startFrom, subscribedAt: this.#subscribedAt }, this.logger);
    if (superseded()) return;
    for (const [partition, offset] of committed) this.sink.committed(partition, offset);
    const offsets = partitions.map((partition) => {
      const resume = this.sink.resumeAt(partition);
      const from = committed.get(partition)!;
      return { topic, partition, offset: resume !== undefined && resume > from ? resume : from };
    });
    const { maxWaitTime, highWaterMark } = this.settings;
    const stream = await consumer.consume({ topics: [topic], mode: 'manual', offsets, fallbackMode: 'earliest', autocommit: false, maxWaitTime, highWaterMark });
    if (superseded()) return void stream.close().catch(() => undefined);
    this.#stream = stream;
    // Failures count as consecutive until a stream has kept reading for a while.
    setTimeout(() => this.#stream === stream && (this.#failures = 0), 10_000).unref();
    stream.on('data', (record: KafkaRecord) => this.#stream === stream && this.sink.record(record));
    stream.on('error', (error: Error) => this.#stream === stream && this.#streamEnded(`the stream failed: ${describeError(error)}`));
    stream.on('close', () => this.#stream === stream && this.#streamEnded('the stream closed'));
    if (this.#paused) stream.pause();
  }

  #closeStream(): void {
    const stream = this.#stream;
    this.#stream = undefined;
    void stream?.close().catch(() => undefined);
  }

  #streamEnded(reason: string): void {
    this.#stream = undefined;
    if (!this.#stopped) this.#restartLater(reason);
  }

  /** Reads again after a backoff; after repeated failures, with a new consumer (a new membership). */
  #restartLater(reason: string): void {
    if (this.#stopped || this.#restartTimer) return;
    const failures = ++this.#failures;
    const delay = Math.min(250 * 2 ** failures, 10_000);
    this.logger.warn('broker: consumer interrupted; reading again soon', { topic: this.target.kafkaTopic, group: this.target.groupId, reason, retryInMs: delay });
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      const consumer = this.#consumer;
      if (this.#stopped || this.#replacing) return;
      if (consumer && failures < 5) this.#assign(consumer);
      else void this.#replaceConsumer(reason);
    }, delay);
  }

  #consumerFailed(consumer: KafkaConsumer, error: Error): void {
    if (consumer !== this.#consumer || this.#stopped || this.#replacing) return;
    this.logger.warn('broker: consumer lost its group membership; joining again', { topic: this.target.kafkaTopic, group: this.target.groupId, error: error.message });
    void this.#replaceConsumer(error.message);
  }

  async #replaceConsumer(reason: string): Promise<void> {
    this.#replacing = true;
    const old = this.#consumer;
    this.#consumer = undefined;
    this.#closeStream();
    this.sink.assigned([]);
    try {
      await closeQuietly(old, this.logger);
      for (let attempt = 1; !this.#stopped; attempt++) {
        try {
          await this.#open();
          this.#failures = 0;
          this.logger.info('broker: consumer rejoined its group', { topic: this.target.kafkaTopic, group: this.target.groupId, after: reason });
          return;
        } catch (error) {
          if (attempt === 1) this.logger.warn('broker: joining the group again failed; retrying', { topic: this.target.kafkaTopic, group: this.target.groupId, error: describeError(error) });
          await sleep(Math.min(500 * 2 ** attempt, 10_000));
        }
      }
    } finally {
      this.#replacing = false;
    }
  }
}

/** Closes a consumer (leaving its group), never throwing and never waiting more than 10 s. */
async function closeQuietly(consumer: KafkaConsumer | undefined, logger: Logger): Promise<void> {
  if (!consumer) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, 10_000).unref()));
  await Promise.race([consumer.close(true).catch((error: unknown) => logger.debug('broker: closing a consumer failed', { error: (error as Error).message })), timeout]);
  clearTimeout(timer);
}
