import type { Etcd3, IKeyValue, Watcher as EtcdWatcher } from 'etcd3';
import type { Logger } from '../../src/index.js';
import type { QueueWatcher } from '../../src/registry/QueueWatcher.js';
import { diffSnapshots, fingerprint, resultOf, type NodeEntry } from '../../src/registry/serviceModel.js';
import type { EntryReader } from './EntryReader.js';

/**
 * Feeds one registry Watcher from an etcd prefix watch. It keeps the entries it has reported (a snapshot), so:
 * - a PUT of a new key is a `create`, of a changed value an `update`, of an identical value (a renewal) nothing;
 * - a DELETE (deregistration, lease expiry, revocation) is a `delete` carrying the node as it was;
 * - whenever the etcd watch reconnects, is cancelled (its revision compacted away) or etcd's revisions go back
 *   (restored or wiped data), the prefix is read again and the difference reported, then a fresh watch starts
 *   right after that read. Nothing is missed and nothing reported twice, whatever etcd3's own resume did.
 */
export class PrefixWatch {
  #snapshot = new Map<string, NodeEntry>();
  #watcher: EtcdWatcher | undefined;
  #stopped = false;
  #resyncing = false;
  #retryTimer: NodeJS.Timeout | undefined;
  readonly #onPut = (kv: IKeyValue): void => this.#put(kv);
  readonly #onDelete = (kv: IKeyValue): void => this.#delete(kv);
  readonly #onReconnect = (): void => void this.#resync('the watch reconnected');
  readonly #onError = (error: Error): void => void this.#resync(`the watch failed: ${error.message}`);
  readonly #onDisconnect = (error?: Error): void => this.logger.debug('etcd registry: watch disconnected; etcd3 reconnects it', { prefix: this.keyPrefix, error: error?.message });

  constructor(
    private readonly client: Etcd3,
    private readonly keyPrefix: string,
    private readonly reader: EntryReader,
    private readonly out: QueueWatcher,
    private readonly logger: Logger,
    private readonly reconnectMaxDelayMs: number,
    /** How long a new etcd watch may take to be confirmed before the attempt counts as failed. */
    private readonly connectTimeoutMs: number,
  ) {}

  /** Reads the current entries (reported as nothing: a watch reports changes) and waits until the watch is live. */
  async start(): Promise<void> {
    try {
      await this.#sync(false);
    } catch (error) {
      this.#detach();
      throw error;
    }
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#detach();
  }

  async #sync(report: boolean): Promise<void> {
    const range = await this.client.getAll().prefix(this.keyPrefix).exec();
    if (this.#stopped) return;
    const after = this.reader.snapshot(range.kvs);
    if (report) for (const result of diffSnapshots(this.#snapshot, after)) this.out.push(result);
    this.#snapshot = after;
    // `watcher()` rather than `create()`: it hands the watcher over at once, so stop() can cancel it even while
    // etcd is unreachable (create() would not settle until etcd answers).
    const watcher = this.client.watch().prefix(this.keyPrefix).startRevision(String(BigInt(range.header.revision) + 1n)).watcher();
    this.#watcher = watcher;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`etcd did not confirm the watch within ${this.connectTimeoutMs} ms`)), this.connectTimeoutMs);
      watcher.once('connected', () => {
        clearTimeout(timer);
        resolve();
      });
      watcher.once('error', (error: Error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    if (this.#stopped || this.#watcher !== watcher) return;
    watcher.on('error', this.#onError);
    watcher.on('put', this.#onPut);
    watcher.on('delete', this.#onDelete);
    watcher.on('disconnected', this.#onDisconnect);
    // The first 'connected' has been consumed above; any later one is a reconnection.
    watcher.on('connected', this.#onReconnect);
  }

  async #resync(reason: string): Promise<void> {
    if (this.#resyncing || this.#stopped) return;
    this.#resyncing = true;
    this.logger.debug('etcd registry: re-reading the watched prefix', { prefix: this.keyPrefix, reason });
    this.#detach();
    for (let attempt = 0; !this.#stopped; attempt++) {
      try {
        await this.#sync(true);
        if (!this.#stopped) this.logger.info('etcd registry: watch resumed; changes made meanwhile were reported', { prefix: this.keyPrefix, reason });
        break;
      } catch (error) {
        this.#detach();
        const delay = Math.min(this.reconnectMaxDelayMs, 100 * 2 ** attempt);
        this.logger.debug('etcd registry: watch resync failed; retrying', { prefix: this.keyPrefix, error: (error as Error).message, retryInMs: delay });
        await new Promise((resolve) => (this.#retryTimer = setTimeout(resolve, delay)));
      }
    }
    this.#resyncing = false;
  }

  /** Drops the current etcd watcher: our listeners first (so nothing more is reported), then the watch itself. */
  #detach(): void {
    const watcher = this.#watcher;
    this.#watcher = undefined;
    if (!watcher) return;
    watcher.off('put', this.#onPut).off('delete', this.#onDelete).off('connected', this.#onReconnect).off('disconnected', this.#onDisconnect).off('error', this.#onError);
    // An EventEmitter 'error' without a listener would crash the process.
    watcher.on('error', () => undefined);
    watcher.cancel().catch(() => undefined);
  }

  #put(kv: IKeyValue): void {
    const key = kv.key.toString();
    const entry = this.reader.read(kv);
    const previous = this.#snapshot.get(key);
    if (!entry) {
      // Junk written over a node's key: the node is gone as far as readers are concerned.
      if (previous) this.#removed(key, previous);
      return;
    }
    this.#snapshot.set(key, entry);
    if (!previous) this.out.push(resultOf('create', entry));
    else if (fingerprint(previous) !== fingerprint(entry)) this.out.push(resultOf('update', entry));
  }

  #delete(kv: IKeyValue): void {
    const key = kv.key.toString();
    const previous = this.#snapshot.get(key);
    if (previous) this.#removed(key, previous);
  }

  #removed(key: string, previous: NodeEntry): void {
    this.#snapshot.delete(key);
    this.out.push(resultOf('delete', previous));
  }
}
