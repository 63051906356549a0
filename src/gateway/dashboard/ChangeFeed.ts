import type { Logger } from '../../logger/Logger.js';
import { WatcherStoppedError, type Registry, type WatchResult, type Watcher } from '../../registry/Registry.js';

/** Someone interested in registry changes: an open dashboard tab's event stream. */
export interface ChangeListener {
  change(result: WatchResult): void;
  /** The watch ended by itself (registry failure, registry closed); the listener has already been removed. */
  ended(reason: string): void;
}

/**
 * One registry watch shared by every open dashboard tab. Some registries hold a connection or a blocking query
 * per watch (Consul, etcd), so ten tabs must not mean ten watches: the watch starts with the first listener and
 * stops when the last one leaves.
 */
export class ChangeFeed {
  readonly #registry: Registry;
  readonly #logger: Logger;
  /** Runs before listeners hear of a change, so what they fetch next is already fresh (cache invalidation). */
  readonly #beforeDelivery: (result: WatchResult) => void;
  readonly #listeners = new Set<ChangeListener>();
  #watcher: Watcher | undefined;
  #starting: Promise<void> | undefined;
  /** Subscribers waiting for the watch to start: the watch must not be stopped under them. */
  #pending = 0;
  #closed = false;

  constructor(registry: Registry, logger: Logger, beforeDelivery: (result: WatchResult) => void = () => {}) {
    this.#registry = registry;
    this.#logger = logger;
    this.#beforeDelivery = beforeDelivery;
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  /**
   * Resolves once the watch is running, so no change after this point can be missed; returns the function that
   * unsubscribes. Rejects when the registry cannot be watched.
   */
  async subscribe(listener: ChangeListener): Promise<() => void> {
    this.#pending++;
    try {
      await this.#ensureWatching();
    } finally {
      this.#pending--;
    }
    // The watch may have ended (or the feed closed) between starting and this continuation.
    if (!this.#watcher) throw new Error(this.#closed ? 'the dashboard is stopping' : 'the registry watch ended while starting');
    this.#listeners.add(listener);
    return () => {
      if (this.#listeners.delete(listener)) this.#stopWhenIdle();
    };
  }

  close(): void {
    this.#closed = true;
    this.#listeners.clear();
    this.#stopWatching();
  }

  #ensureWatching(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the dashboard is stopping'));
    if (this.#watcher) return Promise.resolve();
    this.#starting ??= this.#registry.watch().then(
      (watcher) => {
        this.#starting = undefined;
        if (this.#closed) return watcher.stop();
        this.#watcher = watcher;
        void this.#pump(watcher);
      },
      (error: Error) => {
        this.#starting = undefined;
        throw error;
      },
    );
    return this.#starting;
  }

  async #pump(watcher: Watcher): Promise<void> {
    let reason = 'the registry watch stopped';
    try {
      for (;;) {
        const result = await watcher.next();
        this.#deliver(result);
      }
    } catch (error) {
      if (!(error instanceof WatcherStoppedError)) {
        reason = `the registry watch failed: ${(error as Error).message}`;
        this.#logger.warn('dashboard: registry watch failed; open tabs will reconnect', { registry: this.#registry.name, error: (error as Error).message });
      }
    }
    // A watch we stopped on purpose (idle, closing) was already replaced or dropped: nobody to tell.
    if (this.#watcher !== watcher) return;
    this.#watcher = undefined;
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of listeners) listener.ended(reason);
  }

  #deliver(result: WatchResult): void {
    try {
      this.#beforeDelivery(result);
    } catch (error) {
      this.#logger.warn('dashboard: handling a registry change failed', { error: (error as Error).message });
    }
    // A copy: a listener may leave while hearing the change (a stream dropped for being too slow).
    for (const listener of [...this.#listeners]) listener.change(result);
  }

  #stopWhenIdle(): void {
    if (this.#listeners.size === 0 && this.#pending === 0) this.#stopWatching();
  }

  #stopWatching(): void {
    const watcher = this.#watcher;
    this.#watcher = undefined;
    watcher?.stop();
  }
}
