/**
 * The other registry instances that own entries, learned from their announcements and query replies. A query
 * waits for exactly these to answer (plus a short settle for newcomers), instead of a fixed window: lookups are
 * as fast as the slowest owner, and no owner is cut off by a window that was too short.
 *
 * Until a first full query has run (and again after a reconnect, when announcements may have been missed) the
 * set is unknown and a query waits for whoever answers.
 */
export class KnownOwners {
  readonly #alive = new Map<string, number>();
  #discovered = false;

  /** `owner` spoke and vouches for itself for `ttlMs`. */
  heard(owner: string, ttlMs: number, now: number): void {
    this.#alive.set(owner, Math.max(this.#alive.get(owner) ?? 0, now + ttlMs));
  }

  /** The owners a query should hear from, or undefined when they are not known yet. */
  expected(now: number): Set<string> | undefined {
    if (!this.#discovered) return undefined;
    const owners = new Set<string>();
    for (const [owner, until] of this.#alive) {
      if (until > now) owners.add(owner);
      else this.#alive.delete(owner);
    }
    return owners;
  }

  /** After a query: owners that did not answer are presumed gone until they speak again. */
  completed(expected: ReadonlySet<string> | undefined, replied: ReadonlySet<string>): void {
    this.#discovered = true;
    for (const owner of expected ?? []) if (!replied.has(owner)) this.#alive.delete(owner);
  }

  /** `owner` said it stops answering (its registry closed). */
  left(owner: string): void {
    this.#alive.delete(owner);
  }

  /** Announcements may have been missed (a reconnect): learn the owners again on the next query. */
  forget(): void {
    this.#discovered = false;
  }
}
