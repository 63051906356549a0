import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg, StreamInfo } from '@nats-io/jetstream';
import type { AckMode, EventHandler, Logger } from '../../../src/index.js';
import { DeliveredEvent, runHandler, type Settlement } from '../../../src/broker/delivery.js';
import { receivedHeaders } from '../eventWire.js';
import type { Subjects } from '../subjects.js';
import { consumerConfig, type ConsumerSpec, type Resume } from './consumerConfig.js';
import { Slots } from './Slots.js';

export interface ConsumerSubscriptionOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  spec: ConsumerSpec;
  subjects: Subjects;
  handler: EventHandler;
  ack: AckMode;
  maxInFlight: number;
  redeliveryDelayMs: number;
  /** Makes sure the stream exists (creating it if the server lost it) and says which stream that is. */
  ensureStream: () => Promise<StreamInfo>;
  /** When the stream this subscription started on was created. */
  streamCreated: string;
  logger: Logger;
}

/** How often a pull asks again; a consumer that vanished is noticed within about twice this. */
const PULL_EXPIRES_MS = 10_000;

/**
 * One subscription on a JetStream consumer: pulls at most `maxInFlight` events, runs each through runHandler,
 * and settles it with JetStream: ack, nak with a growing delay (redelivery), or term (dropped, or dead after
 * its last attempt). A consumer that disappears (deleted, or the server lost its store) is created again where
 * this subscription had got to.
 */
export class ConsumerSubscription {
  readonly #options: ConsumerSubscriptionOptions;
  readonly #slots: Slots;
  /** Stream sequences being handled, and the highest seen: where a recreated consumer resumes. */
  readonly #handling = new Set<number>();
  #highest = 0;
  #messages: ConsumerMessages | undefined;
  #recovering: Promise<void> | undefined;
  #stopped = false;

  constructor(options: ConsumerSubscriptionOptions) {
    this.#options = options;
    this.#slots = new Slots(options.maxInFlight);
  }

  get name(): string {
    return this.#options.spec.name;
  }

  async start(): Promise<void> {
    await this.#ensureConsumer();
    await this.#consume();
  }

  /** Stops pulling; with `deleteConsumer` also removes the consumer (a broadcast subscription ends with it). */
  async stop(deleteConsumer: boolean): Promise<void> {
    this.#stopped = true;
    this.#slots.cancelWaiting();
    await this.#closeMessages();
    if (!deleteConsumer) return;
    const { jsm, spec, logger } = this.#options;
    for (let attempt = 1; ; attempt++) {
      try {
        await jsm.consumers.delete(spec.stream, spec.name);
        return;
      } catch (error) {
        const reason = (error as Error).message;
        if (/not found/i.test(reason)) return;
        // nats-server 2.9 can fail a delete while the consumer's last ack is still being written: try again shortly.
        if (attempt < 3 && /directory not empty/i.test(reason)) {
          await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
          continue;
        }
        logger.warn('broker: deleting a consumer failed; the server removes it when inactive', { consumer: spec.name, error: reason });
        return;
      }
    }
  }

