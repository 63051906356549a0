import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { Headers, MicroError, type Listener, type Logger, type Message, type Socket } from '../../src/index.js';
import { decodeFrame } from '../../src/transport/framing.js';
import type { NatsModule } from '../shared/nats/natsConnection.js';
import { decodeHeaders, errorReply, frameRequestId, headersRequestId, isFramed, receivedSize, splitFrames } from './dataWire.js';
import { NatsSocket } from './NatsSocket.js';
import { Control, controlHeaders, controlOf, FRAME_WIRE, INBOX_HEADER, SESSION_HEADER, WIRE_HEADER } from './protocol.js';

export interface ListenerSettings {
  nats: NatsModule;
  connection: NatsConnection;
  logger: Logger;
  maxMessageSize: () => number;
  /** Accepted sockets with no traffic for this long are closed (their client may have died unannounced). */
  idleTimeoutMs: number;
  onClosed: (listener: NatsListener) => void;
}

const ERROR_ID = 'tsmicro.transport';

/**
 * Accepts virtual sockets: `open` requests on the address subject (a queue group), then each socket's messages
 * on this listener's own session subject, grouped by the client's inbox.
 */
export class NatsListener implements Listener {
  readonly #settings: ListenerSettings;
  readonly #session: string;
  readonly #sockets = new Map<string, NatsSocket>();
  readonly #addressSubscription: Subscription;
  readonly #sessionSubscription: Subscription;
  readonly #sweep: NodeJS.Timeout;
  #handler: ((socket: Socket) => void) | undefined;
  #closed = false;

  constructor(
    readonly address: string,
    settings: ListenerSettings,
  ) {
    this.#settings = settings;
    const { nats, connection } = settings;
    this.#session = nats.createInbox();
    this.#sessionSubscription = connection.subscribe(this.#session, { callback: (error, message) => this.#guard(error, message, (received) => this.#onSession(received)) });
    this.#addressSubscription = connection.subscribe(address, { queue: address, callback: (error, message) => this.#guard(error, message, (received) => this.#onOpen(received)) });
    this.#sweep = setInterval(() => this.#closeIdle(), Math.min(60_000, Math.max(1000, settings.idleTimeoutMs / 2)));
    this.#sweep.unref();
  }

  get sockets(): number {
    return this.#sockets.size;
  }

  accept(handler: (socket: Socket) => void): void {
    this.#handler = handler;
  }

