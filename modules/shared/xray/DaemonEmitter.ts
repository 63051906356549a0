import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns';
import type { Logger } from '../../../src/index.js';
import type { DaemonAddress } from './daemonAddress.js';
import { encodeSegment } from './datagram.js';
import type { SegmentDocument } from './segmentDocument.js';
import { ThrottledWarning } from './ThrottledWarning.js';

export interface EmitterOptions {
  /** The socket is closed after this long without a send, and opened again by the next one. */
  idleMs?: number;
  /** Sends waiting for the OS at once; beyond it documents are dropped rather than queued without bound. */
  maxPending?: number;
}

/** How long a resolved daemon hostname is reused: long enough to spare a lookup per segment, short enough to follow a moved daemon. */
const LOOKUP_TTL_MS = 30_000;

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string, family: number) => void;

/** A lookup for the socket that remembers the answer for a while (dgram would otherwise resolve on every send). */
function cachingLookup(): (hostname: string, options: unknown, callback: LookupCallback) => void {
  const cache = new Map<string, { address: string; family: number; until: number }>();
  return (hostname, options, callback) => {
    const key = `${hostname}/${JSON.stringify(options)}`;
    const hit = cache.get(key);
    if (hit && hit.until > Date.now()) return void process.nextTick(callback, null, hit.address, hit.family);
    const family = typeof options === 'number' ? options : ((options as { family?: number } | undefined)?.family ?? 0);
    lookup(hostname, { family }, (error, address, resolvedFamily) => {
      if (!error) cache.set(key, { address, family: resolvedFamily, until: Date.now() + LOOKUP_TTL_MS });
      callback(error, address, resolvedFamily);
    });
  };
}

/**
 * Sends segment documents to the X-Ray daemon over UDP. Fire and forget: `emit` never throws and never waits;
 * a failed send is logged (at most once per 30 s per kind of failure) and the document dropped, as the X-Ray
 * SDKs do, because tracing must never slow or fail the request it describes. The socket is unref'd, so it
 * never keeps a process alive.
 */
export class DaemonEmitter {
  readonly #address: DaemonAddress;
  readonly #warnings: ThrottledWarning;
  readonly #idleMs: number;
  readonly #maxPending: number;
  readonly #lookup = cachingLookup();
  /** The open socket and its sends not yet completed (counted per socket: a dropped socket's never complete). */
  #current: { socket: Socket; pending: number } | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #lastSend = 0;

  constructor(address: DaemonAddress, logger: Logger, options: EmitterOptions = {}) {
    this.#address = address;
    this.#warnings = new ThrottledWarning(logger);
    this.#idleMs = options.idleMs ?? 10_000;
    this.#maxPending = options.maxPending ?? 1000;
  }

  emit(document: SegmentDocument): void {
    try {
      this.#send(document);
    } catch (error) {
      this.#warnings.warn('emit', 'X-Ray segment dropped: it could not be sent', { error: (error as Error).message });
    }
  }

  #send(document: SegmentDocument): void {
    const pending = this.#current?.pending ?? 0;
    if (pending >= this.#maxPending) return this.#warnings.warn('backlog', 'X-Ray segments dropped: too many sends waiting for the network', { pending });
    const encoded = encodeSegment(document);
    if (!encoded) return this.#warnings.warn('size', 'X-Ray segment dropped: over the UDP size limit even when cut down', { name: document.name });
    if (encoded.truncated.length > 0) this.#warnings.warn('truncated', 'X-Ray segment cut down to fit one UDP datagram', { name: document.name, truncated: encoded.truncated });
    const current = this.#open();
    current.pending++;
    this.#lastSend = Date.now();
    current.socket.send(encoded.datagram, this.#address.port, this.#address.host, (error) => {
      current.pending--;
      if (error) this.#warnings.warn(`send ${(error as NodeJS.ErrnoException).code ?? ''}`, 'X-Ray segment dropped: UDP send to the daemon failed', { daemon: `${this.#address.host}:${this.#address.port}`, error: error.message });
    });
  }

  #open(): { socket: Socket; pending: number } {
    if (this.#current) return this.#current;
    // `as never`: Node types `lookup` as dns.lookup's full overload set, which a plain function cannot spell.
    const socket = createSocket({ type: this.#address.type, lookup: this.#lookup as never });
    // Errors of the socket itself (not of a send, which go to the send callback): drop it; the next send opens another.
    socket.on('error', (error) => {
      this.#warnings.warn('socket', 'X-Ray UDP socket failed; opening a new one for the next segment', { error: error.message });
      this.#discard(socket);
    });
    socket.unref();
    this.#current = { socket, pending: 0 };
    this.#armIdleTimer();
    return this.#current;
  }

  #armIdleTimer(): void {
    this.#idleTimer = setTimeout(() => {
      if (!this.#current) return;
      const idleFor = Date.now() - this.#lastSend;
      if (this.#current?.pending === 0 && idleFor >= this.#idleMs) this.#discard(this.#current.socket);
      else this.#armIdleTimer();
    }, this.#idleMs);
    this.#idleTimer.unref();
  }

  #discard(socket: Socket | undefined): void {
    if (!socket || socket !== this.#current?.socket) return;
    this.#current = undefined;
    clearTimeout(this.#idleTimer);
    try {
      socket.close();
    } catch {
      // Already closed by the error that brought us here.
    }
  }

  /**
   * Closes the socket now instead of after the idle time. Not final: requests still finishing while a gateway
   * stops emit their segments afterwards, and those open a socket again (unref'd and idle-closed as always).
   */
  close(): void {
    this.#discard(this.#current?.socket);
  }
}
