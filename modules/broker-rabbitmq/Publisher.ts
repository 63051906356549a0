import type { ConfirmChannel, Options } from 'amqplib';
import { MicroError, type Logger } from '../../src/index.js';
import { backoffDelay, type AmqpConnection } from '../shared/amqp/AmqpConnection.js';
import { ManagedChannel } from '../shared/amqp/ManagedChannel.js';
import { declareExchanges, type Topology } from './topology.js';

const ERROR_ID = 'tsmicro.broker';

/** Publishes one message and resolves once RabbitMQ confirmed it; rejects on a nack, a lost channel or the timeout. */
export function publishConfirmed(channel: ConfirmChannel, exchange: string, routingKey: string, content: Buffer, options: Options.Publish, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no confirm from RabbitMQ within ${timeoutMs} ms`)), timeoutMs);
    try {
      channel.publish(exchange, routingKey, content, options, (error: unknown) => {
        clearTimeout(timer);
        if (error) reject(error instanceof Error ? error : new Error(`RabbitMQ did not accept the message: ${String(error)}`));
        else resolve();
      });
    } catch (error) {
      clearTimeout(timer);
      reject(error);
    }
  });
}

export interface PublisherOptions {
  connection: AmqpConnection;
  topology: Topology;
  /** How long a publish keeps trying (through reconnections) before it fails. */
  publishTimeoutMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  logger: Logger;
}

/**
 * Publishes on a confirm channel: publish() resolves only once RabbitMQ has taken responsibility for the event
 * (for a persistent event routed to durable queues, once it is on disk). A publish that fails because the
 * connection went is sent again on the next connection until `publishTimeoutMs`, so publishes made during a
 * restart of RabbitMQ complete once it is back. Resending after a lost confirm can duplicate an event (at least
 * once); handlers de-duplicate by `micro-event-id` where that matters.
 */
export class Publisher {
  readonly #options: PublisherOptions;
  readonly #channel: ManagedChannel<ConfirmChannel>;
  #started: Promise<unknown> | undefined;

  constructor(options: PublisherOptions) {
    this.#options = options;
    this.#channel = new ManagedChannel<ConfirmChannel>({
      connection: options.connection,
      confirm: true,
      what: 'broker publisher',
      setup: (channel) => declareExchanges(channel, options.topology),
      retryInitialMs: options.retryInitialMs,
      retryMaxMs: options.retryMaxMs,
      logger: options.logger,
    });
  }

  /** Connects and declares the exchanges; rejects when RabbitMQ does not answer within `timeoutMs`. */
  start(timeoutMs: number): Promise<unknown> {
    this.#started ??= this.#channel.start(timeoutMs).catch((error: unknown) => {
      this.#started = undefined;
      throw error;
    });
    return this.#started;
  }

  async publish(topic: string, content: Buffer, options: Options.Publish): Promise<void> {
    const deadline = Date.now() + this.#options.publishTimeoutMs;
    let lastError: Error | undefined;
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      try {
        await this.start(remaining);
        const channel = await this.#channel.ready(remaining);
        await publishConfirmed(channel, this.#options.topology.exchange, topic, content, options, deadline - Date.now());
        if (attempt > 1) this.#options.logger.info('rabbitmq broker: published after retrying', { topic, attempts: attempt });
        return;
      } catch (error) {
        // Headers that do not fit an AMQP frame will never fit: no point retrying.
        if (error instanceof RangeError) throw MicroError.tooLarge(ERROR_ID, `rabbitmq broker: cannot publish to "${topic}": ${error.message}`);
        lastError = error as Error;
        this.#options.logger.debug('rabbitmq broker: publish failed; retrying', { topic, attempt, error: lastError.message });
        await sleep(Math.min(backoffDelay(attempt, this.#options.retryInitialMs, this.#options.retryMaxMs), Math.max(0, deadline - Date.now())));
      }
    }
    throw MicroError.unavailable(ERROR_ID, `rabbitmq broker: publish to "${topic}" was not confirmed within ${this.#options.publishTimeoutMs} ms${lastError ? `: ${lastError.message}` : ''}`);
  }

  close(): Promise<void> {
    return this.#channel.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
