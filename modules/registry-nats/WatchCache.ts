import type { WatchResult } from '../../src/index.js';
import type { QueueWatcher } from '../../src/registry/QueueWatcher.js';
import { fingerprint, isLive, keyOf, resultOf, type NodeEntry } from '../../src/registry/serviceModel.js';

/**
 * What the watchers of one registry instance know: every announced node with the time it has left. A `put`
 * turns into create (new node), update (changed registration) or nothing (a renewal, which only extends the
 * TTL); a `delete` or a TTL that runs out (a silent, probably killed, owner) into delete.
 */
export class WatchCache {
  readonly #entries = new Map<string, NodeEntry>();
  readonly watchers = new Set<QueueWatcher>();

  /** Entries found by a query when watching starts: known from now on, but not news to anyone. */
  seed(entries: readonly NodeEntry[]): void {
    for (const entry of entries) if (!this.#entries.has(keyOf(entry))) this.#entries.set(keyOf(entry), entry);
  }

  put(entries: readonly NodeEntry[]): void {
    const results: WatchResult[] = [];
    for (const entry of entries) {
      const key = keyOf(entry);
      const previous = this.#entries.get(key);
      if (!previous) results.push(resultOf('create', entry));
      else if (fingerprint(previous) !== fingerprint(entry)) results.push(resultOf('update', entry));
      this.#entries.set(key, entry);
    }
    this.#emit(results);
  }

  delete(entries: readonly NodeEntry[]): void {
    const results: WatchResult[] = [];
    for (const entry of entries) {
      const key = keyOf(entry);
      const known = this.#entries.get(key);
      if (known && this.#entries.delete(key)) results.push(resultOf('delete', known));
    }
    this.#emit(results);
  }

  sweep(now: number): void {
    const expired: NodeEntry[] = [];
    for (const entry of this.#entries.values()) if (!isLive(entry, now)) expired.push(entry);
    this.delete(expired);
  }

  stop(): void {
    for (const watcher of [...this.watchers]) watcher.stop();
    this.#entries.clear();
  }

  #emit(results: readonly WatchResult[]): void {
    for (const result of results) for (const watcher of this.watchers) watcher.push(result);
  }
}
