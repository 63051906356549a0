import { connect, createServer, type Server as NetServer } from 'node:net';
import type { Logger } from '../logger/Logger.js';
import { silentLogger } from '../logger/PinoLogger.js';
import { joinHostPort, parseHostPort } from './address.js';
import { TcpSocket } from './TcpSocket.js';
import type { DialOptions, Listener, Socket, Transport } from './Transport.js';
import { TransportError } from './Transport.js';

export interface TcpTransportOptions {
  /** Largest frame sent or accepted, headers included. */
  maxMessageSize?: number;
  dialTimeoutMs?: number;
  logger?: Logger;
}

export const DEFAULT_MAX_MESSAGE_SIZE = 8 * 1024 * 1024;

class TcpListener implements Listener {
  #handler: ((socket: Socket) => void) | undefined;

  constructor(
    private readonly server: NetServer,
    readonly address: string,
    maxSize: number,
    logger: Logger,
  ) {
    server.on('connection', (raw) => {
      const socket = new TcpSocket(raw, maxSize, logger, true);
      if (!this.#handler) {
        void socket.close();
        return;
      }
      this.#handler(socket);
    });
    // A failing accepted connection must never take the listener down.
    server.on('error', (error) => logger.error('transport: listener error', { address, error: error.message }));
  }

  accept(handler: (socket: Socket) => void): void {
    this.#handler = handler;
  }

  /**
   * Stops accepting at once. net.Server's close callback waits for every accepted connection to end, which
   * would deadlock a server that closes its listener before draining those connections, so it is not awaited.
   */
  async close(): Promise<void> {
    if (this.server.listening) this.server.close();
  }
}

/**
 * The default transport: length-prefixed frames over TCP, loopback unless told otherwise. Replies are matched
 * to requests by id above this layer, so one connection carries many requests at once.
 */
export class TcpTransport implements Transport {
  readonly name = 'tcp';
  readonly maxMessageSize: number;
  readonly #dialTimeoutMs: number;
  readonly #logger: Logger;

  constructor(options: TcpTransportOptions = {}) {
    this.maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.#dialTimeoutMs = options.dialTimeoutMs ?? 5000;
    this.#logger = options.logger ?? silentLogger;
  }

  listen(address: string): Promise<Listener> {
    const { host, port } = parseHostPort(address);
    const server = createServer({ noDelay: true });
    return new Promise((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        reject(new TransportError('listen', `tcp transport: cannot listen on ${joinHostPort(host, port)}: ${error.code ?? error.message}`, { cause: error }));
      });
      server.listen(port, host, () => {
        server.removeAllListeners('error');
        const bound = server.address();
        const actual = typeof bound === 'object' && bound ? joinHostPort(host, bound.port) : joinHostPort(host, port);
        resolve(new TcpListener(server, actual, this.maxMessageSize, this.#logger));
      });
    });
  }

  dial(address: string, options: DialOptions = {}): Promise<Socket> {
    let target: { host: string; port: number };
    try {
      target = parseHostPort(address);
    } catch (error) {
      return Promise.reject(new TransportError('dial', (error as Error).message));
    }
    const timeoutMs = options.timeoutMs ?? this.#dialTimeoutMs;
    return new Promise((resolve, reject) => {
      const raw = connect({ host: target.host === '0.0.0.0' ? '127.0.0.1' : target.host, port: target.port, noDelay: true });
      const timer = setTimeout(() => {
        raw.destroy();
        reject(new TransportError('dial', `tcp transport: dialling ${address} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      raw.once('connect', () => {
        clearTimeout(timer);
        raw.removeAllListeners('error');
        resolve(new TcpSocket(raw, this.maxMessageSize, this.#logger, false));
      });
      raw.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new TransportError('dial', `tcp transport: cannot connect to ${address}: ${error.code ?? error.message}`, { cause: error }));
      });
    });
  }

  async close(): Promise<void> {
    // Listeners and sockets are owned and closed by whoever opened them.
  }
}
