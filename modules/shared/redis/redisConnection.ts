import type { Redis, RedisOptions } from 'ioredis';
import { MicroError } from '../../../src/index.js';
import type { Logger } from '../../../src/index.js';

/**
 * One ioredis connection with the behaviour both Redis plugins need: connect lazily (loading the plugin does no
 * I/O), never queue commands while disconnected (a caller waits a bounded time for the connection instead, so
 * a publish or register either reaches Redis or fails clearly, never lingers in a queue to run much later),
 * reconnect forever, and log an outage once rather than on every retry.
 */
export type RedisConstructor = typeof Redis;

/** Where to connect; parsed from `<kind>.address` (`host:port` or a `redis://` / `rediss://` URL). */
export interface RedisTarget {
  url: string;
  /** `host:port`, safe to log (no credentials). */
  display: string;
  db: number;
}

export const DEFAULT_ADDRESS = '127.0.0.1:6379';

export function parseTarget(address: string | undefined): RedisTarget {
  const raw = (address ?? '').trim() || DEFAULT_ADDRESS;
  const url = new URL(/^rediss?:\/\//.test(raw) ? raw : `redis://${raw}`);
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new TypeError(`redis address "${url.host}": database "${url.pathname.slice(1)}" is not a number`);
  return { url: url.href, display: `${url.hostname}:${url.port || 6379}`, db };
}

/** The Redis class from the namespace the plugin loader imported (`import('ioredis')`), whatever its shape. */
export function redisClass(pkg: unknown): RedisConstructor {
  const namespace = pkg as { Redis?: unknown; default?: { Redis?: unknown } | unknown } | undefined;
  const candidate = namespace?.Redis ?? (namespace?.default as { Redis?: unknown } | undefined)?.Redis ?? namespace?.default ?? pkg;
  if (typeof candidate !== 'function') throw new TypeError('the ioredis package did not export a Redis class (is ioredis ^6 installed?)');
  return candidate as RedisConstructor;
}

export interface ConnectionOptions {
  /** Names the connection in CLIENT LIST, so operators can tell what it is. */
  name: string;
  /** How long a command waits for a lost connection to come back, and for its reply. */
  commandTimeoutMs: number;
  /** A connection that runs blocking reads: no per-command timeout (the BLOCK argument bounds it). */
  blocking?: boolean;
}

/** Reconnect quickly at first, then every 2 s at most: a restarted Redis is back in use within seconds. */
function retryDelay(times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 6), 2000) + Math.floor(Math.random() * 100);
}

export class RedisConnection {
  readonly client: Redis;
  readonly #target: RedisTarget;
  readonly #options: ConnectionOptions;
  readonly #logger: Logger;
  readonly #onReconnect = new Set<() => void>();
  #everReady = false;
  #lost = false;
  #closed = false;
  #waiting: Promise<void> | undefined;

  constructor(Ctor: RedisConstructor, target: RedisTarget, options: ConnectionOptions, logger: Logger) {
    this.#target = target;
    this.#options = options;
    this.#logger = logger;
    const redisOptions: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: true,
      maxRetriesPerRequest: null,
      connectionName: options.name,
      retryStrategy: retryDelay,
      // How long closing waits for the socket to end before destroying it; ioredis's 2 s keeps a process alive.
      disconnectTimeout: 500,
      ...(options.blocking ? { blockingTimeout: 1, blockingTimeoutGrace: Math.max(options.commandTimeoutMs, 5000) } : { commandTimeout: options.commandTimeoutMs }),
    };
    this.client = new Ctor(target.url, redisOptions);
    this.client.on('error', (error: Error) => this.#markLost(error.message));
    this.client.on('close', () => this.#markLost('connection closed'));
    this.client.on('ready', () => this.#onReady());
  }

  get target(): RedisTarget {
    return this.#target;
  }

  get isReady(): boolean {
    return this.client.status === 'ready';
  }

  /** Runs `listener` each time the connection comes back after it was lost (not on the first connect). */
  onReconnect(listener: () => void): () => void {
    this.#onReconnect.add(listener);
    return () => this.#onReconnect.delete(listener);
  }

  /**
   * The client, once connected. Waits for a lost connection to come back for at most the command timeout, then
   * rejects with a 503 that says nothing was sent, so callers may retry safely.
   */
  async ready(timeoutMs = this.#options.commandTimeoutMs): Promise<Redis> {
    if (this.client.status === 'ready') return this.client;
    if (this.#closed || this.client.status === 'end') throw MicroError.unavailable('tsmicro.redis', `redis connection ${this.#options.name} to ${this.#target.display} is closed`, true);
    if (this.client.status === 'wait') this.client.connect().catch(() => undefined);
    this.#waiting ??= new Promise<void>((resolve) => this.client.once('ready', resolve)).finally(() => (this.#waiting = undefined));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(MicroError.unavailable('tsmicro.redis', `redis at ${this.#target.display} is not reachable (waited ${timeoutMs} ms)`, true)), timeoutMs);
    });
    try {
      await Promise.race([this.#waiting, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return this.client;
  }

  /** A new connection to the same server with other options (a subscriber, a blocking reader). */
  sibling(Ctor: RedisConstructor, options: ConnectionOptions, logger: Logger = this.#logger): RedisConnection {
    return new RedisConnection(Ctor, this.#target, options, logger);
  }

  /** Closes politely (QUIT) when connected, at once otherwise; pending blocking reads are rejected. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#onReconnect.clear();
    if (this.client.status === 'ready') {
      await Promise.race([this.client.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    }
    this.client.disconnect();
  }

  /** Drops the socket at once (interrupts a blocking read); the connection stays closed. */
  abort(): void {
    this.#closed = true;
    this.#onReconnect.clear();
    this.client.disconnect();
  }

  #markLost(reason: string): void {
    if (this.#closed || this.#lost || (!this.#everReady && reason === 'connection closed')) return;
    // ioredis reports every failed reconnect attempt; one line per outage is what an operator needs.
    this.#lost = true;
    this.#logger.warn('redis connection lost; reconnecting', { connection: this.#options.name, address: this.#target.display, error: reason });
  }

  #onReady(): void {
    const reconnected = this.#everReady;
    this.#everReady = true;
    if (this.#lost) this.#logger.info('redis connection restored', { connection: this.#options.name, address: this.#target.display });
    this.#lost = false;
    if (reconnected) for (const listener of [...this.#onReconnect]) listener();
  }
}
