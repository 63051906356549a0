import type { Msg, NatsConnection, Subscription as NatsSubscription } from '@nats-io/transport-node';
import { MicroError, SubscriberTable, type EventHandler, type Logger, type Message, type SubscribeOptions, type Subscription } from '../../src/index.js';
import { LocalDispatcher } from '../../src/broker/LocalDispatcher.js';
import type { LocalSubscription } from '../../src/broker/SubscriberTable.js';
import { framedEvent, receivedEvent } from './eventFrame.js';
import { ERROR_ID, eventHeaders, subscriptionOf, type DeliveryEngine } from './eventWire.js';
import { FlushBatch, FlushFailure } from './FlushBatch.js';
import type { NatsLink, NatsModule } from '../shared/nats/natsConnection.js';
import type { Subjects } from './subjects.js';

export interface CoreEngineOptions {
  nats: NatsModule;
  link: NatsLink;
  logger: Logger;
  subjects: Subjects;
  publishTimeoutMs: number;
  /** How events are published: binary frames (eventFrame.ts) or NATS headers. Both are always read. */
  wire: 'frame' | 'headers';
  /** Deliveries of a nacked event within the subscribing process before it is dropped. */
  maxAttempts: number;
  redeliveryDelayMs: number;
}

/**
 * Core NATS: a plain subscription per broadcast subscriber, a NATS queue group per queue. At most once: NATS
 * keeps nothing, so an event published while a subscriber is away, or taken by a process that then dies, is
 * gone. A nacked event is retried *in the subscribing process* (another local member of its queue group when
 * there is one), as the direct broker does; NATS itself cannot redeliver.
 */
export class CoreEngine implements DeliveryEngine {
  readonly #options: CoreEngineOptions;
  readonly #table = new SubscriberTable();
  readonly #dispatcher: LocalDispatcher;
  readonly #active = new Map<LocalSubscription, NatsSubscription>();
  readonly #flushes: FlushBatch;

  constructor(options: CoreEngineOptions) {
    this.#options = options;
    this.#flushes = new FlushBatch(() => options.link.connection, options.publishTimeoutMs);
    this.#dispatcher = new LocalDispatcher(this.#table, { maxAttempts: options.maxAttempts, redeliveryDelayMs: options.redeliveryDelayMs }, options.logger);
  }

  get #connection(): NatsConnection {
    return this.#options.link.connection;
  }

  /**
   * Resolves once the server has the event: a PING/PONG written after its PUB ("accepted" for core NATS; nobody
   * may be listening). One PING confirms every publish of a batch (FlushBatch).
   */
  publish(topic: string, message: Message): Promise<void> {
    try {
      this.#send(topic, message);
    } catch (error) {
      return Promise.reject(error);
    }
    // Not an async function: one promise per publish on top of the batch's, no extra turn.
    return this.#flushes.confirm().then(undefined, (failure: unknown) => {
      throw this.#unconfirmed(topic, failure);
    });
  }

  /** Hands the event's PUB to the client; throws (bad topic, 413, 503) when it cannot. */
  #send(topic: string, message: Message): void {
    const { subjects, link, nats } = this.#options;
    const subject = subjects.subjectOf(topic);
    try {
      if (this.#options.wire === 'frame') this.#connection.publish(subject, framedEvent(topic, message, link.maxPayload));
      else this.#connection.publish(subject, message.body, { headers: eventHeaders(nats, topic, message, link.maxPayload) });
    } catch (error) {
      if (MicroError.is(error)) throw error;
      throw MicroError.unavailable(ERROR_ID, `cannot publish to "${topic}": ${(error as Error).message}`);
    }
  }

  #unconfirmed(topic: string, failure: unknown): Error {
    const what = `event on "${topic}" (it may still be delivered when the connection comes back)`;
    if (!(failure instanceof FlushFailure)) return failure as Error;
    if (failure.timedOut) return MicroError.unavailable(ERROR_ID, `${what} was not confirmed by NATS within ${this.#options.publishTimeoutMs} ms`);
    return new MicroError(ERROR_ID, 503, `${what} was not confirmed by NATS: ${failure.cause?.message}`, { cause: failure.cause });
  }

  async subscribe(topic: string, handler: EventHandler, options: SubscribeOptions): Promise<Subscription> {
    const subject = this.#options.subjects.subjectOf(topic, true);
    const local = this.#table.add(topic, handler, options);
    // Without wildcards every event of the subscription is on its own topic: no subject to decode per event.
    const fixedTopic = /(?:^|\.)[*>](?:\.|$)/.test(topic) ? undefined : topic;
    const subscription = this.#connection.subscribe(subject, { queue: options.queue, callback: (error, received) => this.#onMessage(local, fixedTopic, error, received) });
    this.#active.set(local, subscription);
    // Once the server has the subscription, every later publish reaches it.
    await this.#connection.flush();
    return subscriptionOf(topic, options, async () => this.#remove(local));
  }

  async close(drainMs: number): Promise<void> {
    for (const local of [...this.#active.keys()]) this.#remove(local);
    await this.#dispatcher.drain(drainMs);
  }

  #remove(local: LocalSubscription): void {
    this.#active.get(local)?.unsubscribe();
    this.#active.delete(local);
    this.#table.remove(local);
  }

  #onMessage(local: LocalSubscription, fixedTopic: string | undefined, error: Error | null, received: Msg): void {
    if (error) {
      this.#options.logger.error('broker: subscription failed', { topic: local.topic, error: error.message });
      return;
    }
    const topic = fixedTopic ?? this.#options.subjects.topicOf(received.subject);
    let message: Message;
    try {
      message = receivedEvent(received);
    } catch (failure) {
      // Nothing can make this event readable: log and drop it, the subscription goes on.
      const what = received.headers === undefined ? 'a malformed frame' : 'malformed headers';
      this.#options.logger.error(`broker: dropped an event with ${what}`, { topic, error: (failure as Error).message });
      return;
    }
    this.#dispatcher.dispatch(local, topic, message);
  }
}
