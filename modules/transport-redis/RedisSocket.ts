import { TransportError, type Message, type Socket, type SocketHandlers } from '../../src/index.js';
import { SocketInbox } from '../../src/pluginKit.js';

/** How one end of a virtual socket reaches its peer: a PUBLISH to the peer's channel. */
export interface SocketWire {
  /** Publishes `message`; resolves with how many subscribers received it. Throws synchronously when too large. */
  publish(message: Message): Promise<number>;
  /** Tells the peer this end closed (best effort). */
  sendClose(): void;
  /** Gives up what the socket holds: its inbox subscription, or its place in the listener. */
  detach(): void;
}

/**
 * One end of a virtual connection over Redis pub/sub: a client's inbox channel paired with a listener's session
 * channel. Redis delivers one connection's PUBLISHes in order, so each socket keeps its order. A PUBLISH that
 * reached nobody means the peer has gone (its process died without a word): the socket closes.
 */
export class RedisSocket implements Socket {
  readonly #inbox = new SocketInbox();
  /** Last message in or out, for the listener's idle sweep. */
  lastActivity = Date.now();

  constructor(
    readonly local: string,
    readonly remote: string,
    private readonly wire: SocketWire,
  ) {}

  get closed(): boolean {
    return this.#inbox.ended;
  }

  receive(handlers: SocketHandlers): void {
    this.#inbox.receive(handlers);
  }

  send(message: Message): void {
    if (this.#inbox.ended) throw new TransportError('closed', `redis connection to ${this.remote} is closed`);
    this.wire.publish(message).then(
      (receivers) => {
        if (receivers === 0) this.peerClosed(new TransportError('closed', `nobody listens on ${this.remote} any more`));
      },
      (error: Error) => this.peerClosed(new TransportError('closed', `redis transport: cannot send to ${this.remote}: ${error.message}`, { cause: error })),
    );
    this.lastActivity = Date.now();
  }

  async close(): Promise<void> {
    if (!this.#inbox.end()) return;
    try {
      this.wire.sendClose();
    } catch {
      // The peer learns some other way (its next PUBLISH reaches nobody, or the idle sweep): closing is what matters.
    }
    this.wire.detach();
  }

  /** A message from the peer. */
  deliver(message: Message): void {
    this.lastActivity = Date.now();
    this.#inbox.deliver(message);
  }

  /** The peer closed, or the connection under the socket went away (`error` says why). */
  peerClosed(error?: Error): void {
    if (!this.#inbox.end(error)) return;
    this.wire.detach();
  }
}