  /** Stops accepting; the sockets already accepted keep working until their owners close them. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#addressSubscription.unsubscribe();
    this.#releaseWhenIdle();
  }

  /** Closes every socket too (the transport is closing). */
  async destroy(): Promise<void> {
    await this.close();
    await Promise.all([...this.#sockets.values()].map((socket) => socket.close()));
  }

  /** Whatever arrives, and whatever the socket's owner does with it, must not break the subscription. */
  #guard(error: Error | null, message: Msg, handle: (message: Msg) => void): void {
    if (error) {
      this.#settings.logger.error('nats transport: listener subscription failed', { address: this.address, error: error.message });
      return;
    }
    try {
      handle(message);
    } catch (failure) {
      this.#settings.logger.error('nats transport: handling a message failed', { address: this.address, error: (failure as Error).message });
    }
  }

  #onOpen(message: Msg): void {
    if (controlOf(message) !== Control.open || !message.reply) {
      this.#settings.logger.warn('nats transport: ignored a message on a listener address that is not an open request', { address: this.address });
      return;
    }
    const inbox = message.headers?.get(INBOX_HEADER) ?? '';
    const { nats, connection } = this.#settings;
    if (this.#closed || !this.#handler || !/^\S+$/.test(inbox)) {
      message.respond(undefined, { headers: controlHeaders(nats, Control.refuse) });
      return;
    }
    this.#sockets.get(inbox)?.peerClosed();
    // Frames when the client offers them; a client that does not (an older tsmicro) keeps NATS headers.
    const framed = message.headers?.get(WIRE_HEADER) === FRAME_WIRE;
    const socket = new NatsSocket(this.address, inbox, nats, this.#settings.maxMessageSize, framed, {
      publish: (body, headers) => connection.publish(inbox, body, { headers }),
      sendClose: () => connection.publish(inbox, undefined, { headers: controlHeaders(nats, Control.close) }),
      detach: () => this.#forget(inbox, socket),
    });
    this.#sockets.set(inbox, socket);
    this.#handler(socket);
    message.respond(undefined, { headers: controlHeaders(nats, Control.accept, framed ? { [SESSION_HEADER]: this.#session, [WIRE_HEADER]: FRAME_WIRE } : { [SESSION_HEADER]: this.#session }) });
  }

  #onSession(message: Msg): void {
    const inbox = message.reply;
    if (!inbox) {
      this.#settings.logger.warn('nats transport: dropped a message without a reply subject', { address: this.address });
      return;
    }
    const socket = this.#sockets.get(inbox);
    if (controlOf(message) === Control.close) return socket?.peerClosed();
    // A socket this listener no longer knows: read the message in the form it came in.
    if (isFramed(message, socket?.framed ?? true)) return this.#onFrames(message, inbox, socket);
    if (!socket) return this.#refuseStale(inbox, [headersRequestId(message)], false);
    const size = receivedSize(message);
    if (size > this.#settings.maxMessageSize()) {
      const id = headersRequestId(message);
      if (id) this.#answer(inbox, id, MicroError.tooLarge(ERROR_ID, `message of ${size} bytes is over the transport limit of ${this.#settings.maxMessageSize()} bytes`), false, false);
      return;
    }
    let decoded: Message;
    try {
      decoded = decodeHeaders(message);
    } catch (error) {
      this.#settings.logger.warn('nats transport: dropped a message with malformed headers', { address: this.address, remote: inbox, error: (error as Error).message });
      // A broken encoded header still leaves the plain id header to answer.
      const id = message.headers?.get(Headers.id) || undefined;
      if (id) this.#answer(inbox, id, MicroError.badRequest(ERROR_ID, `malformed headers: ${(error as Error).message}`), false, false);
      return;
    }
    socket.deliver(decoded);
  }

  /** One or more frames (one turn of the client's requests on this socket), each checked and delivered in order. */
  #onFrames(message: Msg, inbox: string, socket: NatsSocket | undefined): void {
    const { frames, error } = splitFrames(message);
    if (error) this.#dropped(inbox, error);
    if (!socket) return this.#refuseStale(inbox, frames.map(frameRequestId), true);
    const limit = this.#settings.maxMessageSize();
    for (const frame of frames) {
      if (frame.length > limit) {
        const id = frameRequestId(frame);
        if (id) this.#answer(inbox, id, MicroError.tooLarge(ERROR_ID, `message of ${frame.length} bytes is over the transport limit of ${limit} bytes`), false, true);
        continue;
      }
      let decoded: Message;
      try {
        decoded = decodeFrame(frame);
      } catch (failure) {
        // A broken frame names no request it could be answered for.
        this.#dropped(inbox, failure as Error);
        continue;
      }
      // One request's failure must not cost the others of its batch their turn.
      this.#guard(null, message, () => socket.deliver(decoded));
    }
  }

  #dropped(inbox: string, error: Error): void {
    this.#settings.logger.warn('nats transport: dropped a malformed frame', { address: this.address, remote: inbox, error: error.message });
  }

  /**
   * Messages for a socket this listener no longer has (closed idle, or a listener restarted on the subject): the
   * requests never reached a handler, so they are refused as unhandled and the client's socket is told to close.
   */
  #refuseStale(inbox: string, ids: (string | undefined)[], framed: boolean): void {
    for (const id of ids) if (id) this.#answer(inbox, id, MicroError.unavailable(ERROR_ID, `connection to ${this.address} is closed`), true, framed);
    try {
      this.#settings.connection.publish(inbox, undefined, { headers: controlHeaders(this.#settings.nats, Control.close) });
    } catch {
      // The connection is going away; the client will notice by itself.
    }
  }

  #answer(inbox: string, id: string, error: MicroError, unhandled: boolean, framed: boolean): void {
    try {
      const { payload, headers } = errorReply(this.#settings.nats, id, error, unhandled, framed);
      this.#settings.connection.publish(inbox, payload, { headers });
    } catch {
      // Best effort: the caller times out otherwise.
    }
  }

  #forget(inbox: string, socket: NatsSocket): void {
    if (this.#sockets.get(inbox) === socket) this.#sockets.delete(inbox);
    this.#releaseWhenIdle();
  }

  /** The session subject lives while accepted sockets remain, so a closed listener can finish its work. */
  #releaseWhenIdle(): void {
    if (!this.#closed || this.#sockets.size > 0 || this.#sessionSubscription.isClosed()) return;
    this.#sessionSubscription.unsubscribe();
    clearInterval(this.#sweep);
    this.#settings.onClosed(this);
  }

  #closeIdle(): void {
    const cutoff = Date.now() - this.#settings.idleTimeoutMs;
    for (const socket of [...this.#sockets.values()]) if (socket.lastActivity < cutoff) void socket.close();
  }
}
