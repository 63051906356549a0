import type { RegisterOptions, Registry, Service, WatchOptions, WatchResult, Watcher } from './Registry.js';
import { QueueWatcher } from './QueueWatcher.js';
import { assertRegistrable, diffSnapshots, isLive, keyOf, resultOf, toEntries, toServices, type NodeEntry } from './serviceModel.js';

/**
 * The entries of an in-memory registry. Several MemoryRegistry instances built on one store see each other,
 * which is how tests stand in for several processes.
 */
export class MemoryRegistryStore {
  readonly entries = new Map<string, NodeEntry>();
  readonly watchers = new Set<QueueWatcher>();

  emit(results: WatchResult[]): void {
    for (const result of results) for (const watcher of this.watchers) watcher.push(result);
  }

  /** Drops expired entries and tells the watchers. Runs on every read, so no timer is needed for reads. */
  sweep(now: number): void {
    const expired: WatchResult[] = [];
    for (const [key, entry] of this.entries) {
      if (!isLive(entry, now)) {
        this.entries.delete(key);
        expired.push(resultOf('delete', entry));
      }
    }
    if (expired.length > 0) this.emit(expired);
  }
}

/** A registry held in process memory: single-process use and the test fake. */
export class MemoryRegistry implements Registry {
  readonly name = 'memory';
  readonly #store: MemoryRegistryStore;
  readonly #ownWatchers = new Set<QueueWatcher>();
  readonly #sweepTimer: NodeJS.Timeout;

  constructor(store: MemoryRegistryStore = new MemoryRegistryStore(), sweepIntervalMs = 250) {
    this.#store = store;
    // Reads sweep by themselves; watchers need the timer to hear about a node that expired while nobody read.
    this.#sweepTimer = setInterval(() => this.#store.sweep(Date.now()), sweepIntervalMs);
    this.#sweepTimer.unref();
  }

  async register(service: Service, options: RegisterOptions = {}): Promise<void> {
    assertRegistrable(service);
    const now = Date.now();
    this.#store.sweep(now);
    const before = new Map<string, NodeEntry>();
    const after = new Map<string, NodeEntry>();
    for (const entry of toEntries(service, options.ttlMs, now)) {
      const key = keyOf(entry);
      const previous = this.#store.entries.get(key);
      if (previous) before.set(key, previous);
      after.set(key, entry);
      this.#store.entries.set(key, entry);
    }
    this.#store.emit(diffSnapshots(before, after));
  }

  async deregister(service: Service): Promise<void> {
    const removed: WatchResult[] = [];
    for (const node of service.nodes ?? []) {
      const key = keyOf({ service, node, expiresAt: 0 });
      const entry = this.#store.entries.get(key);
      if (entry && this.#store.entries.delete(key)) removed.push(resultOf('delete', entry));
    }
    this.#store.emit(removed);
  }

  async getService(name: string): Promise<Service[]> {
    this.#store.sweep(Date.now());
    return toServices([...this.#store.entries.values()].filter((entry) => entry.service.name === name));
  }

  async listServices(): Promise<Service[]> {
    this.#store.sweep(Date.now());
    return toServices(this.#store.entries.values()).map((service) => ({ ...service, nodes: [] }));
  }

  async watch(options: WatchOptions = {}): Promise<Watcher> {
    const watcher: QueueWatcher = new QueueWatcher(options.service, () => {
      this.#store.watchers.delete(watcher);
      this.#ownWatchers.delete(watcher);
    });
    this.#store.watchers.add(watcher);
    this.#ownWatchers.add(watcher);
    return watcher;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweepTimer);
    for (const watcher of [...this.#ownWatchers]) watcher.stop();
  }
}
