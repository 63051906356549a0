import type { Channel, ConsumeMessage } from 'amqplib';
import { Headers, MicroError, TransportError, type Listener, type Logger, type Message, type Socket } from '../../src/index.js';
import type { AmqpConnection } from '../shared/amqp/AmqpConnection.js';
import { ManagedChannel, safely } from '../shared/amqp/ManagedChannel.js';
import { VirtualSocket } from './VirtualSocket.js';
import { bodyBuffer, CONTROL_CLOSE, fromAmqp, messageSize, publishFailure, unhandledReply } from './wire.js';

export interface RabbitListenerOptions {
  queue: string;
  connection: AmqpConnection;
  maxMessageSize: number;
  /** A server socket silent this long is closed: its client most likely died without saying so. */
  idleSocketMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  logger: Logger;
  /** Called once the listener is closed and its last accepted socket has ended. */
  released?: () => void;
}

interface Accepted {
  readonly socket: VirtualSocket;
  readonly replyTo: string;
  readonly id: string;
}

/** Close notices kept for clients whose sockets ended while the channel was down, sent once it is back. */
const MAX_OWED_CLOSES = 10_000;

/**
 * A server's queue. The queue is auto-deleted when its consumer goes (the listener closes or the process dies), so
 * a client's request to a server that is gone comes back unroutable instead of waiting in a queue nobody reads;
 * the consumer is exclusive, so two servers can never share one address. Messages are grouped by reply address and
 * socket id into virtual server sockets; answers go back on the same channel, which keeps their order.
 */
export class RabbitListener implements Listener {
  readonly address: string;
  readonly #options: RabbitListenerOptions;
  readonly #channel: ManagedChannel<Channel>;
  readonly #accepted = new Map<string, Accepted>();
  #owedCloses: { replyTo: string; id: string }[] = [];
  #handler: ((socket: Socket) => void) | undefined;
  #accepting = true;
  #consumerTag: string | undefined;
  #sweep: NodeJS.Timeout | undefined;

