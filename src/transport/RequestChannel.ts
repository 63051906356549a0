import { MicroError, parseWireError } from '../errors.js';
import { Headers } from './headers.js';
import { PendingRequests, type PendingRequest } from './PendingRequests.js';
import type { Message, Socket } from './Transport.js';
import { TransportError } from './Transport.js';

/**
 * Many requests in flight on one socket: each request gets an id, and replies are matched to it whatever order
 * they come back in. A reply carrying `micro-error` rejects with the MicroError it holds.
 */
export class RequestChannel {
  readonly #socket: Socket;
  readonly #pending = new PendingRequests<Message>();
  #nextId = 1;
  #closed = false;
  #closeReason: MicroError | undefined;
  lastUsed = Date.now();

  constructor(
    socket: Socket,
    readonly address: string,
    private readonly onClose: (channel: RequestChannel) => void,
  ) {
    this.#socket = socket;
    socket.receive({
      message: (message) => this.#onReply(message),
      close: (error) => this.#onClosed(error),
    });
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends `message` and waits for its reply. Rejects with MicroError 408 after `timeoutMs`, with a MicroError
   * 503 marked not-delivered when the message could not be sent, and with 502 when the connection dropped after
   * sending (the request may or may not have run).
   */
  request(message: Message, timeoutMs: number, errorId: string, what: string | (() => string) = `request to ${this.address}`): Promise<Message> {
    return new Promise<Message>((resolve, reject) => {
      // `what` is only put into words when the request fails, so a call that succeeds builds no message.
      const timedOut = (): Error => MicroError.timeout(errorId, `${typeof what === 'string' ? what : what()} timed out after ${timeoutMs} ms`);
      this.send(message, { resolve, reject, deadline: Date.now() + timeoutMs, timedOut }, errorId);
    });
  }

  /**
   * request() for a caller that is its own pending entry (see ClientCall): `pending` is settled exactly once,
   * with the reply or with the errors request() describes — synchronously when the message cannot be sent.
   */
  send(message: Message, pending: PendingRequest<Message>, errorId: string): void {
    if (this.#closed) {
      pending.reject(MicroError.unavailable(errorId, `connection to ${this.address} is closed`, true));
      return;
    }
    const id = String(this.#nextId++);
    message.headers[Headers.id] = id;
    this.lastUsed = Date.now();
    this.#pending.add(id, pending);
    try {
      this.#socket.send(message);
    } catch (error) {
      this.#pending.take(id);
      const transportError = error as TransportError;
      if (transportError.kind === 'too_large') pending.reject(MicroError.tooLarge(errorId, transportError.message));
      else pending.reject(new MicroError(errorId, 503, `cannot send to ${this.address}: ${transportError.message}`, { notDelivered: true, cause: error }));
    }
  }

  close(): Promise<void> {
    return this.#socket.close();
  }

  #onReply(message: Message): void {
    const id = message.headers[Headers.id];
    const pending = id === undefined ? undefined : this.#pending.take(id);
    if (!pending) {
      // A reply without an id is the server refusing the connection as a whole (e.g. a bad frame).
      if (id === undefined && message.headers[Headers.error]) this.#closeReason = parseWireError(message.headers[Headers.error], 'tsmicro.transport');
      return;
    }
    const error = message.headers[Headers.error];
    if (error !== undefined) pending.reject(parseWireError(error, this.address, message.headers[Headers.unhandled] === 'true'));
    else pending.resolve(message);
  }

  #onClosed(error?: Error): void {
    this.#closed = true;
    const reason = this.#closeReason?.detail ?? error?.message ?? 'closed by peer';
    for (const pending of this.#pending.takeAll()) {
      pending.reject(new MicroError('tsmicro.client', 502, `connection to ${this.address} was lost before the reply: ${reason}`, { cause: error }));
    }
    this.onClose(this);
  }
}
