import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { type EventHandler, type Logger, type SubscribeOptions, type Subscription } from '../../src/index.js';
import { DeliveredEvent, runHandler, type Settlement } from '../../src/broker/delivery.js';
import type { AmqpConnection } from '../shared/amqp/AmqpConnection.js';
import { ManagedChannel, safely } from '../shared/amqp/ManagedChannel.js';
import { attemptOf, copyProperties, eventMessage } from './eventHeaders.js';
import { publishConfirmed } from './Publisher.js';
import { bindQueue, declareExchanges, declareQueue, retryExchange, type Topology } from './topology.js';

export interface SubscriptionSettings {
  connection: AmqpConnection;
  topology: Topology;
  /** Unacknowledged events RabbitMQ hands this subscription at once: how many handlers run concurrently. */
  prefetch: number;
  /** Deliveries of an event whose handler keeps failing, before it is dead-lettered (or dropped). */
  maxAttempts: number;
  /** Wait before a failed event is put back, times its attempt number. */
  redeliveryDelayMs: number;
  /** How long unsubscribe waits for running handlers before closing the channel (their events then come back). */
  drainTimeoutMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  logger: Logger;
}

/**
 * One subscription: its own confirm channel, queue, binding and consumer, rebuilt after every loss. Each event runs
 * through the core's runHandler, so ack modes mean what they mean on every broker; settling maps to AMQP:
 * ack → basic.ack; nack without requeue → basic.reject (dead-lettered when a dead-letter exchange is set);
 * nack with requeue → a copy with the next attempt number is put at the back of the queue and the original acked,
 * until `maxAttempts`, after which the event is rejected like the above.
 */
export class RabbitSubscription implements Subscription {
  readonly topic: string;
  readonly options: Readonly<SubscribeOptions>;
  readonly #settings: SubscriptionSettings;
  readonly #handler: EventHandler;
  readonly #channel: ManagedChannel<ConfirmChannel>;
  readonly #onGone: () => void;
  #queue = '';
  #consumerTag: string | undefined;
  #active = true;
  #running = 0;
  #idle: (() => void)[] = [];
  #stopping: Promise<void> | undefined;

