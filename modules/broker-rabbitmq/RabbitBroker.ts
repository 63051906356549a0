import { Headers, MicroError, type Broker, type EventHandler, type Logger, type Message, type PublishOptions, type SubscribeOptions, type Subscription } from '../../src/index.js';
import { AmqpConnection, type AmqpLibrary } from '../shared/amqp/AmqpConnection.js';
import { Publisher } from './Publisher.js';
import { RabbitSubscription } from './RabbitSubscription.js';
import { checkName, groupQueueName, type Topology } from './topology.js';

export interface RabbitBrokerOptions extends Topology {
  urls: readonly string[];
  prefetch: number;
  maxAttempts: number;
  redeliveryDelayMs: number;
  publishTimeoutMs: number;
  /** How long connect() and subscribe() wait for RabbitMQ, and one connection attempt may take. */
  connectTimeoutMs: number;
  heartbeatSeconds: number;
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  drainTimeoutMs: number;
  logger: Logger;
}

interface Session {
  connection: AmqpConnection;
  publisher: Publisher;
  ready: Promise<unknown>;
}

/**
 * Pub/sub on RabbitMQ: events go to a topic exchange with the topic as routing key, persistent, with publisher
 * confirms. A queue group shares one durable queue; a broadcast subscription has an exclusive queue of its own.
 * The connection, channels, queues, bindings and consumers come back by themselves after RabbitMQ restarts.
 */
export class RabbitBroker implements Broker {
  readonly name = 'rabbitmq';
  readonly #library: AmqpLibrary;
  readonly #options: RabbitBrokerOptions;
  readonly #subscriptions = new Set<RabbitSubscription>();
  #session: Session | undefined;

  constructor(library: AmqpLibrary, options: RabbitBrokerOptions) {
    this.#library = library;
    this.#options = options;
    checkName('exchange name', options.exchange);
  }

  /** Connects and declares the exchange; rejects when RabbitMQ does not answer within the connect timeout. */
  async connect(): Promise<void> {
    await this.#open().ready;
  }

  async disconnect(): Promise<void> {
    const session = this.#session;
    if (!session) return;
    this.#session = undefined;
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.unsubscribe()));
    await session.publisher.close();
    await session.connection.close();
  }

  async publish(topic: string, message: Message, _options?: PublishOptions): Promise<void> {
    try {
      checkName('topic', topic);
    } catch (error) {
      throw MicroError.badRequest('tsmicro.broker', (error as Error).message);
    }
    const body = message.body;
    const content = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const headers = message.headers;
    const session = this.#open();
    await session.ready;
    await session.publisher.publish(topic, content, {
      persistent: true,
      headers: { ...headers },
      contentType: headers[Headers.contentType],
      messageId: headers[Headers.eventId],
      timestamp: Math.floor(Date.now() / 1000),
    });
  }

  async subscribe(topic: string, handler: EventHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    checkName('topic', topic);
    if (options.queue) checkName('queue name', groupQueueName(this.#options, topic, options.queue));
    const session = this.#open();
    await session.ready;
    const { prefetch, maxAttempts, redeliveryDelayMs, drainTimeoutMs, reconnectInitialMs, reconnectMaxMs, logger } = this.#options;
    const settings = { connection: session.connection, topology: this.#options, prefetch, maxAttempts, redeliveryDelayMs, drainTimeoutMs, retryInitialMs: reconnectInitialMs, retryMaxMs: reconnectMaxMs, logger };
    const subscription: RabbitSubscription = new RabbitSubscription(settings, topic, handler, options, () => this.#subscriptions.delete(subscription));
    try {
      await subscription.start(this.#options.connectTimeoutMs);
    } catch (error) {
      const where = options.queue ? ` (queue ${groupQueueName(this.#options, topic, options.queue)})` : '';
      throw new Error(`rabbitmq broker: cannot subscribe to "${topic}"${where}: ${(error as Error).message}`, { cause: error });
    }
    this.#subscriptions.add(subscription);
    return subscription;
  }

  /** The current connection and publisher, opened on first use (again after a disconnect). */
  #open(): Session {
    if (this.#session) return this.#session;
    const options = this.#options;
    const connection = new AmqpConnection(this.#library, {
      urls: options.urls,
      name: `tsmicro broker (pid ${process.pid})`,
      heartbeatSeconds: options.heartbeatSeconds,
      connectTimeoutMs: options.connectTimeoutMs,
      reconnectInitialMs: options.reconnectInitialMs,
      reconnectMaxMs: options.reconnectMaxMs,
      logger: options.logger,
    });
    const publisher = new Publisher({ connection, topology: options, publishTimeoutMs: options.publishTimeoutMs, retryInitialMs: options.reconnectInitialMs, retryMaxMs: options.reconnectMaxMs, logger: options.logger });
    const session: Session = { connection, publisher, ready: Promise.resolve() };
    session.ready = publisher.start(options.connectTimeoutMs).catch(async (error: unknown) => {
      // A failed connect leaves nothing behind: the next connect() starts afresh.
      if (this.#session === session) this.#session = undefined;
      await connection.close();
      throw new Error(`rabbitmq broker: cannot connect to RabbitMQ at ${connection.description}: ${(error as Error).message}`, { cause: error });
    });
    this.#session = session;
    return session;
  }
}
