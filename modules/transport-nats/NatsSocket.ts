import type { MsgHdrs } from '@nats-io/transport-node';
import { TransportError, type Message, type Socket, type SocketHandlers } from '../../src/index.js';
import type { NatsModule } from '../shared/nats/natsConnection.js';
import { encodeData } from './dataWire.js';
import { frameBuffer } from '../../src/transport/framing.js';
import { OutgoingFrames } from '../shared/transport/OutgoingFrames.js';

/** How one end of a virtual socket reaches its peer over NATS. */
export interface SocketWire {
  /** Publishes one payload to the peer; throws when the connection cannot take it. */
  publish(payload: Uint8Array, headers: MsgHdrs | undefined): void;
  /** Tells the peer this end closed (best effort). */
  sendClose(): void;
  /** Gives up what the socket holds: its inbox subscription, or its place in the listener. */
  detach(): void;
}

/**
 * One end of a virtual connection over NATS: a client's inbox paired with a listener's session subject.
 * Messages keep their order because NATS keeps the order of one publisher's messages on one subject.
 */
export class NatsSocket implements Socket {
  #handlers: SocketHandlers | undefined;
  #early: Message[] = [];
  #closed = false;
  #closeError: Error | undefined;
  /** `frame` form: this turn's frames, published together. */
  readonly #outgoing: OutgoingFrames;
  /** Last message in or out, for the listener's idle sweep. */
  lastActivity = Date.now();

  constructor(
    readonly local: string,
    readonly remote: string,
    private readonly nats: NatsModule,
    private readonly maxMessageSize: () => number,
    /** Data travels as binary frames (both ends agreed at open), else as NATS headers (dataWire.ts). */
    readonly framed: boolean,
    private readonly wire: SocketWire,
  ) {
    this.#outgoing = new OutgoingFrames(
      (frames, bytes) => wire.publish(frames.length === 1 ? frames[0]! : Buffer.concat(frames, bytes), undefined),
      (error) => this.peerClosed(new TransportError('closed', `nats transport: cannot send to ${remote}: ${error.message}`, { cause: error })),
    );
  }

  get closed(): boolean {
    return this.#closed;
  }

  receive(handlers: SocketHandlers): void {
    if (this.#handlers) throw new Error('receive() was already called on this socket');
    this.#handlers = handlers;
    for (const message of this.#early.splice(0)) handlers.message(message);
    if (this.#closed) handlers.close(this.#closeError);
  }

  send(message: Message): void {
    if (this.#closed) throw new TransportError('closed', `nats connection to ${this.remote} is closed`);
    const limit = this.maxMessageSize();
    if (this.framed) {
      // Throws TransportError `too_large` before anything is queued: the socket keeps working.
      this.#outgoing.add(frameBuffer(message, limit), limit);
      this.lastActivity = Date.now();
      return;
    }
    const { payload, headers } = encodeData(this.nats, message, false, limit);
    try {
      this.wire.publish(payload, headers);
    } catch (error) {
      const failure = new TransportError('closed', `nats transport: cannot send to ${this.remote}: ${(error as Error).message}`, { cause: error });
      this.peerClosed(failure);
      throw failure;
    }
    this.lastActivity = Date.now();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // What was sent before closing reaches the peer before the close does.
    this.#outgoing.flush();
    try {
      this.wire.sendClose();
    } catch {
      // The peer learns some other way (no responders, idle sweep): closing here is what matters.
    }
    this.wire.detach();
    this.#handlers?.close();
  }

  /** A message from the peer. */
  deliver(message: Message): void {
    if (this.#closed) return;
    this.lastActivity = Date.now();
    if (this.#handlers) this.#handlers.message(message);
    else this.#early.push(message);
  }

  /** The peer closed, or the connection under the socket went away (`error` says why). */
  peerClosed(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = error;
    this.#outgoing.discard();
    this.wire.detach();
    this.#handlers?.close(error);
  }
}
