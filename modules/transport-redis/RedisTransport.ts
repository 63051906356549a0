import { randomBytes } from 'node:crypto';
import { TransportError, type DialOptions, type Listener, type Logger, type Socket, type Transport } from '../../src/index.js';
import { parseTarget, RedisConnection, redisClass, type RedisConstructor } from '../shared/redis/redisConnection.js';
import { Kind, type Envelope } from './envelope.js';
import { PubSub } from './PubSub.js';
import { RedisListener } from './RedisListener.js';
import { RedisSocket } from './RedisSocket.js';

export interface RedisTransportOptions {
  /** `host:port` or a `redis://` URL; 127.0.0.1:6379 when empty. */
  address?: string;
  /** Prefix of the channels: listeners asked for a host:port get `<prefix><unique id>`. */
  prefix: string;
  maxMessageSize: number;
  dialTimeoutMs: number;
  idleTimeoutMs: number;
  commandTimeoutMs: number;
}

export const REDIS_TRANSPORT_DEFAULTS = { prefix: 'tsmicro:rpc:', idleTimeoutMs: 600_000, commandTimeoutMs: 5000 };

/** `127.0.0.1:0`, `:8080`, `[::1]:0` or empty: the server's default address, not a channel chosen by the user. */
export function looksLikeHostPort(address: string): boolean {
  const trimmed = address.trim();
  return trimmed === '' || /^(?:\[[^\]]*\]|[^:\s]*):\d{1,5}$/.test(trimmed);
}

const uniqueId = (): string => randomBytes(9).toString('base64url');

/**
 * `transport: redis`: RPC over Redis pub/sub, as Moleculer's and NestJS's Redis transporters carry it. A listener's
 * address is a channel; a dialled socket is a virtual connection between the client's inbox channel and the
 * listener's session channel, so the RPC client and server above run unchanged.
 */
export class RedisTransport implements Transport {
  readonly name = 'redis';
  readonly maxMessageSize: number;
  readonly #options: RedisTransportOptions;
  readonly #Redis: RedisConstructor;
  readonly #logger: Logger;
  readonly #listeners = new Set<RedisListener>();
  readonly #clients = new Set<RedisSocket>();
  #connecting: Promise<PubSub> | undefined;

  /** `ioredis` is the namespace the plugin loader imported (or `await import('ioredis')`). */
  constructor(ioredis: unknown, options: Partial<RedisTransportOptions> & { maxMessageSize: number; dialTimeoutMs: number }, logger: Logger) {
    this.#options = { ...REDIS_TRANSPORT_DEFAULTS, ...options };
    this.maxMessageSize = options.maxMessageSize;
    this.#Redis = redisClass(ioredis);
    this.#logger = logger;
  }

