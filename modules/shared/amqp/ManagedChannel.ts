import type { Channel, ChannelModel } from 'amqplib';
import type { Logger } from '../../../src/index.js';
import { backoffDelay, type AmqpConnection } from './AmqpConnection.js';

/**
 * This file is kept identical in modules/transport-rabbitmq/amqp and modules/broker-rabbitmq/amqp (a test checks it).
 */
export interface ManagedChannelOptions<C extends Channel> {
  connection: AmqpConnection;
  /** A publisher-confirm channel instead of a plain one. */
  confirm: boolean;
  /** Declares what hangs off the channel (exchanges, queues, bindings, consumers); runs again on every new channel. */
  setup(channel: C): Promise<void>;
  /** Called once the channel is set up again after a loss (not after the first setup). */
  restored?(channel: C): void;
  /** Called when the channel is lost, whatever the cause. */
  lost?(error: Error): void;
  /** For logs: what the channel is for. */
  what: string;
  retryInitialMs: number;
  retryMaxMs: number;
  logger: Logger;
}

/**
 * Wraps a consumer or 'return' callback: amqplib runs those inside its frame parsing and rethrows what they throw,
 * which would take the connection (or the process) down over one message. A failure is logged instead.
 */
export function safely<A extends unknown[]>(logger: Logger, what: string, callback: (...args: A) => void): (...args: A) => void {
  return (...args) => {
    try {
      callback(...args);
    } catch (error) {
      logger.error(`rabbitmq: ${what} failed`, { error: (error as Error)?.stack ?? String(error) });
    }
  };
}

/**
 * A channel with its topology that is rebuilt whenever it is lost: with the connection (then on the next
 * connection) or on its own (a channel error; then after a backoff). Each user owns one, so one queue that fails
 * to declare does not take down the others.
 */
export class ManagedChannel<C extends Channel> {
  readonly #options: ManagedChannelOptions<C>;
  readonly #waiters = new Set<(channel: C) => void>();
  /** Channels of this object that have closed (by any cause). */
  readonly #dead = new WeakSet<C>();
  #channel: C | undefined;
  #opening = false;
  #retired = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #unobserve: (() => void) | undefined;

  constructor(options: ManagedChannelOptions<C>) {
    this.#options = options;
  }

  /** The channel once its setup has completed. */
  get current(): C | undefined {
    return this.#channel;
  }

  /**
   * Whether a channel this object opened is still open. Deliveries and answers use the channel they came on, even
   * while its setup is still running (a consumer gets its backlog before setup returns): `current` is not enough.
   */
  isOpen(channel: C): boolean {
    return !this.#dead.has(channel);
  }

  /**
   * The first setup, waiting up to `timeoutMs` for a connection. Its failure is the caller's (e.g. a queue declared
   * with other arguments); after it succeeds, losses are repaired in the background.
   */
  async start(timeoutMs: number): Promise<C> {
    const model = await this.#options.connection.ready(timeoutMs);
    const channel = await this.#open(model);
    this.#unobserve = this.#options.connection.observe({ opened: (next) => this.#repair(next) });
    return channel;
  }

  /** The channel once it is (back) up; rejects after `timeoutMs`. */
  ready(timeoutMs: number): Promise<C> {
    if (this.#channel) return Promise.resolve(this.#channel);
    if (this.#retired) return Promise.reject(new Error(`${this.#options.what} is closed`));
    return new Promise((resolve, reject) => {
      const waiter = (channel: C): void => {
        clearTimeout(timer);
        resolve(channel);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`${this.#options.what} is not back within ${timeoutMs} ms (RabbitMQ at ${this.#options.connection.description})`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Stops repairing; the current channel stays open (e.g. to send the last replies) until close(). */
  retire(): void {
    this.#retired = true;
    clearTimeout(this.#timer);
    this.#unobserve?.();
  }

  async close(): Promise<void> {
    this.retire();
    const channel = this.#channel;
    this.#channel = undefined;
    await channel?.close().catch(() => undefined);
  }

  async #open(model: ChannelModel): Promise<C> {
    const { confirm, setup, what, logger } = this.#options;
    const channel = (confirm ? await model.createConfirmChannel() : await model.createChannel()) as C;
    // Without an 'error' listener, a channel error (e.g. a failed declare) would crash the process.
    channel.on('error', (error: Error) => logger.warn(`rabbitmq: ${what}: channel error`, { error: error.message }));
    channel.on('close', () => {
      this.#dead.add(channel);
      this.#onClose(channel);
    });
    try {
      await setup(channel);
    } catch (error) {
      await channel.close().catch(() => undefined);
      throw error;
    }
    if (this.#retired) {
      await channel.close().catch(() => undefined);
      throw new Error(`${what} is closed`);
    }
    this.#channel = channel;
    this.#attempt = 0;
    for (const waiter of [...this.#waiters]) waiter(channel);
    this.#waiters.clear();
    return channel;
  }

  #onClose(channel: C): void {
    if (this.#channel !== channel) return;
    this.#channel = undefined;
    this.#options.lost?.(new Error(`${this.#options.what}: channel closed`));
    // With the connection gone, the next 'opened' repairs it; with the connection up, the channel alone failed.
    if (!this.#retired && this.#options.connection.current) this.#schedule();
  }

  #repair(model: ChannelModel): void {
    if (this.#retired || this.#channel || this.#opening) return;
    void this.#tryOpen(model);
  }

  #schedule(): void {
    if (this.#timer || this.#retired) return;
    this.#attempt++;
    const delayMs = backoffDelay(this.#attempt, this.#options.retryInitialMs, this.#options.retryMaxMs);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const model = this.#options.connection.current;
      if (model) this.#repair(model);
    }, delayMs);
  }

  async #tryOpen(model: ChannelModel): Promise<void> {
    this.#opening = true;
    try {
      const channel = await this.#open(model);
      this.#options.logger.info(`rabbitmq: ${this.#options.what}: restored`);
      this.#options.restored?.(channel);
    } catch (error) {
      if (this.#retired) return;
      this.#options.logger.warn(`rabbitmq: ${this.#options.what}: cannot restore; retrying`, { attempt: this.#attempt + 1, error: (error as Error).message });
      if (this.#options.connection.current) this.#schedule();
    } finally {
      this.#opening = false;
    }
  }
}
