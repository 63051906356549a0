import type { EventHandler, Logger, SubscribeOptions } from '../../src/index.js';
import { SubscriberTable } from '../../src/index.js';
import { LocalDispatcher } from '../../src/broker/LocalDispatcher.js';
import type { LocalSubscription } from '../../src/broker/SubscriberTable.js';
import type { BrokerKeys } from './brokerKeys.js';
import { decodeFrame } from './envelope.js';
import type { RedisConnection } from '../shared/redis/redisConnection.js';

export interface FanoutOptions {
  maxDeliveries: number;
  redeliveryDelayMs: number;
}

/**
 * The broadcast path: one pub/sub connection per broker, one SUBSCRIBE per topic however many local
 * subscriptions share it, every message handed to each of them. At most once: what is published while this
 * connection is down (or before it has resubscribed after a reconnect; ioredis resubscribes by itself) is not
 * seen. A nacked event is run again in this process (LocalDispatcher, as the in-memory broker does), up to
 * `maxDeliveries`, then dropped with an error log.
 */
export class PubSubFanout {
  readonly #table = new SubscriberTable();
  readonly #counts = new Map<string, number>();
  readonly #dispatcher: LocalDispatcher;
  readonly #listener = (channel: Buffer, payload: Buffer): void => this.#onMessage(channel.toString(), payload);

  constructor(
    private readonly subscriber: RedisConnection,
    private readonly keys: BrokerKeys,
    options: FanoutOptions,
    private readonly logger: Logger,
  ) {
    this.#dispatcher = new LocalDispatcher(this.#table, { maxAttempts: options.maxDeliveries, redeliveryDelayMs: options.redeliveryDelayMs }, logger);
    subscriber.client.on('messageBuffer', this.#listener);
    subscriber.onReconnect(() => this.logger.warn('broker: pub/sub reconnected; events published while it was down were not delivered to broadcast subscriptions (at most once)'));
  }

  /** Resolves once Redis has confirmed the subscription: an event published afterwards is delivered. */
  async add(topic: string, handler: EventHandler, options: SubscribeOptions): Promise<LocalSubscription> {
    const local = this.#table.add(topic, handler, options);
    const count = (this.#counts.get(topic) ?? 0) + 1;
    this.#counts.set(topic, count);
    try {
      const client = await this.subscriber.ready();
      // Subscribing again is harmless, and confirms the channel is live before subscribe() returns.
      await client.subscribe(this.keys.channel(topic));
    } catch (error) {
      this.#release(local);
      throw error;
    }
    return local;
  }

  async remove(local: LocalSubscription): Promise<void> {
    if (!local.active) return;
    this.#release(local);
    if (this.#counts.has(local.topic) || !this.subscriber.isReady) return;
    await this.subscriber.client.unsubscribe(this.keys.channel(local.topic)).catch(() => undefined);
  }

  drain(timeoutMs: number): Promise<void> {
    return this.#dispatcher.drain(timeoutMs);
  }

  close(): void {
    this.subscriber.client.off('messageBuffer', this.#listener);
  }

  #release(local: LocalSubscription): void {
    this.#table.remove(local);
    const count = (this.#counts.get(local.topic) ?? 1) - 1;
    if (count > 0) this.#counts.set(local.topic, count);
    else this.#counts.delete(local.topic);
  }

  #onMessage(channel: string, payload: Buffer): void {
    const topic = this.keys.topicOf(channel);
    if (topic === undefined || !this.#counts.has(topic)) return;
    let message;
    try {
      message = decodeFrame(payload);
    } catch (error) {
      this.logger.error('broker: dropped a malformed pub/sub message', { topic, channel, bytes: payload.length, error: (error as Error).message });
      return;
    }
    for (const target of this.#table.targets(topic)) this.#dispatcher.dispatch(target, topic, message);
  }
}
