import { MicroError, type Broker, type EventHandler, type Logger, type Message, type PublishOptions, type SubscribeOptions, type Subscription } from '../../src/index.js';
import { describeError, kafkaErrorStatus } from './describeError.js';
import type { ConsumerSettings } from './GroupMember.js';
import type { KafkaLibrary, KafkaProducer } from './kafkaLibrary.js';
import { KafkaSubscription } from './KafkaSubscription.js';
import { broadcastGroupId, deadLetterTopicName, kafkaTopicName, queueGroupId } from './names.js';
import { encodeRecord, type RecordToProduce } from './records.js';
import type { StartFrom } from './startOffsets.js';

export type Acks = 'all' | 'leader';
export const ACKS: readonly Acks[] = ['all', 'leader'];

export interface KafkaBrokerOptions {
  /** `host:port` of the bootstrap brokers. */
  brokers: string[];
  clientId: string;
  topicPrefix: string;
  groupPrefix: string;
  /** A stable identity for plain subscriptions' groups ('' generates one per subscription). */
  instanceId: string;
  acks: Acks;
  /** Idempotent producer (no duplicates or reordering when the client resends); needs acks 'all'. */
  idempotent: boolean;
  /** How long a publish keeps trying (the client resends every second) before it rejects. */
  publishTimeoutMs: number;
  startFrom: StartFrom;
  /** `{topic}` stands for the Kafka topic. */
  deadLetterTopic: string;
  maxAttempts: number;
  redeliveryDelayMs: number;
  prefetch: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  connectTimeoutMs: number;
  maxWaitMs: number;
  autoCreateTopics: boolean;
  /** How long unsubscribe() and disconnect() wait for running handlers. */
  drainTimeoutMs: number;
}

export const KAFKA_BROKER_DEFAULTS: KafkaBrokerOptions = {
  brokers: ['127.0.0.1:9092'],
  clientId: 'tsmicro',
  topicPrefix: '',
  groupPrefix: '',
  instanceId: '',
  acks: 'all',
  idempotent: true,
  publishTimeoutMs: 30_000,
  startFrom: 'latest',
  deadLetterTopic: '{topic}.dlq',
  maxAttempts: 5,
  redeliveryDelayMs: 500,
  prefetch: 100,
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3000,
  rebalanceTimeoutMs: 60_000,
  connectTimeoutMs: 5000,
  maxWaitMs: 500,
  autoCreateTopics: true,
  drainTimeoutMs: 10_000,
};

/** 503 for an outage; 413, 403 or 400 when Kafka refused the request itself (see kafkaErrorStatus). */
const failure = (detail: string, cause: unknown) => new MicroError('kafka', kafkaErrorStatus(cause), `${detail}: ${describeError(cause)}`, { cause });

/**
 * A broker on Apache Kafka: a topic per tsmicro topic, a consumer group per queue (and one per plain
 * subscription), offsets committed after the handler succeeds, retries then a dead-letter topic. See README.md.
 */
export class KafkaBroker implements Broker {
  readonly name = 'kafka';
  readonly options: KafkaBrokerOptions;
  readonly #subscriptions = new Set<KafkaSubscription>();
  /** Ordinals of the live plain subscriptions per Kafka topic (see #claimOrdinal). */
  readonly #plainOrdinals = new Map<string, Set<number>>();
  #producer: Promise<KafkaProducer> | undefined;

  /** `library` is the @platformatic/kafka namespace (see kafkaLibrary.ts). */
  constructor(
    private readonly library: KafkaLibrary,
    options: Partial<KafkaBrokerOptions>,
    private readonly logger: Logger,
  ) {
    this.options = { ...KAFKA_BROKER_DEFAULTS, ...options };
    if (this.options.brokers.length === 0) this.options.brokers = KAFKA_BROKER_DEFAULTS.brokers;
  }

  /** The Kafka topic events of `topic` go to. */
  kafkaTopic(topic: string): string {
    return kafkaTopicName(this.options.topicPrefix, topic);
  }

  deadLetterTopic(topic: string): string {
    return deadLetterTopicName(this.options.deadLetterTopic, this.kafkaTopic(topic));
  }

  async connect(): Promise<void> {
    await this.#connected();
  }

