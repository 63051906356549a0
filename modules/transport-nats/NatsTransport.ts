import type { Msg } from '@nats-io/transport-node';
import { TransportError, type DialOptions, type Listener, type Logger, type Message, type Socket, type Transport } from '../../src/index.js';
import type { LinkEvent, NatsConnector, NatsLink, NatsModule } from '../shared/nats/natsConnection.js';
import { decodeHeaders, isFramed, splitFrames } from './dataWire.js';
import { decodeFrame } from '../../src/transport/framing.js';
import { NatsListener } from './NatsListener.js';
import { NatsSocket } from './NatsSocket.js';
import { assertSubject, Control, controlHeaders, controlOf, FRAME_WIRE, INBOX_HEADER, isNoResponders, looksLikeHostPort, SESSION_HEADER, WIRE_HEADER } from './protocol.js';

export interface NatsTransportOptions {
  nats: NatsModule;
  connector: NatsConnector;
  logger: Logger;
  /** transport.maxMessageSize; the server's max_payload caps it once connected. */
  maxMessageSize: number;
  dialTimeoutMs: number;
  /** Listeners asked for a host:port (the server default) get `<subjectPrefix>.<unique id>`. */
  subjectPrefix: string;
  idleTimeoutMs: number;
}

/**
 * `transport: nats`: request/reply over NATS subjects. A listener's address is a subject; a dialled socket is a
 * virtual connection between the client's inbox and the listener, so the RPC layer above runs unchanged.
 */
export class NatsTransport implements Transport {
  readonly name = 'nats';
  readonly #options: NatsTransportOptions;
  readonly #listeners = new Set<NatsListener>();
  readonly #clients = new Set<NatsSocket>();
  #link: NatsLink | undefined;
  #unwatch: (() => void) | undefined;

  constructor(options: NatsTransportOptions) {
    this.#options = options;
  }

  get maxMessageSize(): number {
    return this.#link ? Math.min(this.#options.maxMessageSize, this.#link.maxPayload) : this.#options.maxMessageSize;
  }

  async listen(address: string): Promise<Listener> {
    const link = await this.#connect().catch((error: Error) => {
      throw new TransportError('listen', error.message, { cause: error });
    });
    const subject = looksLikeHostPort(address) ? `${this.#options.subjectPrefix}.${this.#options.nats.nuid.next()}` : address.trim();
    try {
      assertSubject(subject);
    } catch (error) {
      throw new TransportError('listen', (error as Error).message);
    }
    const listener = new NatsListener(subject, {
      nats: this.#options.nats,
      connection: link.connection,
      logger: this.#options.logger,
      maxMessageSize: () => this.maxMessageSize,
      idleTimeoutMs: this.#options.idleTimeoutMs,
      onClosed: (closed) => this.#listeners.delete(closed),
    });
    this.#listeners.add(listener);
    // Once the server has the subscriptions, a dial from anywhere finds the listener.
    await link.connection.flush();
    return listener;
  }

  async dial(address: string, options: DialOptions = {}): Promise<Socket> {
    const link = await this.#connect().catch((error: Error) => {
      throw new TransportError('dial', error.message, { cause: error });
    });
    const { nats, logger } = this.#options;
    const connection = link.connection;
    const inbox = nats.createInbox();
    const onReply = (target: NatsSocket, message: Msg): void => {
      try {
        this.#onReply(target, address, message);
      } catch (failure) {
        logger.error('nats transport: handling a reply failed', { address, error: (failure as Error).message });
      }
    };
    let socket: NatsSocket | undefined;
    // What the listener sends right after accepting arrives before its answer: kept until the socket exists.
    const early: Msg[] = [];
    const subscription = connection.subscribe(inbox, {
      callback: (error, message) => {
        if (error) return logger.error('nats transport: inbox subscription failed', { address, error: error.message });
        if (socket) onReply(socket, message);
        else early.push(message);
      },
    });
    try {
      const reply = await connection.request(address, undefined, {
        timeout: options.timeoutMs ?? this.#options.dialTimeoutMs,
        headers: controlHeaders(nats, Control.open, { [INBOX_HEADER]: inbox, [WIRE_HEADER]: FRAME_WIRE }),
      });
      const session = reply.headers?.get(SESSION_HEADER) ?? '';
      if (controlOf(reply) !== Control.accept || session === '') throw new Error('the listener refused the connection');
      // A listener that does not answer with frames (an older tsmicro) reads and writes NATS headers.
      const framed = reply.headers?.get(WIRE_HEADER) === FRAME_WIRE;
      const opened: NatsSocket = new NatsSocket(inbox, address, nats, () => this.maxMessageSize, framed, {
        publish: (payload, headers) => connection.publish(session, payload, { reply: inbox, headers }),
        sendClose: () => connection.publish(session, undefined, { reply: inbox, headers: controlHeaders(nats, Control.close) }),
        detach: () => {
          subscription.unsubscribe();
          this.#clients.delete(opened);
        },
      });
      socket = opened;
    } catch (error) {
      subscription.unsubscribe();
      throw new TransportError('dial', `nats transport: cannot connect to ${address}: ${(error as Error).message}`, { cause: error });
    }
    for (const message of early.splice(0)) onReply(socket, message);
    if (!socket.closed) this.#clients.add(socket);
    return socket;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clients].map((socket) => socket.close()));
    await Promise.all([...this.#listeners].map((listener) => listener.destroy()));
    this.#listeners.clear();
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#link = undefined;
    await this.#options.connector.release();
  }

  #onReply(socket: NatsSocket, address: string, message: Msg): void {
    if (message.headers !== undefined) {
      if (isNoResponders(message)) return socket.peerClosed(new TransportError('closed', `nobody listens on ${address} any more`));
      if (controlOf(message) === Control.close) return socket.peerClosed();
    }
    if (!isFramed(message, socket.framed)) {
      let decoded: Message;
      try {
        decoded = decodeHeaders(message);
      } catch (error) {
        this.#options.logger.warn('nats transport: dropped a reply with malformed headers', { address, error: (error as Error).message });
        return;
      }
      return socket.deliver(decoded);
    }
    // One or more frames: one turn of the listener's replies on this socket.
    const { frames, error } = splitFrames(message);
    for (const frame of frames) {
      let decoded: Message;
      try {
        decoded = decodeFrame(frame);
      } catch (failure) {
        this.#dropped(address, failure as Error);
        continue;
      }
      try {
        socket.deliver(decoded);
      } catch (failure) {
        // One reply's failure must not cost the others of its batch their turn.
        this.#options.logger.error('nats transport: handling a reply failed', { address, error: (failure as Error).message });
      }
    }
    if (error) this.#dropped(address, error);
  }

  #dropped(address: string, error: Error): void {
    this.#options.logger.warn('nats transport: dropped a reply with a malformed frame', { address, error: error.message });
  }

  async #connect(): Promise<NatsLink> {
    const link = await this.#options.connector.acquire();
    if (this.#link !== link) {
      this.#unwatch?.();
      this.#link = link;
      this.#unwatch = link.on((event) => this.#onLinkEvent(event));
    }
    return link;
  }

  /**
   * A client socket cannot trust replies sent while its connection was down (its inbox was not subscribed), so
   * it fails at once and the RPC layer retries where that is safe. Accepted sockets stay: their clients decide.
   */
  #onLinkEvent(event: LinkEvent): void {
    if (event === 'reconnect') return;
    const reason = new TransportError('closed', event === 'closed' ? 'the NATS connection was closed' : 'the NATS connection was lost');
    for (const socket of [...this.#clients]) socket.peerClosed(reason);
  }
}
