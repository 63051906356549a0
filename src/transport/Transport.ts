/**
 * Point-to-point messaging between a client and a server. A listener accepts sockets; a client dials one.
 * Messages are headers plus an opaque body; what the body means is the codec's business. A socket carries
 * many requests at once: the RPC layer matches replies to requests by the `micro-id` header, so transports
 * need not know about requests at all.
 */
export interface Message {
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface SocketHandlers {
  /** Called for each message, in the order the peer sent them. */
  message(message: Message): void;
  /** Called once when the socket is closed by either side; `error` says why when it was not a clean close. */
  close(error?: Error): void;
}

export interface Socket {
  /** This end's address, for logs. */
  readonly local: string;
  /** The peer's address, for logs and the `remote` metadata a handler sees. */
  readonly remote: string;
  /** Starts delivering messages to `handlers`. Call once; messages that arrive earlier are buffered. */
  receive(handlers: SocketHandlers): void;
  /**
   * Queues a message. Throws TransportError `closed` on a closed socket and `too_large` when the encoded
   * message is over the transport's limit; other failures close the socket and reach `close(error)`.
   */
  send(message: Message): void;
  close(): Promise<void>;
}

export interface Listener {
  /** The address clients dial, with the real port when 0 was asked for. */
  readonly address: string;
  /** Hands every accepted socket to `handler`. */
  accept(handler: (socket: Socket) => void): void;
  /** Stops accepting; sockets already accepted stay open until their owners close them. */
  close(): Promise<void>;
}

export interface DialOptions {
  timeoutMs?: number;
}

export interface Transport {
  /** The plugin name, e.g. `tcp`, `memory`, `nats`. */
  readonly name: string;
  /** The largest message, headers included, that a socket sends or accepts. */
  readonly maxMessageSize: number;
  listen(address: string): Promise<Listener>;
  dial(address: string, options?: DialOptions): Promise<Socket>;
  close(): Promise<void>;
}

export type TransportErrorKind = 'dial' | 'closed' | 'too_large' | 'malformed' | 'listen';

/** Why a transport operation failed; `dial` means the peer never got the message, which makes a retry safe. */
export class TransportError extends Error {
  constructor(
    readonly kind: TransportErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}