  async disconnect(): Promise<void> {
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.unsubscribe()));
    const producer = this.#producer;
    this.#producer = undefined;
    await (await producer?.catch(() => undefined))?.close().catch(() => undefined);
  }

  /** Resolves once Kafka acknowledged the record (`acks`: every in-sync replica, or the leader). */
  async publish(topic: string, message: Message, options: PublishOptions = {}): Promise<void> {
    if (typeof topic !== 'string' || topic === '') throw new TypeError('kafka broker: publish needs a topic');
    const producer = await this.#connected();
    try {
      await this.#produce(producer, encodeRecord(this.kafkaTopic(topic), message, options.key));
    } catch (error) {
      throw failure(`kafka broker: publishing to "${topic}" failed`, error);
    }
  }

  async subscribe(topic: string, handler: EventHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    if (typeof topic !== 'string' || topic === '') throw new TypeError('kafka broker: subscribe needs a topic');
    await this.#connected();
    const kafkaTopic = this.kafkaTopic(topic);
    const ordinal = options.queue ? 0 : this.#claimOrdinal(kafkaTopic);
    const group = options.queue ? { id: queueGroupId(this.options.groupPrefix, options.queue), ephemeral: false } : broadcastGroupId(this.options.groupPrefix, kafkaTopic, this.options.instanceId, ordinal);
    const o = this.options;
    const subscription = new KafkaSubscription(
      { topic, kafkaTopic, groupId: group.id, ephemeral: group.ephemeral, deadLetterTopic: this.deadLetterTopic(topic), startFrom: o.startFrom, maxAttempts: o.maxAttempts, redeliveryDelayMs: o.redeliveryDelayMs, prefetch: o.prefetch, drainTimeoutMs: o.drainTimeoutMs },
      handler,
      options,
      { library: this.library, consumer: this.#consumerSettings(), produce: (record) => this.#produceDeadLetter(record), deleteGroup: (id) => this.#deleteGroup(id), logger: this.logger },
      (ended) => {
        this.#subscriptions.delete(ended);
        this.#plainOrdinals.get(kafkaTopic)?.delete(ordinal);
      },
    );
    this.#subscriptions.add(subscription);
    try {
      await subscription.start();
    } catch (error) {
      await subscription.unsubscribe();
      throw failure(`kafka broker: subscribing to "${topic}" (Kafka topic "${kafkaTopic}", group "${group.id}") failed`, error);
    }
    return subscription;
  }

  /**
   * The lowest ordinal no live plain subscription of the topic holds: with an instanceId, the n-th concurrent
   * plain subscription of a topic gets the same group every time the process starts (or subscribes again).
   */
  #claimOrdinal(kafkaTopic: string): number {
    const taken = this.#plainOrdinals.get(kafkaTopic) ?? new Set<number>();
    this.#plainOrdinals.set(kafkaTopic, taken);
    let ordinal = 1;
    while (taken.has(ordinal)) ordinal++;
    taken.add(ordinal);
    return ordinal;
  }

  #connected(): Promise<KafkaProducer> {
    this.#producer ??= (async () => {
      const o = this.options;
      const producer = new this.library.Producer({
        clientId: o.clientId,
        bootstrapBrokers: o.brokers,
        connectTimeout: o.connectTimeoutMs,
        autocreateTopics: o.autoCreateTopics,
        idempotent: o.idempotent && o.acks === 'all',
        acks: o.acks === 'all' ? -1 : 1,
        // The client resends every second; bounded, or an idempotent producer would try forever.
        retries: Math.max(2, Math.ceil(o.publishTimeoutMs / 1000)),
        partitioner: this.#partitioner(),
      });
      producer.on('error', (error: Error) => this.logger.warn('broker: Kafka producer error', { error: describeError(error) }));
      try {
        // Fail a boot without Kafka in seconds, rather than after publishTimeout.
        await producer.metadata({ topics: [], retries: 2 });
        return producer;
      } catch (error) {
        await producer.close().catch(() => undefined);
        throw failure(`kafka broker: no Kafka broker answers at ${o.brokers.join(',')}`, error);
      }
    })().catch((error: unknown) => {
      this.#producer = undefined;
      throw error;
    });
    return this.#producer;
  }

  /**
   * Keyed records go where Java's default partitioner puts them (murmur2 of the key, sign bit cleared), so events
   * with one key stay in one partition, in order, whichever language published them; records without a key are
   * spread round-robin. (The client's own default hashes keys differently from Java.)
   */
  #partitioner(): (message: unknown, key: Buffer | undefined) => number {
    const javaCompatible = this.library.compatibilityPartitioner;
    let turn = 0;
    return (message, key) => (key === undefined ? (turn = (turn + 1) & 0x7fffffff) : javaCompatible(message as never, key));
  }

  /** Rejects after publishTimeout at the latest; the record may still be written after that (at least once). */
  async #produce(producer: KafkaProducer, record: RecordToProduce, acks?: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not acknowledged within ${this.options.publishTimeoutMs} ms`)), this.options.publishTimeoutMs);
    });
    try {
      await Promise.race([producer.send({ messages: [record], ...(acks === undefined ? {} : { acks }) }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * For dead letters: every in-sync replica must have it (whatever `acks` says), since the original's offset is
   * committed after this. The producer of the moment, never a new one (after disconnect() there is none).
   */
  async #produceDeadLetter(record: RecordToProduce): Promise<void> {
    const producer = this.#producer;
    if (!producer) throw new Error('the broker is disconnected');
    await this.#produce(await producer, record, -1);
  }

  async #deleteGroup(groupId: string): Promise<void> {
    const admin = new this.library.Admin({ clientId: this.options.clientId, bootstrapBrokers: this.options.brokers, connectTimeout: this.options.connectTimeoutMs });
    admin.on('error', () => undefined);
    try {
      await admin.deleteGroups({ groups: [groupId] });
    } finally {
      await admin.close().catch(() => undefined);
    }
  }

  #consumerSettings(): ConsumerSettings {
    const o = this.options;
    return {
      clientId: o.clientId,
      bootstrapBrokers: o.brokers,
      connectTimeout: o.connectTimeoutMs,
      // A JoinGroup legitimately waits up to rebalanceTimeout for the other members; no request may time out first.
      requestTimeout: Math.max(30_000, o.rebalanceTimeoutMs + 5000),
      autocreateTopics: o.autoCreateTopics,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      rebalanceTimeout: o.rebalanceTimeoutMs,
      maxWaitTime: o.maxWaitMs,
      highWaterMark: o.prefetch,
    };
  }
}
