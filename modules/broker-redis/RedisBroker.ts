import type { Broker, EventHandler, Logger, Message, PublishOptions, SubscribeOptions, Subscription } from '../../src/index.js';
import { BrokerKeys } from './brokerKeys.js';
import { PubSubFanout } from './PubSubFanout.js';
import { PublishBatcher } from './PublishBatcher.js';
import { parseTarget, RedisConnection, redisClass, type RedisConstructor, type RedisTarget } from '../shared/redis/redisConnection.js';
import { StreamConsumer, type StartFrom } from './StreamConsumer.js';

export interface RedisBrokerOptions {
  /** `host:port` or a `redis://` URL; 127.0.0.1:6379 when empty. */
  address?: string;
  prefix: string;
  /** Approximate cap of each topic stream (XADD MAXLEN ~); 0 for none. */
  maxLen: number;
  startFrom: StartFrom;
  claimIdleMs: number;
  claimIntervalMs: number;
  maxDeliveries: number;
  redeliveryDelayMs: number;
  prefetch: number;
  commandTimeoutMs: number;
  /** How long disconnect() and unsubscribe() wait for running handlers. */
  drainTimeoutMs: number;
}

export const REDIS_BROKER_DEFAULTS: RedisBrokerOptions = {
  prefix: 'tsmicro:broker:',
  maxLen: 100_000,
  startFrom: 'new',
  claimIdleMs: 30_000,
  claimIntervalMs: 1000,
  maxDeliveries: 5,
  redeliveryDelayMs: 500,
  prefetch: 10,
  commandTimeoutMs: 5000,
  drainTimeoutMs: 10_000,
};

interface Connected {
  commands: RedisConnection;
  subscriber: RedisConnection;
  fanout: PubSubFanout;
  publisher: PublishBatcher;
}

/** Publishes in one script run: enough to make a burst one command, few enough that Redis is never long busy. */
const PUBLISH_BATCH_EVENTS = 128;
const PUBLISH_BATCH_BYTES = 1024 * 1024;

/**
 * A broker on Redis. Subscriptions without a queue use pub/sub (at most once); queue subscriptions use a stream
 * per topic with a consumer group per queue (at least once: acked after the handler, redelivered when nacked,
 * claimed from dead consumers, dead-lettered after `maxDeliveries`). A publish feeds both in one atomic script.
 */
export class RedisBroker implements Broker {
  readonly name = 'redis';
  readonly keys: BrokerKeys;
  readonly #Redis: RedisConstructor;
  readonly #target: RedisTarget;
  readonly #options: RedisBrokerOptions;
  readonly #logger: Logger;
  readonly #consumers = new Set<StreamConsumer>();
  #connecting: Promise<Connected> | undefined;
  /** Set once connected, so a publish on a live broker needs no turn of the microtask queue to find it. */
  #live: Connected | undefined;

  /** `ioredis` is the namespace the plugin loader imported (or `await import('ioredis')`). */
  constructor(ioredis: unknown, options: Partial<RedisBrokerOptions>, logger: Logger) {
    this.#options = { ...REDIS_BROKER_DEFAULTS, ...options };
    this.#Redis = redisClass(ioredis);
    this.#target = parseTarget(this.#options.address);
    this.#logger = logger;
    this.keys = new BrokerKeys(this.#options.prefix);
  }

  /** Connects the command connection (the pub/sub one connects on the first broadcast subscription). */
  async connect(): Promise<void> {
    await this.#connected();
  }

  #connected(): Promise<Connected> {
    this.#connecting ??= (async () => {
      const timeout = this.#options.commandTimeoutMs;
      const commands = new RedisConnection(this.#Redis, this.#target, { name: 'tsmicro-broker', commandTimeoutMs: timeout }, this.#logger);
      const subscriber = commands.sibling(this.#Redis, { name: 'tsmicro-broker-pubsub', commandTimeoutMs: timeout });
      const fanout = new PubSubFanout(subscriber, this.keys, this.#options, this.#logger);
      try {
        await commands.ready();
      } catch (error) {
        fanout.close();
        await Promise.all([commands.close(), subscriber.close()]);
        throw error;
      }
      const publisher = new PublishBatcher(() => commands.ready(), this.keys, { maxEvents: PUBLISH_BATCH_EVENTS, maxBytes: PUBLISH_BATCH_BYTES, maxLen: this.#options.maxLen });
      this.#live = { commands, subscriber, fanout, publisher };
      return this.#live;
    })().catch((error: unknown) => {
      this.#connecting = undefined;
      throw error;
    });
    return this.#connecting;
  }

  async disconnect(): Promise<void> {
    const connecting = this.#connecting;
    if (!connecting) return;
    this.#connecting = undefined;
    this.#live = undefined;
    const connected = await connecting.catch(() => undefined);
    if (!connected) return;
    // Events published just before disconnect go out before the connection closes.
    connected.publisher.flush();
    const consumers = [...this.#consumers];
    this.#consumers.clear();
    await Promise.all(consumers.map((consumer) => consumer.stop(this.#options.drainTimeoutMs)));
    connected.fanout.close();
    await connected.fanout.drain(this.#options.drainTimeoutMs);
    await Promise.all([connected.commands.close(), connected.subscriber.close()]);
  }

  /**
   * Resolves once Redis has run the publish script with this event in it: the event is on the channel and, if the
   * topic has queue groups, in the stream. Publishes of one tick share one script run (PublishBatcher).
   */
  publish(topic: string, message: Message, _options?: PublishOptions): Promise<void> {
    if (typeof topic !== 'string' || topic === '') return Promise.reject(new TypeError('redis broker: publish needs a topic'));
    if (this.#live) return this.#live.publisher.publish(topic, message);
    return this.#connected().then((connected) => connected.publisher.publish(topic, message));
  }

  async subscribe(topic: string, handler: EventHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    if (typeof topic !== 'string' || topic === '') throw new TypeError('redis broker: subscribe needs a topic');
    const frozen = Object.freeze({ ...options });
    const connected = await this.#connected();
    if (!options.queue) {
      const local = await connected.fanout.add(topic, handler, frozen);
      return { topic, options: frozen, unsubscribe: () => connected.fanout.remove(local) };
    }
    const blocking = connected.commands.sibling(this.#Redis, { name: `tsmicro-broker-queue`, commandTimeoutMs: this.#options.commandTimeoutMs, blocking: true });
    const target = { topic, stream: this.keys.stream(topic), deadLetter: this.keys.deadLetter(topic), group: options.queue };
    const consumer = new StreamConsumer(connected.commands, blocking, target, handler, options.ack ?? 'on-success', this.#options, this.#logger);
    try {
      await consumer.start();
    } catch (error) {
      blocking.abort();
      throw error;
    }
    this.#consumers.add(consumer);
    return {
      topic,
      options: frozen,
      unsubscribe: async () => {
        if (this.#consumers.delete(consumer)) await consumer.stop(this.#options.drainTimeoutMs);
      },
    };
  }
}
