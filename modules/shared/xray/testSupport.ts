import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { DAEMON_HEADER } from './datagram.js';
import type { SegmentDocument } from './segmentDocument.js';

/**
 * A stand-in for the X-Ray daemon in tests: a real UDP socket on 127.0.0.1 that checks each datagram has the
 * daemon header line and one JSON document after it, and keeps the documents. Anything else is recorded as a
 * protocol error, which tests assert is empty.
 */
export class DaemonDouble {
  readonly documents: SegmentDocument[] = [];
  readonly protocolErrors: string[] = [];
  readonly datagramSizes: number[] = [];
  readonly #socket: Socket;
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('message', (message) => this.#receive(message));
  }

  static async start(): Promise<DaemonDouble> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    return new DaemonDouble(socket);
  }

  /** `127.0.0.1:<port>`, for the plugins' daemonAddress option. */
  get address(): string {
    return `127.0.0.1:${(this.#socket.address() as AddressInfo).port}`;
  }

  #receive(message: Buffer): void {
    this.datagramSizes.push(message.length);
    const text = message.toString('utf8');
    if (!text.startsWith(DAEMON_HEADER)) {
      this.protocolErrors.push(`no daemon header: ${text.slice(0, 80)}`);
    } else {
      try {
        this.documents.push(JSON.parse(text.slice(DAEMON_HEADER.length)) as SegmentDocument);
      } catch (error) {
        this.protocolErrors.push(`not JSON after the header: ${(error as Error).message}`);
      }
    }
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves with the documents once `predicate` holds for them; rejects after `timeoutMs` naming what was seen. */
  async waitFor(predicate: (documents: readonly SegmentDocument[]) => boolean, timeoutMs = 5000): Promise<SegmentDocument[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.documents)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the daemon double did not get the expected documents; it has: ${JSON.stringify(this.documents, null, 1)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return [...this.documents];
  }

  /** Waits for at least `count` documents. */
  waitForCount(count: number, timeoutMs?: number): Promise<SegmentDocument[]> {
    return this.waitFor((documents) => documents.length >= count, timeoutMs);
  }

  clear(): void {
    this.documents.length = 0;
    this.protocolErrors.length = 0;
    this.datagramSizes.length = 0;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

/** Documents of one trace, by role, for chain assertions. */
export function byTrace(documents: readonly SegmentDocument[], traceId: string): SegmentDocument[] {
  return documents.filter((document) => document.trace_id === traceId);
}

/** The one document matching `predicate`; fails naming what there was when there is not exactly one. */
export function only(documents: readonly SegmentDocument[], predicate: (document: SegmentDocument) => boolean, what: string): SegmentDocument {
  const found = documents.filter(predicate);
  if (found.length !== 1) throw new Error(`expected one ${what}, found ${found.length} among ${JSON.stringify(documents, null, 1)}`);
  return found[0]!;
}
