import { MicroError } from '../errors.js';
import { RequestChannel } from './RequestChannel.js';
import type { Transport } from './Transport.js';

export interface ConnectionPoolOptions {
  /** Most connections kept per address. */
  size: number;
  /** Requests in flight on a connection before another is opened (while under `size`). */
  streamsPerConnection: number;
  /** Idle connections are closed after this long. */
  idleMs: number;
  dialTimeoutMs: number;
}

/**
 * Multiplexed connections per address. A request goes to the least busy connection; another connection is
 * dialled only when all are busy, so one connection usually carries all traffic to a node. Concurrent callers
 * share one dial instead of racing to open many.
 */
export class ConnectionPool {
  readonly #channels = new Map<string, RequestChannel[]>();
  readonly #dialing = new Map<string, Promise<RequestChannel>>();
  readonly #sweep: NodeJS.Timeout;
  #closed = false;

  constructor(
    private readonly transport: Transport,
    private readonly options: ConnectionPoolOptions,
  ) {
    this.#sweep = setInterval(() => this.#closeIdle(), Math.max(1000, options.idleMs / 2));
    this.#sweep.unref();
  }

  /**
   * A connection to `address`. Rejects with MicroError 503 (not delivered) when the address cannot be dialled.
   * `budgetMs` caps the dial, so a call never waits in dial longer than its caller still waits.
   */
  get(address: string, errorId: string, budgetMs = Infinity): Promise<RequestChannel> | RequestChannel {
    const channels = this.#channels.get(address);
    let best: RequestChannel | undefined;
    if (channels) {
      for (const channel of channels) if (!best || channel.inFlight < best.inFlight) best = channel;
      if (best && (best.inFlight < this.options.streamsPerConnection || channels.length >= this.options.size)) return best;
    }
    return this.#dial(address, errorId, best, budgetMs);
  }

  #dial(address: string, errorId: string, fallback: RequestChannel | undefined, budgetMs: number): Promise<RequestChannel> {
    if (this.#closed) return Promise.reject(MicroError.unavailable(errorId, 'client is closed', true));
    let dialing = this.#dialing.get(address);
    if (!dialing) {
      dialing = this.transport
        .dial(address, { timeoutMs: Math.max(1, Math.min(this.options.dialTimeoutMs, budgetMs)) })
        .then((socket) => {
          const channel = new RequestChannel(socket, address, (closed) => this.#remove(closed));
          const list = this.#channels.get(address) ?? [];
          list.push(channel);
          this.#channels.set(address, list);
          return channel;
        })
        .finally(() => this.#dialing.delete(address));
      this.#dialing.set(address, dialing);
    }
    return dialing.catch((error: Error) => {
      // An extra connection that fails to open is not fatal while an existing one still works.
      if (fallback && !fallback.closed) return fallback;
      throw new MicroError(errorId, 503, error.message, { notDelivered: true, cause: error });
    });
  }

  #remove(channel: RequestChannel): void {
    const list = this.#channels.get(channel.address);
    if (!list) return;
    const rest = list.filter((candidate) => candidate !== channel);
    if (rest.length > 0) this.#channels.set(channel.address, rest);
    else this.#channels.delete(channel.address);
  }

  #closeIdle(): void {
    const cutoff = Date.now() - this.options.idleMs;
    for (const list of this.#channels.values()) {
      for (const channel of list) if (channel.inFlight === 0 && channel.lastUsed < cutoff) void channel.close();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweep);
    const all = [...this.#channels.values()].flat();
    this.#channels.clear();
    await Promise.all(all.map((channel) => channel.close()));
  }
}
