import type * as JetStreamNs from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import { Headers, MicroError, type EventHandler, type Logger, type Message, type SubscribeOptions, type Subscription } from '../../../src/index.js';
import { ERROR_ID, eventHeaders, subscriptionOf, type DeliveryEngine } from '../eventWire.js';
import type { NatsLink, NatsModule } from '../../shared/nats/natsConnection.js';
import { broadcastConsumerName, queueConsumerName, type Subjects } from '../subjects.js';
import { ConsumerSubscription } from './ConsumerSubscription.js';
import { ensureStream } from './streamSetup.js';

/** The namespace of `@nats-io/jetstream`, handed in by the plugin loader. */
export type JetStreamModule = typeof JetStreamNs;

export interface JetStreamSettings {
  stream: string;
  startFrom: 'new' | 'all';
  ackWaitMs: number;
  maxAttempts: number;
  redeliveryDelayMs: number;
  maxInFlight: number;
  inactiveThresholdMs: number;
  maxAgeMs: number;
  publishTimeoutMs: number;
}

export interface JetStreamEngineOptions extends JetStreamSettings {
  nats: NatsModule;
  jetstream: JetStreamModule;
  link: NatsLink;
  logger: Logger;
  subjects: Subjects;
}

/**
 * JetStream: events are stored in one stream (per subject prefix) before publish resolves, and delivered through
 * durable consumers with explicit acks, so an acknowledged event survives a restart of the server (with its
 * store), of the subscriber, or a subscriber killed mid-handler (redelivered after ackWait).
 */
export class JetStreamEngine implements DeliveryEngine {
  readonly #options: JetStreamEngineOptions;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #subscriptions = new Map<ConsumerSubscription, boolean>();
  /** The stream as this engine last made sure of it; a different creation time means the server lost it. */
  #stream: StreamInfo;

  private constructor(options: JetStreamEngineOptions, jsm: JetStreamManager, stream: StreamInfo) {
    this.#options = options;
    this.#jsm = jsm;
    this.#js = jsm.jetstream();
    this.#stream = stream;
  }

  static async create(options: JetStreamEngineOptions): Promise<JetStreamEngine> {
    let jsm: JetStreamManager;
    try {
      jsm = await options.jetstream.jetstreamManager(options.link.connection);
    } catch (error) {
      throw new Error(`nats broker: JetStream is not available on the NATS server (is it started with -js?): ${(error as Error).message}`, { cause: error });
    }
    return new JetStreamEngine(options, jsm, await ensureStream(jsm, JetStreamEngine.#spec(options), options.logger));
  }

  static #spec(options: JetStreamEngineOptions) {
    return { name: options.stream, subject: options.subjects.streamSubject, maxAgeMs: options.maxAgeMs };
  }

  async #ensureStream(): Promise<StreamInfo> {
    this.#stream = await ensureStream(this.#jsm, JetStreamEngine.#spec(this.#options), this.#options.logger);
    return this.#stream;
  }

  /** Resolves on the stream's ack: from then on the event survives a server restart. */
  async publish(topic: string, message: Message): Promise<void> {
    const subject = this.#options.subjects.subjectOf(topic);
    const headers = eventHeaders(this.#options.nats, topic, message, this.#options.link.maxPayload);
    // The event id doubles as JetStream's message id: publishing again after a failure is deduplicated.
    const msgID = message.headers[Headers.eventId];
    const publish = () => this.#js.publish(subject, message.body, { timeout: this.#options.publishTimeoutMs, ...(headers ? { headers } : {}), ...(msgID ? { msgID } : {}) });
    try {
      await publish().catch(async (error: Error) => {
        // No stream answers for the subject: it was deleted, or the server lost its store. Set it up again, once.
        if (!/no responders/i.test(error.message)) throw error;
        await this.#ensureStream();
        return publish();
      });
    } catch (error) {
      throw MicroError.unavailable(ERROR_ID, `event on "${topic}" was not acknowledged by JetStream stream ${this.#options.stream}: ${(error as Error).message}`);
    }
  }

  async subscribe(topic: string, handler: EventHandler, options: SubscribeOptions): Promise<Subscription> {
    const { subjects, nats } = this.#options;
    const subject = subjects.subjectOf(topic, true);
    const shared = Boolean(options.queue);
    const name = shared ? queueConsumerName(options.queue!, topic, subject) : broadcastConsumerName(topic, nats.nuid.next());
    const subscription = new ConsumerSubscription({
      js: this.#js,
      jsm: this.#jsm,
      spec: { ...this.#options, stream: this.#options.stream, name, subject, shared },
      subjects,
      handler,
      ack: options.ack ?? 'on-success',
      maxInFlight: this.#options.maxInFlight,
      redeliveryDelayMs: this.#options.redeliveryDelayMs,
      ensureStream: () => this.#ensureStream(),
      streamCreated: this.#stream.created,
      logger: this.#options.logger,
    });
    await subscription.start();
    this.#subscriptions.set(subscription, !shared);
    return subscriptionOf(topic, options, () => this.#remove(subscription));
  }

  async close(drainMs: number): Promise<void> {
    const all = [...this.#subscriptions.keys()];
    await Promise.all(all.map((subscription) => this.#remove(subscription)));
    await Promise.all(all.map((subscription) => subscription.drain(drainMs)));
  }

  /** A queue group's consumer stays for the other members and the next start; a broadcast one goes. */
  async #remove(subscription: ConsumerSubscription): Promise<void> {
    const ownConsumer = this.#subscriptions.get(subscription);
    if (ownConsumer === undefined) return;
    this.#subscriptions.delete(subscription);
    await subscription.stop(ownConsumer);
  }
}