  constructor(settings: SubscriptionSettings, topic: string, handler: EventHandler, options: SubscribeOptions, onGone: () => void) {
    this.#settings = settings;
    this.topic = topic;
    this.#handler = handler;
    this.options = Object.freeze({ ...options });
    this.#onGone = onGone;
    this.#channel = new ManagedChannel<ConfirmChannel>({
      connection: settings.connection,
      confirm: true,
      what: `subscription to "${topic}"${options.queue ? ` (queue ${options.queue})` : ''}`,
      setup: (channel) => this.#setup(channel),
      retryInitialMs: settings.retryInitialMs,
      retryMaxMs: settings.retryMaxMs,
      logger: settings.logger,
    });
  }

  async start(timeoutMs: number): Promise<void> {
    await this.#channel.start(timeoutMs);
  }

  /** Stops consuming, lets running handlers finish (up to the drain timeout), then closes the channel. */
  unsubscribe(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#active = false;
    this.#channel.retire();
    const channel = this.#channel.current;
    if (channel && this.#consumerTag) await channel.cancel(this.#consumerTag).catch(() => undefined);
    await this.#drain();
    await this.#channel.close();
    this.#onGone();
  }

  async #setup(channel: ConfirmChannel): Promise<void> {
    const { topology, prefetch } = this.#settings;
    await channel.prefetch(prefetch);
    await declareExchanges(channel, topology);
    const queue = await declareQueue(channel, topology, this.topic, this.options.queue);
    await bindQueue(channel, topology, queue, this.topic);
    this.#queue = queue;
    const onDelivery = safely(this.#settings.logger, `subscription to "${this.topic}": handling a delivery`, (delivery: ConsumeMessage | null) => this.#onDelivery(channel, delivery));
    const { consumerTag } = await channel.consume(queue, onDelivery, { noAck: false });
    this.#consumerTag = consumerTag;
  }

  #onDelivery(channel: ConfirmChannel, delivery: ConsumeMessage | null): void {
    const { logger } = this.#settings;
    if (delivery === null) {
      // The server cancelled the consumer (the queue was deleted): a new channel declares and consumes again.
      if (!this.#active) return;
      logger.warn('rabbitmq broker: the server cancelled a subscription; subscribing again', { topic: this.topic, queue: this.#queue });
      void channel.close().catch(() => undefined);
      return;
    }
    if (!this.#active) {
      // Arrived while unsubscribing: back to the queue, for another member of the group.
      settleQuietly(() => channel.nack(delivery, false, true));
      return;
    }
    // The routing key, not the subscribed pattern: with `*`/`#` in a subscription, the topic the event has.
    const topic = delivery.fields.routingKey;
    const attempt = attemptOf(delivery);
    const event = new DeliveredEvent(topic, eventMessage(delivery), attempt, (settlement) => this.#settle(channel, delivery, settlement, topic, attempt));
    this.#running++;
    void runHandler(this.#handler, event, this.options.ack ?? 'on-success', (error) =>
      logger.warn('rabbitmq broker: subscriber failed', { topic, queue: this.options.queue, attempt, error: (error as Error)?.message ?? String(error) }),
    ).finally(() => {
      if (--this.#running === 0) for (const wake of this.#idle.splice(0)) wake();
    });
  }

  async #settle(channel: ConfirmChannel, delivery: ConsumeMessage, settlement: Settlement, topic: string, attempt: number): Promise<void> {
    const { logger, maxAttempts, topology } = this.#settings;
    if (!this.#channel.isOpen(channel)) {
      // Delivery tags belong to their channel: with it gone, RabbitMQ delivers the event again by itself.
      logger.debug('rabbitmq broker: event settled after its channel closed; RabbitMQ redelivers it', { topic, settlement });
      return;
    }
    if (settlement === 'ack') return settleQuietly(() => channel.ack(delivery));
    const fate = topology.deadLetterExchange ? `dead-lettered to "${topology.deadLetterExchange}"` : 'dropped (no dead-letter exchange is set)';
    if (settlement === 'drop') {
      logger.warn(`rabbitmq broker: event rejected by its subscriber; ${fate}`, { topic, queue: this.options.queue, attempt });
      return settleQuietly(() => channel.reject(delivery, false));
    }
    if (attempt >= maxAttempts) {
      logger.error(`rabbitmq broker: event failed on its last attempt; ${fate}`, { topic, queue: this.options.queue, attempts: attempt });
      return settleQuietly(() => channel.reject(delivery, false));
    }
    await this.#redeliver(channel, delivery, topic, attempt);
  }

  /** Puts a copy with the next attempt number at the back of this queue only (see retryExchange), then acks the original. */
  async #redeliver(channel: ConfirmChannel, delivery: ConsumeMessage, topic: string, attempt: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.#settings.redeliveryDelayMs * attempt));
    if (!this.#channel.isOpen(channel)) return; // lost meanwhile: RabbitMQ redelivers the original
    try {
      await publishConfirmed(channel, retryExchange(this.#settings.topology), topic, delivery.content, copyProperties(delivery, attempt + 1, this.#queue), 10_000);
      settleQuietly(() => channel.ack(delivery));
    } catch (error) {
      // The copy may not be stored: hand the original back instead (its attempt count is then only approximate).
      this.#settings.logger.warn('rabbitmq broker: could not queue a copy for redelivery; requeueing the original', { topic, error: (error as Error).message });
      if (this.#channel.isOpen(channel)) settleQuietly(() => channel.nack(delivery, false, true));
    }
  }

  #drain(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, this.#settings.drainTimeoutMs);
      this.#idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** Acking on a channel that just closed throws; the event then comes back from RabbitMQ, which is the right outcome. */
function settleQuietly(settle: () => void): void {
  try {
    settle();
  } catch {
    // See above.
  }
}
