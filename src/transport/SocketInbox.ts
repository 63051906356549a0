import type { Message, SocketHandlers } from './Transport.js';

/**
 * The receiving half every socket implementation shares. A socket may get messages (or be closed) before its
 * owner calls receive(): those are held and handed over then. The end of the socket is reported exactly once,
 * and nothing is delivered after it.
 */
export class SocketInbox {
  #handlers: SocketHandlers | undefined;
  #early: Message[] = [];
  #ended = false;
  #error: Error | undefined;

  get ended(): boolean {
    return this.#ended;
  }

  /** Why the socket ended, if it ended with an error. */
  get error(): Error | undefined {
    return this.#error;
  }

  receive(handlers: SocketHandlers): void {
    if (this.#handlers) throw new Error('receive() was already called on this socket');
    this.#handlers = handlers;
    const early = this.#early;
    this.#early = [];
    for (const message of early) handlers.message(message);
    if (this.#ended) handlers.close(this.#error);
  }

  /** A message from the peer; dropped once the socket has ended. */
  deliver(message: Message): void {
    if (this.#ended) return;
    if (this.#handlers) this.#handlers.message(message);
    else this.#early.push(message);
  }

  /** Ends the socket: reports `error` (or a clean close) to the owner. Returns false if it had already ended. */
  end(error?: Error): boolean {
    if (this.#ended) return false;
    this.#ended = true;
    this.#error = error;
    this.#handlers?.close(error);
    return true;
  }
}