  async listen(address: string): Promise<Listener> {
    const pubsub = await this.#connect().catch((error: Error) => {
      throw new TransportError('listen', `redis transport: ${error.message}`, { cause: error });
    });
    const channel = looksLikeHostPort(address) ? `${this.#options.prefix}${uniqueId()}` : address.trim();
    const listener = new RedisListener(channel, {
      pubsub,
      session: `${channel}:session:${uniqueId()}`,
      logger: this.#logger,
      idleTimeoutMs: this.#options.idleTimeoutMs,
      maxMessageSize: () => this.maxMessageSize,
      onClosed: (closed) => this.#listeners.delete(closed),
    });
    try {
      await pubsub.subscribe(listener.address, (envelope) => listener.onOpen(envelope));
      await pubsub.subscribe(listener.session, (envelope) => listener.onSession(envelope));
    } catch (error) {
      await pubsub.unsubscribe(listener.address);
      throw new TransportError('listen', `redis transport: cannot listen on ${channel}: ${(error as Error).message}`, { cause: error });
    }
    this.#listeners.add(listener);
    return listener;
  }

  async dial(address: string, options: DialOptions = {}): Promise<Socket> {
    const pubsub = await this.#connect().catch((error: Error) => {
      throw new TransportError('dial', `redis transport: ${error.message}`, { cause: error });
    });
    const inbox = `${this.#options.prefix}inbox:${uniqueId()}`;
    let session = '';
    let accepted: ((envelope: Envelope) => void) | undefined;
    const socket = new RedisSocket(inbox, address, {
      publish: (frames, bytes) => pubsub.publishFrames(session, inbox, frames, bytes),
      sendClose: () => pubsub.control(session, Kind.close, inbox),
      detach: () => {
        this.#clients.delete(socket);
        void pubsub.unsubscribe(inbox);
      },
    }, () => this.maxMessageSize);
    await pubsub.subscribe(inbox, (envelope) => {
      if (accepted) return accepted(envelope);
      // A second listener sharing the address accepted too: tell it to let go.
      if (envelope.kind === Kind.accept) return pubsub.control(envelope.from, Kind.close, inbox);
      if (envelope.kind === Kind.close) return socket.peerClosed();
      for (const message of envelope.messages) socket.deliver(message);
    });
    try {
      session = await this.#open(pubsub, address, inbox, options.timeoutMs ?? this.#options.dialTimeoutMs, (handler) => (accepted = handler));
    } catch (error) {
      await pubsub.unsubscribe(inbox);
      throw new TransportError('dial', `redis transport: cannot connect to ${address}: ${(error as Error).message}`, { cause: error });
    } finally {
      accepted = undefined;
    }
    this.#clients.add(socket);
    return socket;
  }

  /** Sends `open` and waits for `accept` (the listener's session channel) or `refuse`. */
  async #open(pubsub: PubSub, address: string, inbox: string, timeoutMs: number, route: (handler: (envelope: Envelope) => void) => void): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const answer = new Promise<string>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      route((envelope) => {
        if (envelope.kind === Kind.accept && envelope.from !== '') resolve(envelope.from);
        else if (envelope.kind === Kind.refuse) reject(new Error('the listener refused the connection'));
      });
    });
    try {
      const receivers = await pubsub.controlCounted(address, Kind.open, inbox);
      if (receivers === 0) throw new Error('nobody listens there');
      return await answer;
    } finally {
      clearTimeout(timer);
      answer.catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clients].map((socket) => socket.close()));
    await Promise.all([...this.#listeners].map((listener) => listener.destroy()));
    this.#listeners.clear();
    const connecting = this.#connecting;
    this.#connecting = undefined;
    const pubsub = await connecting?.catch(() => undefined);
    if (!pubsub) return;
    pubsub.close();
    await Promise.all([pubsub.commands.close(), pubsub.subscriber.close()]);
  }

  #connect(): Promise<PubSub> {
    this.#connecting ??= (async () => {
      const target = parseTarget(this.#options.address);
      const timeout = this.#options.commandTimeoutMs;
      const commands = new RedisConnection(this.#Redis, target, { name: 'tsmicro-transport', commandTimeoutMs: timeout }, this.#logger);
      // PUBLISH gets no per-command timer (ioredis reads this option per command): a timer per message was a
      // tenth of the CPU of a call, and the RPC layer's deadline already bounds every call. Batching is PubSub's.
      commands.client.options.commandTimeout = undefined;
      const subscriber = commands.sibling(this.#Redis, { name: 'tsmicro-transport-sub', commandTimeoutMs: timeout });
      // Replies published while the subscriber was away are lost: client sockets fail at once, and the RPC layer
      // retries where that is safe. Accepted sockets stay: their clients decide.
      subscriber.client.on('close', () => this.#failClients());
      try {
        await Promise.all([commands.ready(), subscriber.ready()]);
      } catch (error) {
        await Promise.all([commands.close(), subscriber.close()]);
        throw error;
      }
      return new PubSub(commands, subscriber, () => this.maxMessageSize, this.#logger);
    })().catch((error: unknown) => {
      this.#connecting = undefined;
      throw error;
    });
    return this.#connecting;
  }

  #failClients(): void {
    const reason = new TransportError('closed', 'the Redis connection was lost');
    for (const socket of [...this.#clients]) socket.peerClosed(reason);
  }
}
