import { Headers, MicroError, type Listener, type Logger, type Message, type Socket } from '../../src/index.js';
import { Kind, type Envelope } from './envelope.js';
import type { PubSub } from './PubSub.js';
import { RedisSocket } from './RedisSocket.js';

export interface ListenerSettings {
  pubsub: PubSub;
  /** This listener's own channel for the messages of the sockets it accepted. */
  session: string;
  logger: Logger;
  idleTimeoutMs: number;
  /** The transport's largest message, for the sockets accepted. */
  maxMessageSize: () => number;
  onClosed: (listener: RedisListener) => void;
}

const ERROR_ID = 'tsmicro.transport';

/**
 * Accepts virtual sockets: `open` messages on the address channel, then each socket's messages on this
 * listener's session channel, told apart by the client's inbox. The address can close (no new sockets) while
 * the session channel lives on until the sockets already accepted are done, so a stopping server finishes its
 * calls in flight.
 */
export class RedisListener implements Listener {
  readonly #settings: ListenerSettings;
  readonly #sockets = new Map<string, RedisSocket>();
  readonly #sweep: NodeJS.Timeout;
  #handler: ((socket: Socket) => void) | undefined;
  #closed = false;
  #released = false;

  constructor(
    readonly address: string,
    settings: ListenerSettings,
  ) {
    this.#settings = settings;
    this.#sweep = setInterval(() => this.#closeIdle(), Math.min(60_000, Math.max(1000, settings.idleTimeoutMs / 2)));
    this.#sweep.unref();
  }

  get session(): string {
    return this.#settings.session;
  }

  get sockets(): number {
    return this.#sockets.size;
  }

  accept(handler: (socket: Socket) => void): void {
    this.#handler = handler;
  }

  /** Stops accepting: the address channel is unsubscribed, so a dial finds nobody. Accepted sockets keep working. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#settings.pubsub.unsubscribe(this.address);
    await this.#releaseWhenIdle();
  }

  /** Closes every socket too (the transport is closing). */
  async destroy(): Promise<void> {
    await this.close();
    await Promise.all([...this.#sockets.values()].map((socket) => socket.close()));
  }

  /** An `open` on the address channel. */
  onOpen(envelope: Envelope): void {
    const inbox = envelope.from;
    const { pubsub, session } = this.#settings;
    if (envelope.kind !== Kind.open || inbox === '') {
      this.#settings.logger.warn('redis transport: ignored a message on a listener address that is not an open request', { address: this.address });
      return;
    }
    if (this.#closed || !this.#handler) return pubsub.control(inbox, Kind.refuse, '');
    this.#sockets.get(inbox)?.peerClosed();
    const socket = new RedisSocket(this.address, inbox, {
      publish: (frames, bytes) => pubsub.publishFrames(inbox, '', frames, bytes),
      sendClose: () => pubsub.control(inbox, Kind.close, ''),
      detach: () => this.#forget(inbox, socket),
    }, this.#settings.maxMessageSize);
    this.#sockets.set(inbox, socket);
    this.#handler(socket);
    pubsub.control(inbox, Kind.accept, session);
  }

  /** A message on the session channel: data or close from one of the accepted sockets. */
  onSession(envelope: Envelope): void {
    const socket = this.#sockets.get(envelope.from);
    if (envelope.kind === Kind.close) return socket?.peerClosed();
    if (envelope.kind !== Kind.data) return;
    if (!socket) {
      for (const message of envelope.messages) this.#refuseStale(envelope.from, message);
      return;
    }
    for (const message of envelope.messages) socket.deliver(message);
  }

  /**
   * A message for a socket this listener no longer has (closed idle, or another listener's session): the request
   * never reached a handler, so it is refused as unhandled (a retry elsewhere is safe) and the client is told to close.
   */
  #refuseStale(inbox: string, message: Message): void {
    const { pubsub } = this.#settings;
    const id = message.headers[Headers.id];
    if (id !== undefined) {
      const error = MicroError.unavailable(ERROR_ID, `connection to ${this.address} is closed`);
      pubsub.publishData(inbox, '', { headers: { [Headers.id]: id, [Headers.error]: error.toWire(), [Headers.unhandled]: 'true' }, body: new Uint8Array(0) }).catch(() => undefined);
    }
    pubsub.control(inbox, Kind.close, '');
  }

  #forget(inbox: string, socket: RedisSocket): void {
    if (this.#sockets.get(inbox) === socket) this.#sockets.delete(inbox);
    void this.#releaseWhenIdle();
  }

  /** The session channel lives while accepted sockets remain, so a closed listener can finish its work. */
  async #releaseWhenIdle(): Promise<void> {
    if (!this.#closed || this.#sockets.size > 0 || this.#released) return;
    this.#released = true;
    clearInterval(this.#sweep);
    this.#settings.onClosed(this);
    await this.#settings.pubsub.unsubscribe(this.#settings.session);
  }

  #closeIdle(): void {
    const cutoff = Date.now() - this.#settings.idleTimeoutMs;
    for (const socket of [...this.#sockets.values()]) if (socket.lastActivity < cutoff) void socket.close();
  }
}
