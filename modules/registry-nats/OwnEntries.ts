import { isLive, keyOf, type NodeEntry } from '../../src/registry/serviceModel.js';
import type { WireEntry } from './wire.js';

/**
 * An entry registered without a TTL lives until deregistered, but other processes cannot tell a live owner
 * from a killed one without hearing from it: such entries are announced with this TTL and re-announced every
 * NO_TTL_REFRESH_MS, so a killed owner's nodes still leave the watchers of other processes.
 */
export const NO_TTL_ANNOUNCED_MS = 60_000;
export const NO_TTL_REFRESH_MS = 20_000;

/** The nodes this registry instance registered: what it answers queries with and keeps announcing. */
export class OwnEntries {
  readonly #entries = new Map<string, NodeEntry>();
  #lastRefresh = Date.now();

  get size(): number {
    return this.#entries.size;
  }

  put(entries: readonly NodeEntry[]): void {
    for (const entry of entries) this.#entries.set(keyOf(entry), entry);
  }

  /** Removes the given nodes; returns the ones this instance had. */
  remove(entries: readonly NodeEntry[]): NodeEntry[] {
    const removed: NodeEntry[] = [];
    for (const entry of entries) {
      const key = keyOf(entry);
      const own = this.#entries.get(key);
      if (own && this.#entries.delete(key)) removed.push(own);
    }
    return removed;
  }

  /** Live entries, of one service or all. */
  live(now: number, service?: string): NodeEntry[] {
    return [...this.#entries.values()].filter((entry) => isLive(entry, now) && (service === undefined || entry.service.name === service));
  }

  /** Drops and returns the entries whose TTL ran out: the owner announces their end itself. */
  expire(now: number): NodeEntry[] {
    const expired: NodeEntry[] = [];
    for (const [key, entry] of this.#entries) {
      if (!isLive(entry, now)) {
        this.#entries.delete(key);
        expired.push(entry);
      }
    }
    return expired;
  }

  /** The entries without a TTL, when it is time to announce them again. */
  dueForRefresh(now: number): NodeEntry[] {
    if (now - this.#lastRefresh < NO_TTL_REFRESH_MS) return [];
    this.#lastRefresh = now;
    return [...this.#entries.values()].filter((entry) => entry.expiresAt === 0);
  }

  /** The longest any of these entries is announced to live: how long queriers should count on this owner. */
  announcedTtl(now: number): number {
    let longest = NO_TTL_ANNOUNCED_MS;
    for (const entry of this.#entries.values()) longest = Math.max(longest, toWire(entry, now).ttlMs);
    return longest;
  }
}

export function toWire(entry: NodeEntry, now: number): WireEntry {
  return { service: entry.service, node: entry.node, ttlMs: entry.expiresAt === 0 ? NO_TTL_ANNOUNCED_MS : Math.max(1, entry.expiresAt - now) };
}

export function fromWire(entry: WireEntry, now: number): NodeEntry {
  return { service: entry.service, node: entry.node, expiresAt: now + entry.ttlMs };
}
