import { TransportError, type Message, type Socket, type SocketHandlers } from '../../src/index.js';
import { SocketInbox } from '../../src/pluginKit.js';
import { frameBuffer } from '../../src/transport/framing.js';
import { OutgoingFrames } from '../shared/transport/OutgoingFrames.js';

/** How one end of a virtual socket reaches its peer: a PUBLISH to the peer's channel. */
export interface SocketWire {
  /** Publishes whole frames (`bytes` in all) as one message; resolves with how many subscribers received it. */
  publish(frames: readonly Buffer[], bytes: number): Promise<number>;
  /** Tells the peer this end closed (best effort). */
  sendClose(): void;
  /** Gives up what the socket holds: its inbox subscription, or its place in the listener. */
  detach(): void;
}

/**
 * One end of a virtual connection over Redis pub/sub: a client's inbox channel paired with a listener's session
 * channel. Redis delivers one connection's PUBLISHes in order, so each socket keeps its order. The messages sent
 * in one turn travel as one PUBLISH (OutgoingFrames): with many calls in flight, Redis and both client libraries
 * handle one message per batch instead of one per call. A PUBLISH that reached nobody means the peer has gone
 * (its process died without a word): the socket closes.
 */
export class RedisSocket implements Socket {
  readonly #inbox = new SocketInbox();
  readonly #outgoing: OutgoingFrames;
  /** Last message in or out, for the listener's idle sweep. */
  lastActivity = Date.now();

  constructor(
    readonly local: string,
    readonly remote: string,
    private readonly wire: SocketWire,
    /** The transport's largest message: of one frame, and of a batch. */
    private readonly maxSize: () => number,
  ) {
    this.#outgoing = new OutgoingFrames(
      (frames, bytes) => this.#publish(frames, bytes),
      (error) => this.peerClosed(new TransportError('closed', `redis transport: cannot send to ${remote}: ${error.message}`, { cause: error })),
    );
  }

  get closed(): boolean {
    return this.#inbox.ended;
  }

  receive(handlers: SocketHandlers): void {
    this.#inbox.receive(handlers);
  }

  send(message: Message): void {
    if (this.#inbox.ended) throw new TransportError('closed', `redis connection to ${this.remote} is closed`);
    const limit = this.maxSize();
    // Throws TransportError `too_large` before anything is queued: the socket keeps working.
    this.#outgoing.add(frameBuffer(message, limit), limit);
    this.lastActivity = Date.now();
  }

  #publish(frames: readonly Buffer[], bytes: number): void {
    this.wire.publish(frames, bytes).then(
      (receivers) => {
        if (receivers === 0) this.peerClosed(new TransportError('closed', `nobody listens on ${this.remote} any more`));
      },
      (error: Error) => this.peerClosed(new TransportError('closed', `redis transport: cannot send to ${this.remote}: ${error.message}`, { cause: error })),
    );
  }

  async close(): Promise<void> {
    if (this.#inbox.ended) return;
    // What was sent before the close reaches the peer before the close does.
    this.#outgoing.flush();
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
    this.#outgoing.discard();
    this.wire.detach();
  }
}
