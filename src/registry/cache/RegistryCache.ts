import type { Logger } from '../../logger/Logger.js';
import { silentLogger } from '../../logger/PinoLogger.js';
import type { Registry, Service, Watcher } from '../Registry.js';

export interface RegistryCacheOptions {
  /** Longest an entry is served without being fetched again, even if no watch event arrived. */
  ttlMs?: number;
  logger?: Logger;
}

interface Entry {
  services: readonly Service[];
  fetchedAt: number;
}

/**
 * Lookups for the client and the broker without a registry round trip per call. One watcher for all services
 * (not one per service) drops an entry as soon as its service changes, so a stopped node stops being picked
 * within a watch event, not a TTL. When the registry fails, the last known entries keep being served.
 */
export class RegistryCache {
  readonly #registry: Registry;
  readonly #ttlMs: number;
  readonly #logger: Logger;
  readonly #entries = new Map<string, Entry>();
  readonly #fetching = new Map<string, Promise<readonly Service[]>>();
  /** Bumped by each change event, so a fetch that started before the change is not cached. */
  readonly #generation = new Map<string, number>();
  #watcher: Watcher | undefined;
  /** Settles once the watcher is up (or has failed), so the first fetch cannot miss a change. */
  #watchReady: Promise<void> | undefined;
  #stopped = false;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(registry: Registry, options: RegistryCacheOptions = {}) {
    this.#registry = registry;
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#logger = options.logger ?? silentLogger;
  }

  get registry(): Registry {
    return this.#registry;
  }

  /** The service's versions and nodes. The arrays are shared: read them, never change them. */
  getService(name: string): Promise<readonly Service[]> {
    if (!this.#watchReady && !this.#stopped) this.#watchReady = this.#startWatching(0);
    const entry = this.#entries.get(name);
    if (entry && Date.now() - entry.fetchedAt < this.#ttlMs) return Promise.resolve(entry.services);
    return this.#fetch(name, entry);
  }

  /** The cached answer for `name` if it is fresh, without a promise: the selector's fast path. */
  cached(name: string): readonly Service[] | undefined {
    if (!this.#watchReady && !this.#stopped) this.#watchReady = this.#startWatching(0);
    const entry = this.#entries.get(name);
    return entry && Date.now() - entry.fetchedAt < this.#ttlMs ? entry.services : undefined;
  }

  /** Forgets what is cached for `name` (or everything). */
  invalidate(name?: string): void {
    if (name === undefined) {
      this.#entries.clear();
      return;
    }
    this.#entries.delete(name);
    this.#generation.set(name, (this.#generation.get(name) ?? 0) + 1);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#watcher?.stop();
    this.#entries.clear();
  }

  #fetch(name: string, stale: Entry | undefined): Promise<readonly Service[]> {
    let pending = this.#fetching.get(name);
    if (pending) return pending;
    const generation = this.#generation.get(name) ?? 0;
    pending = (this.#watchReady ?? Promise.resolve())
      .then(() => this.#registry.getService(name))
      .then((services) => {
        if ((this.#generation.get(name) ?? 0) === generation && !this.#stopped) this.#entries.set(name, { services, fetchedAt: Date.now() });
        return services as readonly Service[];
      })
      .catch((error: Error) => {
        if (!stale) throw error;
        this.#logger.warn('registry unavailable, serving cached entry', { service: name, registry: this.#registry.name, error: error.message });
        return stale.services;
      })
      .finally(() => this.#fetching.delete(name));
    this.#fetching.set(name, pending);
    return pending;
  }

  #startWatching(attempt: number): Promise<void> {
    let ready!: () => void;
    const readyPromise = new Promise<void>((resolve) => (ready = resolve));
    void (async () => {
      try {
        this.#watcher = await this.#registry.watch();
        ready();
        if (this.#stopped) return this.#watcher.stop();
        for await (const result of this.#watcher) this.invalidate(result.service.name);
      } catch (error) {
        ready();
        if (this.#stopped) return;
        // Without a watch the entries can go stale unnoticed; drop them and watch again with backoff.
        this.#entries.clear();
        const delay = Math.min(30_000, 500 * 2 ** attempt);
        this.#logger.warn('registry watch failed, retrying', { registry: this.#registry.name, error: (error as Error).message, retryInMs: delay });
        this.#retryTimer = setTimeout(() => void this.#startWatching(attempt + 1), delay);
        this.#retryTimer.unref();
      }
    })();
    return readyPromise;
  }
}
