import { randomUUID } from 'node:crypto';
import { TransportError, type DialOptions, type Listener, type Logger, type Socket, type Transport } from '../../src/index.js';
import { AmqpConnection, type AmqpLibrary } from '../shared/amqp/AmqpConnection.js';
import { ClientEndpoint } from './ClientEndpoint.js';
import { RabbitListener } from './RabbitListener.js';

export interface RabbitTransportOptions {
  /** amqp:// URLs, tried in turn. */
  urls: readonly string[];
  maxMessageSize: number;
  /** Default for dial() when the caller gives no timeout. */
  dialTimeoutMs: number;
  /** How long listen() waits for RabbitMQ before failing. */
  connectTimeoutMs: number;
  /** Start of the queue names picked for servers that do not name their own. */
  queuePrefix: string;
  peerCheckIntervalMs: number;
  heartbeatSeconds: number;
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  /** A server socket silent this long is closed (its client most likely died). */
  idleSocketMs: number;
  logger: Logger;
}

/** `127.0.0.1:0`, `:8080`, `[::1]:0` or empty: the server's default address, not a queue name it chose. */
const HOST_PORT = /^(?:\[[^\]]+\]|[^:\s/]*):\d{1,5}$/;

/** The queue a server listens on: its own name when it gave one, a fresh unique name otherwise. */
export function queueForAddress(address: string, prefix: string): string {
  const trimmed = address.trim();
  return trimmed === '' || HOST_PORT.test(trimmed) ? `${prefix}${randomUUID()}` : trimmed;
}

function checkQueueName(name: string): string | undefined {
  if (name === '') return 'an empty queue name';
  if (Buffer.byteLength(name) > 255) return 'a queue name over 255 bytes';
  if (name.startsWith('amq.')) return 'a name starting with "amq." (reserved by RabbitMQ)';
  return undefined;
}

/**
 * RPC over RabbitMQ. A server listens on a queue (its address, as registered); a client's socket sends to that
 * queue and gets its answers through RabbitMQ's direct reply-to. The framework's request/reply matching runs above
 * this (by `micro-id`), so many requests share a socket. See the README for what happens on restarts.
 */
export class RabbitTransport implements Transport {
  readonly name = 'rabbitmq';
  readonly maxMessageSize: number;
  readonly #options: RabbitTransportOptions;
  readonly #connection: AmqpConnection;
  readonly #listeners = new Set<RabbitListener>();
  #client: ClientEndpoint | undefined;
  #closed = false;

  constructor(library: AmqpLibrary, options: RabbitTransportOptions) {
    this.#options = options;
    this.maxMessageSize = options.maxMessageSize;
    this.#connection = new AmqpConnection(library, {
      urls: options.urls,
      name: `tsmicro transport (pid ${process.pid})`,
      heartbeatSeconds: options.heartbeatSeconds,
      connectTimeoutMs: options.connectTimeoutMs,
      reconnectInitialMs: options.reconnectInitialMs,
      reconnectMaxMs: options.reconnectMaxMs,
      logger: options.logger,
    });
  }

  async listen(address: string): Promise<Listener> {
    if (this.#closed) throw new TransportError('listen', 'rabbitmq transport is closed');
    const queue = queueForAddress(address, this.#options.queuePrefix);
    const problem = checkQueueName(queue);
    if (problem) throw new TransportError('listen', `rabbitmq transport: cannot listen on "${queue}": ${problem}`);
    const listener: RabbitListener = new RabbitListener({
      queue,
      connection: this.#connection,
      maxMessageSize: this.maxMessageSize,
      idleSocketMs: this.#options.idleSocketMs,
      retryInitialMs: this.#options.reconnectInitialMs,
      retryMaxMs: this.#options.reconnectMaxMs,
      logger: this.#options.logger,
      released: () => this.#listeners.delete(listener),
    });
    try {
      await listener.start(this.#options.connectTimeoutMs);
    } catch (error) {
      await listener.destroy();
      const inUse = (error as { code?: number }).code === 403;
      const reason = inUse ? 'another server already listens there' : (error as Error).message;
      throw new TransportError('listen', `rabbitmq transport: cannot listen on ${queue}: ${reason}`, { cause: error });
    }
    this.#listeners.add(listener);
    return listener;
  }

  async dial(address: string, options: DialOptions = {}): Promise<Socket> {
    if (this.#closed) throw new TransportError('dial', 'rabbitmq transport is closed');
    const problem = checkQueueName(address);
    if (problem) throw new TransportError('dial', `rabbitmq transport: cannot dial "${address}": ${problem}`);
    const timeoutMs = options.timeoutMs ?? this.#options.dialTimeoutMs;
    this.#client ??= new ClientEndpoint({
      connection: this.#connection,
      maxMessageSize: this.maxMessageSize,
      peerCheckIntervalMs: this.#options.peerCheckIntervalMs,
      retryInitialMs: this.#options.reconnectInitialMs,
      retryMaxMs: this.#options.reconnectMaxMs,
      logger: this.#options.logger,
    });
    try {
      return await withinDeadline(this.#client.dial(address, timeoutMs), timeoutMs, address);
    } catch (error) {
      if (error instanceof TransportError && error.kind === 'dial') throw error;
      throw new TransportError('dial', `rabbitmq transport: cannot dial ${address}: ${(error as Error).message}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#listeners].map((listener) => listener.destroy()));
    this.#listeners.clear();
    await this.#client?.close();
    await this.#connection.close();
  }
}

/** The dial, or a dial error at the deadline; a socket that opens too late is closed rather than leaked. */
function withinDeadline(dialling: Promise<Socket>, timeoutMs: number, address: string): Promise<Socket> {
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      dialling.then((late) => late.close(), () => undefined);
      reject(new TransportError('dial', `rabbitmq transport: dialling ${address} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  return Promise.race([dialling.finally(() => clearTimeout(timer)), deadline]);
}
