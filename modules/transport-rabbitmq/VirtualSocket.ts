import { TransportError, type Message, type Socket, type SocketHandlers } from '../../src/index.js';
import { SocketInbox } from '../../src/pluginKit.js';
import { messageSize, tooLarge } from './wire.js';

/** How a virtual socket reaches the wire: sending a message, and telling the peer it closed. */
export interface SocketSink {
  send(message: Message): void;
  /** Best effort: the peer also learns of the close when its side of the connection goes. */
  sendClose(): void;
}

/**
 * One end of a conversation over RabbitMQ: many such sockets share one AMQP channel, told apart by their id.
 * Messages that arrive before receive() is called are buffered; ending (the peer closed, or the connection went)
 * is reported once.
 */
export class VirtualSocket implements Socket {
  readonly #inbox = new SocketInbox();
  /** Last message in either direction; an idle server socket is most likely a client that died. */
  lastActivity = Date.now();

  constructor(
    readonly local: string,
    readonly remote: string,
    private readonly sink: SocketSink,
    private readonly maxSize: number,
    private readonly onEnd: () => void,
  ) {}

  get closed(): boolean {
    return this.#inbox.ended;
  }

  receive(handlers: SocketHandlers): void {
    this.#inbox.receive(handlers);
  }

  send(message: Message): void {
    if (this.#inbox.ended) throw new TransportError('closed', `connection to ${this.remote} is closed`);
    const size = messageSize(message);
    if (size > this.maxSize) throw tooLarge(size, this.maxSize);
    this.sink.send(message);
    this.lastActivity = Date.now();
  }

  async close(): Promise<void> {
    if (this.#inbox.ended) return;
    this.sink.sendClose();
    this.end();
  }

  /** A message from the peer. */
  deliver(message: Message): void {
    this.lastActivity = Date.now();
    this.#inbox.deliver(message);
  }

  /** Closes this end without telling the peer (it closed, or cannot be reached any more). */
  end(error?: Error): void {
    if (this.#inbox.ended) return;
    // The owner's bookkeeping first, so a close handler that dials again finds this socket gone.
    this.onEnd();
    this.#inbox.end(error);
  }
}
