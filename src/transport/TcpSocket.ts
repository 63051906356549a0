import type { Socket as NetSocket } from 'node:net';
import type { Logger } from '../logger/Logger.js';
import { encodeFrame, FrameDecoder } from './framing.js';
import { FrameWriter } from './FrameWriter.js';
import { SocketInbox } from './SocketInbox.js';
import type { Message, Socket, SocketHandlers } from './Transport.js';
import { TransportError } from './Transport.js';
import { joinHostPort } from './address.js';

/** How long close() waits for the peer to finish before destroying the connection. */
const CLOSE_GRACE_MS = 2000;

/** One framed TCP connection, either dialled or accepted. */
export class TcpSocket implements Socket {
  readonly local: string;
  readonly remote: string;
  readonly #socket: NetSocket;
  readonly #decoder: FrameDecoder;
  readonly #maxSize: number;
  readonly #logger: Logger;
  readonly #accepted: boolean;
  readonly #inbox = new SocketInbox();
  #error: Error | undefined;
  readonly #writer: FrameWriter;
  #closedPromise: Promise<void>;

  constructor(socket: NetSocket, maxSize: number, logger: Logger, accepted: boolean) {
    this.#socket = socket;
    this.#maxSize = maxSize;
    this.#logger = logger;
    this.#accepted = accepted;
    this.#decoder = new FrameDecoder(maxSize);
    this.#writer = new FrameWriter((chunk) => {
      if (!socket.destroyed) socket.write(chunk);
    }, maxSize);
    this.local = joinHostPort(socket.localAddress ?? '?', socket.localPort ?? 0);
    this.remote = joinHostPort(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    this.#closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error) => {
      this.#error ??= error;
    });
    socket.on('close', () => this.#onClose());
  }

  receive(handlers: SocketHandlers): void {
    this.#inbox.receive(handlers);
  }

  send(message: Message): void {
    if (this.#inbox.ended || this.#socket.destroyed) throw new TransportError('closed', `connection to ${this.remote} is closed`);
    this.#writer.push(message);
  }

  close(): Promise<void> {
    if (!this.#socket.destroyed) {
      // Frames queued this tick leave before the end of the stream.
      this.#writer.flush();
      this.#socket.end();
      const timer = setTimeout(() => this.#socket.destroy(), CLOSE_GRACE_MS);
      timer.unref();
    }
    return this.#closedPromise;
  }

  #onData(chunk: Buffer): void {
    let messages: Message[];
    try {
      messages = this.#decoder.push(chunk);
    } catch (error) {
      this.#reject(error as TransportError);
      return;
    }
    for (const message of messages) this.#inbox.deliver(message);
  }

  /**
   * A peer that breaks framing cannot be resynchronised, so the connection ends. An accepted socket first
   * tells the peer why, in an error frame, so a misbehaving client can see what it did wrong.
   */
  #reject(error: TransportError): void {
    this.#error = error;
    this.#logger.warn('transport: closing connection after a bad frame', { remote: this.remote, reason: error.message });
    this.#socket.removeAllListeners('data');
    if (this.#accepted && !this.#socket.destroyed) {
      this.#writer.flush();
      const code = error.kind === 'too_large' ? 413 : 400;
      const wire = JSON.stringify({ id: 'tsmicro.transport', code, detail: error.message, status: code === 413 ? 'Payload Too Large' : 'Bad Request' });
      try {
        for (const buffer of encodeFrame({ headers: { 'micro-error': wire }, body: new Uint8Array(0) }, this.#maxSize)) this.#socket.write(buffer);
      } catch {
        // The explanation is best effort; closing is what matters.
      }
    }
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 200).unref();
  }

  #onClose(): void {
    if (this.#inbox.ended) return;
    if (!this.#error && this.#decoder.pendingBytes > 0) {
      this.#error = new TransportError('malformed', `connection from ${this.remote} closed in the middle of a frame (${this.#decoder.pendingBytes} bytes pending)`);
    }
    this.#inbox.end(this.#error);
  }
}
