import type { ChannelModel } from 'amqplib';
import type { Logger } from '../../../src/index.js';
import { redact, withHeartbeat } from './addresses.js';

/**
 * The part of the amqplib namespace the plugins use. The plugin loader imports amqplib and hands it over, so nothing
 * in a plugin folder imports it at load time (it is an optional package).
 *
 * This file is kept identical in modules/transport-rabbitmq/amqp and modules/broker-rabbitmq/amqp (a test checks it).
 */
export interface AmqpLibrary {
  connect(url: string, socketOptions?: Record<string, unknown>): Promise<ChannelModel>;
}

/** The amqplib namespace as `import()` gives it: the CommonJS exports, either directly or under `default`. */
export function amqpLibrary(namespace: unknown): AmqpLibrary {
  for (const candidate of [namespace, (namespace as { default?: unknown } | undefined)?.default]) {
    if (candidate && typeof (candidate as AmqpLibrary).connect === 'function') return candidate as AmqpLibrary;
  }
  throw new TypeError('the "amqplib" package does not export connect(); install amqplib@^2.3.1');
}

export interface AmqpConnectionOptions {
  /** Tried in turn, so a cluster keeps working while one node is down. */
  urls: readonly string[];
  /** Shown in the RabbitMQ management UI. */
  name: string;
  heartbeatSeconds: number;
  /** How long one TCP + AMQP handshake may take. */
  connectTimeoutMs: number;
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  logger: Logger;
}

/** Told about every connection that opens (build channels on it) and every loss (channels on it are gone). */
export interface ConnectionObserver {
  opened?(model: ChannelModel): void;
  lost?(error: Error): void;
}

/** Exponential backoff with jitter, so many clients of a restarted server do not reconnect in lockstep. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/**
 * One AMQP connection that comes back by itself. amqplib's own recovery takes a single URL and rebuilds no
 * channels, so this loop rotates through the configured servers with backoff and tells observers, which rebuild
 * their channels, queues, bindings and consumers on every new connection.
 */
export class AmqpConnection {
  readonly #library: AmqpLibrary;
  readonly #options: AmqpConnectionOptions;
  readonly #observers = new Set<ConnectionObserver>();
  readonly #waiters = new Set<(model: ChannelModel | Error) => void>();
  #model: ChannelModel | undefined;
  #started = false;
  #closed = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #lastError: Error | undefined;

  constructor(library: AmqpLibrary, options: AmqpConnectionOptions) {
    this.#library = library;
    this.#options = options;
  }

  /** The open connection, if there is one right now. */
  get current(): ChannelModel | undefined {
    return this.#model;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Why the server is known to be unreachable right now (the last attempt failed or the connection was lost). */
  get outage(): Error | undefined {
    return this.#model ? undefined : this.#lastError;
  }

  /** Where it connects, without passwords, for messages. */
  get description(): string {
    return this.#options.urls.map(redact).join(', ');
  }

  observe(observer: ConnectionObserver): () => void {
    this.#observers.add(observer);
    return () => this.#observers.delete(observer);
  }

  /** The open connection, connecting first if needed. Rejects when none opens within `timeoutMs`. */
  ready(timeoutMs: number): Promise<ChannelModel> {
    if (this.#closed) return Promise.reject(new Error('the RabbitMQ connection was closed'));
    this.#start();
    if (this.#model) return Promise.resolve(this.#model);
    return new Promise((resolve, reject) => {
      const waiter = (outcome: ChannelModel | Error): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const timer = setTimeout(() => {
        const why = this.#lastError ? `: ${this.#lastError.message}` : '';
        waiter(new Error(`RabbitMQ at ${this.description} did not answer within ${timeoutMs} ms${why}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const waiter of [...this.#waiters]) waiter(new Error('the RabbitMQ connection was closed'));
    const model = this.#model;
    this.#model = undefined;
    await model?.close().catch(() => undefined);
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    void this.#connect();
  }

  async #connect(): Promise<void> {
    this.#timer = undefined;
    if (this.#closed) return;
    const { urls, heartbeatSeconds, connectTimeoutMs, name, logger } = this.#options;
    const url = urls[this.#attempt % urls.length]!;
    let model: ChannelModel;
    try {
      model = await this.#library.connect(withHeartbeat(url, heartbeatSeconds), { timeout: connectTimeoutMs, noDelay: true, clientProperties: { connection_name: name } });
    } catch (error) {
      this.#lastError = error as Error;
      this.#attempt++;
      const delayMs = backoffDelay(this.#attempt, this.#options.reconnectInitialMs, this.#options.reconnectMaxMs);
      logger.warn('rabbitmq: cannot connect; retrying', { url: redact(url), attempt: this.#attempt, retryInMs: delayMs, error: (error as Error).message });
      this.#timer = setTimeout(() => void this.#connect(), delayMs);
      return;
    }
    if (this.#closed) {
      await model.close().catch(() => undefined);
      return;
    }
    this.#attempt = 0;
    this.#lastError = undefined;
    // An 'error' event without a listener would crash the process; the 'close' that follows is what matters.
    model.on('error', (error: Error) => logger.warn('rabbitmq: connection error', { error: error.message }));
    model.on('close', (error?: Error) => this.#onClose(model, error));
    model.on('blocked', (reason: string) => logger.warn('rabbitmq: the server blocked this connection (resource alarm); publishes wait', { reason }));
    model.on('unblocked', () => logger.info('rabbitmq: the server unblocked this connection'));
    this.#model = model;
    logger.info('rabbitmq: connected', { url: redact(url) });
    for (const waiter of [...this.#waiters]) waiter(model);
    for (const observer of [...this.#observers]) this.#notify(() => observer.opened?.(model));
  }

  #onClose(model: ChannelModel, error?: Error): void {
    if (this.#model !== model) return;
    this.#model = undefined;
    if (this.#closed) return;
    const reason = error ?? new Error('the server closed the connection');
    this.#lastError = reason;
    this.#options.logger.warn('rabbitmq: connection lost; reconnecting', { error: reason.message });
    for (const observer of [...this.#observers]) this.#notify(() => observer.lost?.(reason));
    this.#timer = setTimeout(() => void this.#connect(), backoffDelay(1, this.#options.reconnectInitialMs, this.#options.reconnectMaxMs));
  }

  #notify(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.#options.logger.error('rabbitmq: connection observer failed', { error: (error as Error).message });
    }
  }
}