  constructor(options: RabbitListenerOptions) {
    this.#options = options;
    this.address = options.queue;
    this.#channel = new ManagedChannel<Channel>({
      connection: options.connection,
      confirm: false,
      what: `transport listener ${options.queue}`,
      setup: async (channel) => {
        await channel.assertQueue(options.queue, { durable: false, autoDelete: true });
        const onMessage = safely(options.logger, 'transport listener: handling a request', (message: ConsumeMessage | null) => this.#onMessage(channel, message));
        const { consumerTag } = await channel.consume(options.queue, onMessage, { noAck: true, exclusive: true });
        this.#consumerTag = consumerTag;
      },
      lost: () => this.#onLost(),
      restored: (channel) => this.#sendOwedCloses(channel),
      retryInitialMs: options.retryInitialMs,
      retryMaxMs: options.retryMaxMs,
      logger: options.logger,
    });
  }

  async start(timeoutMs: number): Promise<void> {
    await this.#channel.start(timeoutMs);
    this.#sweep = setInterval(() => this.#closeIdle(), Math.min(60_000, Math.max(50, this.#options.idleSocketMs / 2)));
    this.#sweep.unref();
  }

  accept(handler: (socket: Socket) => void): void {
    this.#handler = handler;
  }

  /** Stops accepting: the queue goes with its consumer. Sockets already accepted keep the channel for their answers. */
  async close(): Promise<void> {
    if (!this.#accepting) return;
    this.#accepting = false;
    this.#channel.retire();
    const channel = this.#channel.current;
    if (channel && this.#consumerTag) await channel.cancel(this.#consumerTag).catch(() => undefined);
    this.#releaseWhenIdle();
  }

  /** Ends everything at once (the transport is closing). */
  async destroy(): Promise<void> {
    this.#accepting = false;
    clearInterval(this.#sweep);
    for (const accepted of [...this.#accepted.values()]) accepted.socket.end(new TransportError('closed', 'rabbitmq transport closed'));
    await this.#channel.close();
  }

  #onMessage(channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      // The server cancelled the consumer (the queue was deleted under us): a new channel declares it again.
      if (!this.#accepting) return;
      this.#options.logger.warn('rabbitmq: transport listener: the server cancelled the consumer; declaring the queue again', { queue: this.address });
      void channel.close().catch(() => undefined);
      return;
    }
    const { replyTo, correlationId: id, type } = message.properties;
    if (typeof replyTo !== 'string' || replyTo === '' || typeof id !== 'string' || id === '') {
      this.#options.logger.warn('rabbitmq: transport listener: dropping a message without reply-to and correlation id', { queue: this.address });
      return;
    }
    const key = `${replyTo}\n${id}`;
    let accepted = this.#accepted.get(key);
    if (type === CONTROL_CLOSE) return accepted?.socket.end();
    const incoming = fromAmqp(message);
    if (!accepted) {
      if (!this.#accepting || !this.#handler) return this.#refuse(channel, replyTo, id, incoming);
      accepted = this.#open(channel, replyTo, id);
      this.#handler(accepted.socket);
    }
    const size = messageSize(incoming);
    if (size > this.#options.maxMessageSize) return this.#rejectOversized(accepted, size);
    accepted.socket.deliver(incoming);
  }

  /** A socket for a new client, answering on the channel its first message came on (which keeps the order). */
  #open(channel: Channel, replyTo: string, id: string): Accepted {
    const key = `${replyTo}\n${id}`;
    const publish = (body: Buffer, options: Record<string, unknown>): void => {
      if (!this.#channel.isOpen(channel)) throw new TransportError('closed', 'rabbitmq transport: the listener lost its channel');
      try {
        channel.publish('', replyTo, body, { ...options, correlationId: id });
      } catch (error) {
        throw publishFailure(error, 'rabbitmq transport: cannot answer');
      }
    };
    const socket = new VirtualSocket(this.address, `${replyTo}/${id}`, {
      send: (message) => publish(bodyBuffer(message), { headers: message.headers }),
      sendClose: () => {
        try {
          publish(Buffer.alloc(0), { type: CONTROL_CLOSE });
        } catch {
          // The client's socket ends with its channel anyway.
        }
      },
    }, this.#options.maxMessageSize, () => {
      this.#accepted.delete(key);
      this.#releaseWhenIdle();
    });
    const accepted: Accepted = { socket, replyTo, id };
    this.#accepted.set(key, accepted);
    return accepted;
  }

  /** A request after close(): answered as not delivered, so the client sends it to another node. */
  #refuse(channel: Channel, replyTo: string, id: string, incoming: Message): void {
    try {
      const reply = unhandledReply(incoming.headers, `${this.address} no longer accepts requests`);
      if (reply) channel.publish('', replyTo, bodyBuffer(reply), { headers: reply.headers, correlationId: id });
      channel.publish('', replyTo, Buffer.alloc(0), { type: CONTROL_CLOSE, correlationId: id });
    } catch {
      // The channel is going; the client's socket will end with it or time out.
    }
  }

  /** As the TCP transport does: tell the client why, without an id, then close its socket. */
  #rejectOversized(accepted: Accepted, size: number): void {
    this.#options.logger.warn('rabbitmq: transport listener: closing a socket after an oversized message', { queue: this.address, size, limit: this.#options.maxMessageSize });
    const error = MicroError.tooLarge('tsmicro.transport', `message of ${size} bytes is over the transport limit of ${this.#options.maxMessageSize} bytes`);
    try {
      accepted.socket.send({ headers: { [Headers.error]: error.toWire() }, body: new Uint8Array(0) });
    } catch {
      // Closing is what matters.
    }
    void accepted.socket.close();
  }

  #onLost(): void {
    for (const accepted of [...this.#accepted.values()]) {
      if (this.#owedCloses.length < MAX_OWED_CLOSES) this.#owedCloses.push({ replyTo: accepted.replyTo, id: accepted.id });
      accepted.socket.end(new TransportError('closed', 'rabbitmq transport: the listener lost its channel'));
    }
  }

  /**
   * After a channel-only failure the clients are still there, waiting for answers that will never come (requests
   * in the queue went with it): closing their sockets fails those requests now instead of at their deadline.
   */
  #sendOwedCloses(channel: Channel): void {
    for (const { replyTo, id } of this.#owedCloses.splice(0)) {
      try {
        channel.publish('', replyTo, Buffer.alloc(0), { type: CONTROL_CLOSE, correlationId: id });
      } catch {
        return;
      }
    }
  }

  #closeIdle(): void {
    const cutoff = Date.now() - this.#options.idleSocketMs;
    for (const accepted of [...this.#accepted.values()]) if (accepted.socket.lastActivity < cutoff) void accepted.socket.close();
  }

  /** A closed listener keeps its channel only while accepted sockets may still answer. */
  #releaseWhenIdle(): void {
    if (this.#accepting || this.#accepted.size > 0) return;
    clearInterval(this.#sweep);
    void this.#channel.close();
    this.#options.released?.();
  }
}
