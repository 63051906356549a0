import { randomUUID } from 'node:crypto';
import type { Channel, ChannelModel, ConsumeMessage, Message as AmqpMessage } from 'amqplib';
import { TransportError, type Logger, type Socket } from '../../src/index.js';
import type { AmqpConnection } from '../shared/amqp/AmqpConnection.js';
import { ManagedChannel, safely } from '../shared/amqp/ManagedChannel.js';
import { VirtualSocket } from './VirtualSocket.js';
import { bodyBuffer, CONTROL_CLOSE, DIRECT_REPLY_TO, fromAmqp, headersFromAmqp, messageSize, publishFailure, tooLarge, unhandledReply } from './wire.js';

export interface ClientEndpointOptions {
  connection: AmqpConnection;
  maxMessageSize: number;
  /** How often the queues of dialled servers are checked, so a server that died is noticed; 0 to never check. */
  peerCheckIntervalMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  logger: Logger;
}

interface Dialled {
  readonly socket: VirtualSocket;
  readonly address: string;
  /** Nobody listens at the address any more: sends fail at once, as on a refused connection. */
  gone: boolean;
}

/** After RabbitMQ returns a request as unroutable, how long the socket waits for the returns of requests sent with it. */
const GONE_GRACE_MS = 1000;

/** Whether a queue exists, on a throwaway channel: RabbitMQ answers a missing queue by closing the channel. */
export async function queueExists(model: ChannelModel, queue: string): Promise<boolean> {
  const channel = await model.createChannel();
  channel.on('error', () => undefined);
  try {
    await channel.checkQueue(queue);
    return true;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return false;
    throw error;
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/**
 * The client side of the transport: every dialled socket of the process shares one channel, sends to the server's
 * queue, and gets its answers on that channel's direct reply-to address, told apart by the socket id (the AMQP
 * correlation id). Requests go out `mandatory`, so one sent to a queue that no longer exists comes back at once and
 * is answered as not delivered (safe to retry elsewhere).
 */
export class ClientEndpoint {
  readonly #options: ClientEndpointOptions;
  readonly #channel: ManagedChannel<Channel>;
  readonly #dialled = new Map<string, Dialled>();
  #started: Promise<Channel> | undefined;
  #peerTimer: NodeJS.Timeout | undefined;
  #checking = false;

  constructor(options: ClientEndpointOptions) {
    this.#options = options;
    this.#channel = new ManagedChannel<Channel>({
      connection: options.connection,
      confirm: false,
      what: 'transport client',
      setup: async (channel) => {
        channel.on('return', safely(options.logger, 'transport client: handling a returned request', (message: AmqpMessage) => this.#onReturn(message)));
        await channel.consume(DIRECT_REPLY_TO, safely(options.logger, 'transport client: handling a reply', (message: ConsumeMessage | null) => this.#onReply(channel, message)), { noAck: true });
      },
      // The reply address belonged to the lost channel: no answer can reach these sockets any more.
      lost: (error) => this.#endAll(new TransportError('closed', `lost the RabbitMQ channel for replies (${error.message})`)),
      retryInitialMs: options.retryInitialMs,
      retryMaxMs: options.retryMaxMs,
      logger: options.logger,
    });
  }

  /** A socket to the server listening on queue `address`; TransportError `dial` when nobody does. */
  async dial(address: string, timeoutMs: number): Promise<Socket> {
    // During a known outage a dial fails at once, as a refused TCP connection would: the caller's deadline and
    // retry policy decide what happens next, instead of each attempt waiting for the whole dial timeout.
    const outage = this.#options.connection.outage;
    if (outage) throw new TransportError('dial', `rabbitmq transport: RabbitMQ at ${this.#options.connection.description} is unreachable (reconnecting): ${outage.message}`);
    const channel = await this.#ready(timeoutMs);
    const model = this.#options.connection.current;
    if (!model) throw new Error('the connection to RabbitMQ was lost');
    if (!(await queueExists(model, address))) throw new TransportError('dial', `rabbitmq transport: nobody listens on ${address}`);
    const id = randomUUID();
    const socket = new VirtualSocket(`${DIRECT_REPLY_TO}/${id}`, address, {
      send: (message) => {
        if (dialled.gone) throw new TransportError('closed', `rabbitmq transport: nobody listens on ${address} any more`);
        if (!this.#channel.isOpen(channel)) throw new TransportError('closed', 'rabbitmq transport: the channel of this socket was lost');
        try {
          channel.publish('', address, bodyBuffer(message), { headers: message.headers, correlationId: id, replyTo: DIRECT_REPLY_TO, mandatory: true });
        } catch (error) {
          throw publishFailure(error, `rabbitmq transport: cannot send to ${address}`);
        }
      },
      sendClose: () => {
        try {
          if (!dialled.gone) channel.publish('', address, Buffer.alloc(0), { type: CONTROL_CLOSE, correlationId: id, replyTo: DIRECT_REPLY_TO });
        } catch {
          // The server learns of it anyway once its socket idles out; nothing to do on a channel that is gone.
        }
      },
    }, this.#options.maxMessageSize, () => this.#dialled.delete(id));
    const dialled: Dialled = { socket, address, gone: false };
    this.#dialled.set(id, dialled);
    this.#startPeerChecks();
    return socket;
  }

  async close(): Promise<void> {
    clearInterval(this.#peerTimer);
    this.#endAll(new TransportError('closed', 'rabbitmq transport closed'));
    await this.#channel.close();
  }

  #ready(timeoutMs: number): Promise<Channel> {
    if (!this.#started) {
      this.#started = this.#channel.start(timeoutMs).catch((error: unknown) => {
        this.#started = undefined;
        throw error;
      });
      return this.#started;
    }
    return this.#started.then(() => this.#channel.ready(timeoutMs));
  }

  #onReply(channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      // The server cancelled the reply consumer; a new channel gets a new one.
      this.#options.logger.warn('rabbitmq: transport client: reply consumer cancelled by the server');
      void channel.close().catch(() => undefined);
      return;
    }
    const id = message.properties.correlationId;
    const dialled = typeof id === 'string' ? this.#dialled.get(id) : undefined;
    if (!dialled) return; // an answer for a socket closed meanwhile
    if (message.properties.type === CONTROL_CLOSE) return dialled.socket.end();
    const reply = fromAmqp(message);
    const size = messageSize(reply);
    if (size > this.#options.maxMessageSize) {
      this.#options.logger.warn('rabbitmq: transport client: closing a socket after an oversized reply', { address: dialled.address, size });
      return dialled.socket.end(tooLarge(size, this.#options.maxMessageSize));
    }
    dialled.socket.deliver(reply);
  }

  /** A request RabbitMQ could not route: the server's queue is gone, so the request provably never ran. */
  #onReturn(message: AmqpMessage): void {
    const id = message.properties.correlationId;
    const dialled = typeof id === 'string' ? this.#dialled.get(id) : undefined;
    if (!dialled || message.properties.type === CONTROL_CLOSE) return;
    const reply = unhandledReply(headersFromAmqp(message.properties.headers), `nobody listens on ${dialled.address} any more`);
    if (reply) dialled.socket.deliver(reply);
    if (dialled.gone) return;
    dialled.gone = true;
    setTimeout(() => dialled.socket.end(new TransportError('closed', `nobody listens on ${dialled.address} any more`)), GONE_GRACE_MS).unref();
  }

  #startPeerChecks(): void {
    if (this.#peerTimer || this.#options.peerCheckIntervalMs <= 0) return;
    this.#peerTimer = setInterval(() => void this.#checkPeers(), this.#options.peerCheckIntervalMs);
    this.#peerTimer.unref();
  }

  /**
   * A server process that dies takes its queue with it, but nothing tells its clients: without this check their
   * requests in flight would wait for their deadline. Ending the socket fails them at once (as a dropped TCP
   * connection would).
   */
  async #checkPeers(): Promise<void> {
    const model = this.#options.connection.current;
    if (this.#checking || !model || this.#dialled.size === 0) return;
    this.#checking = true;
    try {
      const addresses = new Set([...this.#dialled.values()].filter((dialled) => !dialled.gone).map((dialled) => dialled.address));
      for (const address of addresses) {
        const exists = await queueExists(model, address).catch(() => true);
        if (exists) continue;
        for (const dialled of [...this.#dialled.values()]) {
          if (dialled.address !== address) continue;
          dialled.gone = true;
          dialled.socket.end(new TransportError('closed', `nobody listens on ${address} any more (its queue is gone)`));
        }
      }
    } finally {
      this.#checking = false;
    }
  }

  #endAll(error: Error): void {
    for (const dialled of [...this.#dialled.values()]) dialled.socket.end(error);
    this.#dialled.clear();
  }
}
