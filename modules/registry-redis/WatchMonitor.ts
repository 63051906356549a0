import type { Logger, WatchResult } from '../../src/index.js';
import { diffSnapshots, type NodeEntry } from '../../src/registry/serviceModel.js';
import { ensureKeyspaceEvents, keyeventChannels, type KeyspaceMode } from './keyspaceEvents.js';
import type { RedisConnection } from '../shared/redis/redisConnection.js';
import type { RegistryKeys } from './registryKeys.js';
import type { RegistryStore } from './RegistryStore.js';

export interface WatchMonitorOptions {
  keyspaceEvents: KeyspaceMode;
  /** Full rescan period when expiry notifications are not available. */
  pollIntervalMs: number;
  /** Full rescan period when they are: a safety net for anything a notification missed. */
  resyncIntervalMs: number;
}

/**
 * Turns Redis into watch results for every watcher of one registry instance. It keeps a snapshot of the entries
 * and re-reads what a signal names: a key announced on the changes channel (create/update/delete by any
 * registry), a key reported expired or evicted by keyspace notifications, or everything on the periodic rescan
 * and after a reconnect (pub/sub messages sent while disconnected are lost). The signal only says *what* to read:
 * the result always comes from a read, and reads run one at a time on one connection, so the snapshot only ever
 * moves forward and a renewal (same entry read again) yields nothing.
 */
export class WatchMonitor {
  #snapshot = new Map<string, NodeEntry>();
  readonly #dirty = new Set<string>();
  #resync = false;
  #working: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #notifications = false;
  #started: Promise<void> | undefined;
  #stopped = false;
  readonly #unhooks: (() => void)[] = [];
  readonly #listener = (channel: string, message: string): void => this.#onMessage(channel, message);

  constructor(
    private readonly store: RegistryStore,
    private readonly commands: RedisConnection,
    private readonly subscriber: RedisConnection,
    private readonly keys: RegistryKeys,
    private readonly options: WatchMonitorOptions,
    private readonly onResults: (results: WatchResult[]) => void,
    private readonly logger: Logger,
  ) {}

  /** Resolves once subscribed and the first snapshot is taken: a watcher created afterwards sees later changes only. */
  start(): Promise<void> {
    this.#started ??= this.#begin().catch((error: unknown) => {
      this.#started = undefined;
      this.subscriber.client.off('message', this.#listener);
      throw error;
    });
    return this.#started;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    for (const unhook of this.#unhooks.splice(0)) unhook();
    this.subscriber.client.off('message', this.#listener);
  }

  async #begin(): Promise<void> {
    const subscriber = await this.subscriber.ready();
    subscriber.on('message', this.#listener);
    await subscriber.subscribe(this.keys.changes, ...keyeventChannels(this.commands.target.db));
    this.#notifications = await ensureKeyspaceEvents(await this.commands.ready(), this.options.keyspaceEvents, this.logger);
    this.#snapshot = await this.store.readAll();
    this.#unhooks.push(this.subscriber.onReconnect(() => void this.#recover()));
    this.#arm();
  }

  /** After a reconnect: messages sent meanwhile are lost, and a restarted server forgot its CONFIG SET. */
  async #recover(): Promise<void> {
    // ioredis emits 'ready' before it sends the resubscriptions; a PING queued after them returns once they are
    // in place, so the rescan below cannot miss a change announced in between.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      await this.subscriber.client.ping();
      this.#notifications = await ensureKeyspaceEvents(await this.commands.ready(), this.options.keyspaceEvents, this.logger);
    } catch (error) {
      this.logger.debug('redis registry: recovery after reconnect deferred', { error: (error as Error).message });
    }
    this.#resync = true;
    this.#kick();
  }

  #arm(): void {
    if (this.#stopped) return;
    const period = this.#notifications ? this.options.resyncIntervalMs : this.options.pollIntervalMs;
    this.#timer = setTimeout(() => {
      this.#resync = true;
      this.#kick();
      this.#arm();
    }, period);
    this.#timer.unref();
  }

  #onMessage(channel: string, message: string): void {
    if (channel === this.keys.changes) {
      let key: unknown;
      try {
        key = (JSON.parse(message) as { key?: unknown })?.key;
      } catch {
        key = undefined;
      }
      if (typeof key === 'string' && this.keys.isNode(key)) this.#dirty.add(key);
      else {
        this.logger.warn('redis registry: unreadable message on the changes channel; rescanning', { channel, bytes: message.length });
        this.#resync = true;
      }
    } else if (this.keys.isNode(message)) {
      this.#dirty.add(message);
    } else {
      return; // an expiry of some other program's key
    }
    this.#kick();
  }

  #kick(): void {
    if (this.#working || this.#stopped) return;
    this.#working = this.#work().then((ok) => {
      this.#working = undefined;
      // Signals that arrived as the last read finished are handled now; after a failure, the timer or the
      // reconnect retries instead, so an unreachable server is not hammered.
      if (ok && (this.#resync || this.#dirty.size > 0)) this.#kick();
    });
  }

  async #work(): Promise<boolean> {
    while (!this.#stopped && (this.#resync || this.#dirty.size > 0)) {
      const full = this.#resync;
      const keys = [...this.#dirty];
      this.#resync = false;
      this.#dirty.clear();
      try {
        if (full) {
          const next = await this.store.readAll();
          this.#emit(diffSnapshots(this.#snapshot, next));
          this.#snapshot = next;
        } else {
          const current = await this.store.readKeys(keys);
          const before = new Map<string, NodeEntry>();
          for (const key of keys) {
            const previous = this.#snapshot.get(key);
            if (previous) before.set(key, previous);
            const entry = current.get(key);
            if (entry) this.#snapshot.set(key, entry);
            else this.#snapshot.delete(key);
          }
          this.#emit(diffSnapshots(before, current));
        }
      } catch (error) {
        // Redis is unreachable: read everything once it is back (the next tick or the reconnect).
        this.#resync = true;
        this.logger.debug('redis registry: watch read failed; will rescan', { error: (error as Error).message });
        return false;
      }
    }
    return true;
  }

  #emit(results: WatchResult[]): void {
    if (results.length > 0 && !this.#stopped) this.onResults(results);
  }
}
