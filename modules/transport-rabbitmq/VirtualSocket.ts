import { TransportError, type Message, type Socket, type SocketHandlers } from '../../src/index.js';
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
  #handlers: SocketHandlers | undefined;
  #early: Message[] = [];
  #closed = false;
  #closeError: Error | undefined;
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
    return this.#closed;
  }

  receive(handlers: SocketHandlers): void {
    if (this.#handlers) throw new Error('receive() was already called on this socket');
    this.#handlers = handlers;
    for (const message of this.#early.splice(0)) handlers.message(message);
    if (this.#closed) handlers.close(this.#closeError);
  }

  send(message: Message): void {
    if (this.#closed) throw new TransportError('closed', `connection to ${this.remote} is closed`);
    const size = messageSize(message);
    if (size > this.maxSize) throw tooLarge(size, this.maxSize);
    this.sink.send(message);
    this.lastActivity = Date.now();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.sink.sendClose();
    this.end();
  }

  /** A message from the peer. */
  deliver(message: Message): void {
    if (this.#closed) return;
    this.lastActivity = Date.now();
    if (this.#handlers) this.#handlers.message(message);
    else this.#early.push(message);
  }

  /** Closes this end without telling the peer (it closed, or cannot be reached any more). */
  end(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = error;
    this.onEnd();
    this.#handlers?.close(error);
  }
}
