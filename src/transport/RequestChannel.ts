import { MicroError, parseWireError } from '../errors.js';
import { Headers } from './headers.js';
import type { Message, Socket } from './Transport.js';
import { TransportError } from './Transport.js';

interface Pending {
  resolve(message: Message): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Many requests in flight on one socket: each request gets an id, and replies are matched to it whatever order
 * they come back in. A reply carrying `micro-error` rejects with the MicroError it holds.
 */
export class RequestChannel {
  readonly #socket: Socket;
  readonly #pending = new Map<string, Pending>();
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
  request(message: Message, timeoutMs: number, errorId: string, what = `request to ${this.address}`): Promise<Message> {
    if (this.#closed) return Promise.reject(MicroError.unavailable(errorId, `connection to ${this.address} is closed`, true));
    const id = String(this.#nextId++);
    message.headers[Headers.id] = id;
    this.lastUsed = Date.now();
    return new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(MicroError.timeout(errorId, `${what} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      try {
        this.#socket.send(message);
      } catch (error) {
        clearTimeout(timer);
        this.#pending.delete(id);
        const transportError = error as TransportError;
        if (transportError.kind === 'too_large') reject(MicroError.tooLarge(errorId, transportError.message));
        else reject(new MicroError(errorId, 503, `cannot send to ${this.address}: ${transportError.message}`, { notDelivered: true, cause: error }));
      }
    });
  }

  close(): Promise<void> {
    return this.#socket.close();
  }

  #onReply(message: Message): void {
    const id = message.headers[Headers.id];
    const pending = id === undefined ? undefined : this.#pending.get(id);
    if (!pending) {
      // A reply without an id is the server refusing the connection as a whole (e.g. a bad frame).
      if (id === undefined && message.headers[Headers.error]) this.#closeReason = parseWireError(message.headers[Headers.error], 'tsmicro.transport');
      return;
    }
    this.#pending.delete(id!);
    clearTimeout(pending.timer);
    const error = message.headers[Headers.error];
    if (error !== undefined) pending.reject(parseWireError(error, this.address, message.headers[Headers.unhandled] === 'true'));
    else pending.resolve(message);
  }

  #onClosed(error?: Error): void {
    this.#closed = true;
    const reason = this.#closeReason?.detail ?? error?.message ?? 'closed by peer';
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new MicroError('tsmicro.client', 502, `connection to ${this.address} was lost before the reply: ${reason}`, { cause: error }));
    }
    this.#pending.clear();
    this.onClose(this);
  }
}