  /** Resolves when no handler of this subscription is running, or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<void> {
    return this.#slots.idle(timeoutMs);
  }

  /** Binds to the consumer if it exists (a queue group's, made by another member), creates it otherwise. */
  async #ensureConsumer(resume?: Resume): Promise<void> {
    const { jsm, spec, logger } = this.#options;
    const wanted = consumerConfig(spec, resume);
    const existing = await jsm.consumers.info(spec.stream, spec.name).catch((error: Error) => {
      if (/not found/i.test(error.message)) return undefined;
      throw error;
    });
    if (existing) {
      if (existing.config.filter_subject !== spec.subject) {
        throw new Error(`nats broker: consumer ${spec.name} of stream ${spec.stream} delivers "${existing.config.filter_subject ?? '(everything)'}", not "${spec.subject}"; delete it or use another queue name`);
      }
      if (existing.config.ack_wait !== wanted.ack_wait || existing.config.max_deliver !== wanted.max_deliver) {
        await jsm.consumers.update(spec.stream, spec.name, { ack_wait: wanted.ack_wait, max_deliver: wanted.max_deliver });
        logger.info('broker: updated a consumer to the configured ackWait and maxAttempts', { consumer: spec.name });
      }
      return;
    }
    try {
      await jsm.consumers.add(spec.stream, wanted);
    } catch (error) {
      // Another member of the group created it first, perhaps starting elsewhere: theirs is the group's.
      if (!/already (exists|in use)/i.test((error as Error).message)) throw error;
    }
  }

  async #consume(): Promise<void> {
    const { js, spec, maxInFlight } = this.#options;
    const consumer = await js.consumers.get(spec.stream, spec.name);
    const messages = await consumer.consume({ max_messages: maxInFlight, expires: PULL_EXPIRES_MS });
    this.#messages = messages;
    void this.#watch(messages);
    void this.#pump(messages);
  }

  async #pump(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const message of messages) {
        const granted = await this.#slots.acquire();
        if (!granted || this.#stopped) {
          // Hand it back at once, so another member of the group need not wait for the ack timeout.
          message.nak();
          if (granted) this.#slots.release();
          continue;
        }
        void this.#handle(message).finally(() => this.#slots.release());
      }
    } catch (error) {
      if (!this.#stopped) this.#options.logger.error('broker: consumer stopped', { consumer: this.name, error: (error as Error).message });
    }
  }

  async #watch(messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      if (status.type === 'consumer_not_found' || status.type === 'consumer_deleted' || status.type === 'stream_not_found') this.#recover(status.type);
    }
  }

  /** Creates the consumer again (with backoff) and consumes from it, resuming where this subscription was. */
  #recover(reason: string): void {
    if (this.#stopped || this.#recovering) return;
    const { logger } = this.#options;
    logger.warn('broker: consumer is gone; creating it again', { consumer: this.name, reason });
    this.#recovering = (async () => {
      await this.#closeMessages();
      for (let attempt = 0; !this.#stopped; attempt++) {
        try {
          const resume = await this.#resumePoint();
          await this.#ensureConsumer(resume);
          await this.#consume();
          logger.info('broker: consumer recreated', { consumer: this.name, resume });
          return;
        } catch (error) {
          logger.warn('broker: recreating the consumer failed; retrying', { consumer: this.name, error: (error as Error).message });
          await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * 2 ** attempt)));
        }
      }
    })().finally(() => (this.#recovering = undefined));
  }

  /**
   * Where a recreated consumer starts: just before the oldest event still being handled, or after the newest
   * seen — unless the stream itself is new (a server that lost its store), whose events are all unseen.
   */
  async #resumePoint(): Promise<Resume> {
    const stream = await this.#options.ensureStream();
    if (stream.created !== this.#options.streamCreated) return 'stream-start';
    return { after: this.#handling.size > 0 ? Math.min(...this.#handling) - 1 : this.#highest };
  }

  /**
   * Stops pulling. The iterator finishes closing only once its reader moves on, which a reader waiting for a
   * slot held by a handler that never returns would not: so the wait is bounded.
   */
  async #closeMessages(): Promise<void> {
    const closing = this.#messages?.close().catch(() => undefined);
    await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  }

  async #handle(message: JsMsg): Promise<void> {
    const { subjects, handler, ack, logger, spec } = this.#options;
    const topic = subjects.topicOf(message.subject);
    let headers: Record<string, string>;
    try {
      headers = receivedHeaders(message.headers);
    } catch (error) {
      logger.error('broker: terminated an event with malformed headers', { topic, seq: message.seq, error: (error as Error).message });
      message.term('malformed headers');
      return;
    }
    this.#handling.add(message.seq);
    this.#highest = Math.max(this.#highest, message.seq);
    const attempt = message.info.deliveryCount;
    // A handler that outlives the ack wait would see its event redelivered meanwhile: keep telling the server it is working.
    const keepAlive = setInterval(() => message.working(), Math.max(500, spec.ackWaitMs / 2));
    keepAlive.unref();
    const event = new DeliveredEvent(topic, { headers, body: message.data }, attempt, (settlement) => {
      clearInterval(keepAlive);
      this.#settle(message, settlement, topic, attempt);
    });
    try {
      await runHandler(handler, event, ack, (error) => logger.warn('broker: subscriber failed', { topic, attempt, consumer: spec.name, error: (error as Error)?.message ?? String(error) }));
    } finally {
      clearInterval(keepAlive);
      this.#handling.delete(message.seq);
    }
  }

  #settle(message: JsMsg, settlement: Settlement, topic: string, attempt: number): void {
    const { spec, redeliveryDelayMs, logger } = this.#options;
    if (settlement === 'ack') return message.ack();
    if (settlement === 'drop') return message.term('dropped by the subscriber');
    if (attempt < spec.maxAttempts) return message.nak(redeliveryDelayMs * attempt);
    message.term('max deliveries reached');
    logger.error('broker: dead letter: event dropped after its last attempt', { topic, stream: spec.stream, seq: message.seq, attempts: attempt, consumer: spec.name, eventId: message.headers?.get('micro-event-id') });
  }
}
