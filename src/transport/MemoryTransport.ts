import { SocketInbox } from './SocketInbox.js';
import type { DialOptions, Listener, Message, Socket, SocketHandlers, Transport } from './Transport.js';
import { TransportError } from './Transport.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from './TcpTransport.js';

/** The address space of in-memory transports: transports built on one network can dial each other. */
export class MemoryTransportNetwork {
  readonly listeners = new Map<string, MemoryListener>();
  #next = 1;

  allocate(address: string): string {
    if (address === '' || address.endsWith(':0')) return `memory:${this.#next++}`;
    if (this.listeners.has(address)) throw new TransportError('listen', `memory transport: ${address} is already in use`);
    return address;
  }
}

function sizeOf(message: Message): number {
  let size = message.body.length;
  for (const key in message.headers) size += key.length + message.headers[key]!.length;
  return size;
}

class MemorySocket implements Socket {
  peer: MemorySocket | undefined;
  readonly #inbox = new SocketInbox();

  constructor(
    readonly local: string,
    readonly remote: string,
    private readonly maxSize: number,
  ) {}

  receive(handlers: SocketHandlers): void {
    this.#inbox.receive(handlers);
  }

  send(message: Message): void {
    if (this.#inbox.ended) throw new TransportError('closed', `memory connection to ${this.remote} is closed`);
    const size = sizeOf(message);
    if (size > this.maxSize) throw new TransportError('too_large', `message of ${size} bytes is over the transport limit of ${this.maxSize} bytes (transport.maxMessageSize)`);
    const peer = this.peer!;
    // Delivered on a later turn, as on a real network, so callers cannot come to rely on re-entrancy.
    queueMicrotask(() => peer.#deliver(message));
  }

  async close(): Promise<void> {
    if (!this.#inbox.end()) return;
    const peer = this.peer;
    if (peer) queueMicrotask(() => void peer.close());
  }

  #deliver(message: Message): void {
    this.#inbox.deliver(message);
  }
}

class MemoryListener implements Listener {
  handler: ((socket: Socket) => void) | undefined;

  constructor(
    readonly address: string,
    private readonly network: MemoryTransportNetwork,
  ) {}

  accept(handler: (socket: Socket) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    if (this.network.listeners.get(this.address) === this) this.network.listeners.delete(this.address);
  }
}

/** A transport within one process: single-process use and the test fake. */
export class MemoryTransport implements Transport {
  readonly name = 'memory';
  #dials = 0;

  constructor(
    private readonly network: MemoryTransportNetwork = new MemoryTransportNetwork(),
    readonly maxMessageSize: number = DEFAULT_MAX_MESSAGE_SIZE,
  ) {}

  async listen(address: string): Promise<Listener> {
    const actual = this.network.allocate(address);
    const listener = new MemoryListener(actual, this.network);
    this.network.listeners.set(actual, listener);
    return listener;
  }

  async dial(address: string, _options?: DialOptions): Promise<Socket> {
    const listener = this.network.listeners.get(address);
    if (!listener?.handler) throw new TransportError('dial', `memory transport: nothing listens on ${address}`);
    const clientAddress = `${address}/client-${++this.#dials}`;
    const client = new MemorySocket(clientAddress, address, this.maxMessageSize);
    const server = new MemorySocket(address, clientAddress, this.maxMessageSize);
    client.peer = server;
    server.peer = client;
    listener.handler(server);
    return client;
  }

  async close(): Promise<void> {}
}
