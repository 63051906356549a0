import type { Logger, RegisterOptions, Registry, ServiceEntry as Service, WatchOptions, WatchResult, Watcher } from '../../src/index.js';
import { QueueWatcher } from '../../src/registry/QueueWatcher.js';
import { assertRegistrable, toServices } from '../../src/registry/serviceModel.js';
import type { KeyspaceMode } from './keyspaceEvents.js';
import { parseTarget, RedisConnection, redisClass, type RedisConstructor } from '../shared/redis/redisConnection.js';
import { RegistryKeys } from './registryKeys.js';
import { RegistryStore } from './RegistryStore.js';
import { WatchMonitor } from './WatchMonitor.js';

export interface RedisRegistryOptions {
  /** `host:port` or a `redis://` URL; 127.0.0.1:6379 when empty. */
  address?: string;
  /** Prefix of every key and channel the registry uses. */
  prefix: string;
  keyspaceEvents: KeyspaceMode;
  pollIntervalMs: number;
  resyncIntervalMs: number;
  /** How long a call waits for a lost connection, and for a reply. */
  commandTimeoutMs: number;
}

export const REDIS_REGISTRY_DEFAULTS: RedisRegistryOptions = {
  prefix: 'tsmicro:registry:',
  keyspaceEvents: 'configure',
  pollIntervalMs: 1000,
  resyncIntervalMs: 30_000,
  commandTimeoutMs: 5000,
};

/**
 * A registry in Redis: one key per node holding its entry, expiring with the register TTL (renewing is
 * registering again), per-service index sets for lookups, and a changes channel plus keyspace notifications
 * (or polling) for watches. Connections open on first use and reconnect by themselves.
 */
export class RedisRegistry implements Registry {
  readonly name = 'redis';
  readonly keys: RegistryKeys;
  readonly #Redis: RedisConstructor;
  readonly #options: RedisRegistryOptions;
  readonly #logger: Logger;
  readonly #commands: RedisConnection;
  readonly #store: RegistryStore;
  readonly #watchers = new Set<QueueWatcher>();
  #subscriber: RedisConnection | undefined;
  #monitor: WatchMonitor | undefined;

  /** `ioredis` is the namespace the plugin loader imported (or `await import('ioredis')`). */
  constructor(ioredis: unknown, options: Partial<RedisRegistryOptions>, logger: Logger) {
    this.#options = { ...REDIS_REGISTRY_DEFAULTS, ...options };
    this.#Redis = redisClass(ioredis);
    this.#logger = logger;
    this.keys = new RegistryKeys(this.#options.prefix);
    this.#commands = new RedisConnection(this.#Redis, parseTarget(this.#options.address), { name: 'tsmicro-registry', commandTimeoutMs: this.#options.commandTimeoutMs }, logger);
    this.#store = new RegistryStore(this.#commands, this.keys, logger);
  }

  async register(service: Service, options: RegisterOptions = {}): Promise<void> {
    assertRegistrable(service);
    await this.#store.register(service, options.ttlMs ?? 0);
  }

  async deregister(service: Service): Promise<void> {
    await this.#store.deregister(service);
  }

  async getService(name: string): Promise<Service[]> {
    return toServices((await this.#store.readService(name)).values());
  }

  async listServices(): Promise<Service[]> {
    return toServices((await this.#store.readAll()).values()).map((service) => ({ ...service, nodes: [] }));
  }

  async watch(options: WatchOptions = {}): Promise<Watcher> {
    this.#subscriber ??= this.#commands.sibling(this.#Redis, { name: 'tsmicro-registry-watch', commandTimeoutMs: this.#options.commandTimeoutMs });
    this.#monitor ??= new WatchMonitor(
      this.#store,
      this.#commands,
      this.#subscriber,
      this.keys,
      { keyspaceEvents: this.#options.keyspaceEvents, pollIntervalMs: this.#options.pollIntervalMs, resyncIntervalMs: this.#options.resyncIntervalMs },
      (results) => this.#dispatch(results),
      this.#logger,
    );
    await this.#monitor.start();
    const watcher: QueueWatcher = new QueueWatcher(options.service, () => {
      this.#watchers.delete(watcher);
      if (this.#watchers.size === 0) this.#stopMonitor();
    });
    this.#watchers.add(watcher);
    return watcher;
  }

  async close(): Promise<void> {
    for (const watcher of [...this.#watchers]) watcher.stop();
    this.#stopMonitor();
    await Promise.all([this.#commands.close(), this.#subscriber?.close()]);
    this.#subscriber = undefined;
  }

  /** With no watcher left, stop reading; the subscriber connection stays for the next watch. */
  #stopMonitor(): void {
    this.#monitor?.stop();
    this.#monitor = undefined;
    if (this.#subscriber?.isReady) void this.#subscriber.client.unsubscribe().catch(() => undefined);
  }

  #dispatch(results: WatchResult[]): void {
    for (const result of results) for (const watcher of this.#watchers) watcher.push(result);
  }
}
