import type { Msg, Subscription } from '@nats-io/transport-node';
import type { Logger, RegisterOptions, Registry, ServiceEntry as Service, WatchOptions, Watcher } from '../../src/index.js';
import { QueueWatcher } from '../../src/registry/QueueWatcher.js';
import { assertRegistrable, keyOf, toEntries, toServices, type NodeEntry } from '../../src/registry/serviceModel.js';
import type { LinkEvent, NatsConnector, NatsLink, NatsModule } from '../shared/nats/natsConnection.js';
import { gather } from './gather.js';
import { KnownOwners } from './KnownOwners.js';
import { fromWire, NO_TTL_ANNOUNCED_MS, OwnEntries, toWire } from './OwnEntries.js';
import { RegistryWire } from './RegistryWire.js';
import { WatchCache } from './WatchCache.js';
import { parseAnnouncement, parseQuery, type Announcement, type WireEntry } from './wire.js';

export interface NatsRegistryOptions {
  nats: NatsModule;
  connector: NatsConnector;
  logger: Logger;
  /** Subjects are `<prefix>.query` and `<prefix>.watch`. */
  prefix: string;
  queryTimeoutMs: number;
  querySettleMs: number;
  /** How long register/deregister wait for the server to confirm their announcement. */
  confirmTimeoutMs: number;
  /** How often TTLs are checked (own entries and watched ones). */
  sweepIntervalMs?: number;
}

/**
 * `registry: nats`, go-micro's NATS registry design: no store. Each process answers queries for the nodes it
 * registered and announces every register, renewal and deregister on `<prefix>.watch`. A lookup asks everyone
 * and gathers the answers; watchers keep the announced nodes with their TTL, so a killed process's nodes leave
 * after the TTL. Eventually consistent: see the README for what that means.
 */
export class NatsRegistry implements Registry {
  readonly name = 'nats';
  readonly #options: NatsRegistryOptions;
  readonly #id: string;
  readonly #own = new OwnEntries();
  readonly #owners = new KnownOwners();
  #cache: WatchCache | undefined;
  #seeding: Promise<WatchCache> | undefined;
  #ready: Promise<RegistryWire> | undefined;
  #subscriptions: Subscription[] = [];
  #sweep: NodeJS.Timeout | undefined;
  #unwatch: (() => void) | undefined;
  /** Once this instance has registered anything it answers every query, even with nothing, so nobody waits on it. */
  #answers = false;

  constructor(options: NatsRegistryOptions) {
    this.#options = options;
    this.#id = options.nats.nuid.next();
  }

  async register(service: Service, options: RegisterOptions = {}): Promise<void> {
    assertRegistrable(service);
    const wire = await this.#connect();
    const entries = toEntries(service, options.ttlMs, Date.now());
    const announced = entries.map((entry) => toWire(entry, Date.now()));
    // An entry too big for one NATS message could never be answered with: refuse it before keeping it.
    wire.chunks(announced);
    this.#own.put(entries);
    this.#answers = true;
    await wire.announce('put', announced);
  }

  async deregister(service: Service): Promise<void> {
    const wire = await this.#connect();
    const removed = this.#own.remove(toEntries({ ...service, nodes: service.nodes ?? [] }, 0, 0));
    if (removed.length > 0) await wire.announce('delete', removed.map((entry) => toWire(entry, Date.now())));
  }

  async getService(name: string): Promise<Service[]> {
    return toServices(await this.#lookup(name));
  }

  async listServices(): Promise<Service[]> {
    return toServices(await this.#lookup(undefined)).map((service) => ({ ...service, nodes: [] }));
  }

  async watch(options: WatchOptions = {}): Promise<Watcher> {
    const cache = await this.#watchCache();
    const watcher: QueueWatcher = new QueueWatcher(options.service, () => cache.watchers.delete(watcher));
    cache.watchers.add(watcher);
    return watcher;
  }

  /**
   * Stops watchers and answering queries; registrations are left to their TTL in other processes' watchers.
   * Other processes are told this instance stops answering, so their lookups do not wait for it.
   */
  async close(): Promise<void> {
    const wire = this.#ready && (await this.#ready.catch(() => undefined));
    if (wire && this.#answers) await wire.announce('leave', [], Math.min(1000, this.#options.confirmTimeoutMs)).catch(() => undefined);
    clearInterval(this.#sweep);
    this.#sweep = undefined;
    this.#cache?.stop();
    this.#cache = undefined;
    this.#seeding = undefined;
    for (const subscription of this.#subscriptions.splice(0)) subscription.unsubscribe();
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#ready = undefined;
    await this.#options.connector.release();
  }

  /** Own live entries plus everyone else's answers; an own entry wins over an echo of it. */
  async #lookup(service: string | undefined): Promise<NodeEntry[]> {
    const wire = await this.#connect();
    const found = new Map<string, NodeEntry>();
    const answers = await gather(wire.connection, wire.querySubject, wire.query(this.#id, service), {
      timeoutMs: this.#options.queryTimeoutMs,
      settleMs: this.#options.querySettleMs,
      expected: () => this.#owners.expected(Date.now()),
      logger: this.#options.logger,
    });
    const after = Date.now();
    const expected = this.#owners.expected(after);
    for (const [owner, ttlMs] of answers.replied) this.#owners.heard(owner, ttlMs, after);
    this.#owners.completed(expected, new Set(answers.replied.keys()));
    for (const wireEntry of answers.entries) {
      const entry = fromWire(wireEntry, after);
      if (service === undefined || entry.service.name === service) found.set(keyOf(entry), entry);
    }
    for (const entry of this.#own.live(Date.now(), service)) found.set(keyOf(entry), entry);
    return [...found.values()];
  }

  #watchCache(): Promise<WatchCache> {
    this.#seeding ??= (async () => {
      await this.#connect();
      const cache = new WatchCache();
      // Nodes registered before the watch started are known, not news: a renewal of one must not read as create.
      cache.seed(await this.#lookup(undefined));
      this.#cache = cache;
      return cache;
    })().catch((error: unknown) => {
      this.#seeding = undefined;
      throw error;
    });
    return this.#seeding;
  }

  #connect(): Promise<RegistryWire> {
    this.#ready ??= this.#options.connector.acquire().then(
      (link) => this.#start(link),
      (error: unknown) => {
        this.#ready = undefined;
        throw error;
      },
    );
    return this.#ready;
  }

  async #start(link: NatsLink): Promise<RegistryWire> {
    const wire = new RegistryWire(link, this.#options.prefix, this.#id, this.#options.confirmTimeoutMs);
    const guard = (what: string, handle: (message: Msg) => void) => (error: Error | null, message: Msg) => {
      if (error) return this.#options.logger.error(`nats registry: ${what} subscription failed`, { error: error.message });
      try {
        handle(message);
      } catch (failure) {
        // The parsers throw TypeError for input that is not what this registry writes.
        const problem = failure instanceof TypeError ? `ignored a malformed ${what} message` : `handling a ${what} message failed`;
        this.#options.logger.warn(`nats registry: ${problem}`, { subject: message.subject, error: (failure as Error).message });
      }
    };
    this.#subscriptions.push(link.connection.subscribe(wire.querySubject, { callback: guard('query', (message) => this.#answer(wire, message)) }));
    this.#subscriptions.push(link.connection.subscribe(wire.watchSubject, { callback: guard('watch', (message) => this.#heard(parseAnnouncement(message.data))) }));
    this.#unwatch = link.on((event) => this.#onLinkEvent(wire, event));
    this.#sweep = setInterval(() => this.#sweepTtls(wire), this.#options.sweepIntervalMs ?? 250);
    this.#sweep.unref();
    // Queries and announcements from other processes reach this instance from here on.
    await link.connection.flush();
    return wire;
  }

  #answer(wire: RegistryWire, message: Msg): void {
    const query = parseQuery(message.data);
    if (query.from === this.#id || !this.#answers || !message.reply) return;
    const now = Date.now();
    const entries: WireEntry[] = this.#own.live(now, query.service).map((entry) => toWire(entry, now));
    wire.reply(message, entries, this.#own.announcedTtl(now));
  }

  #heard(announcement: Announcement): void {
    const now = Date.now();
    // Our own announcements come back too (NATS echoes them): they matter to our watchers, not to the owners.
    const foreign = announcement.owner !== this.#id;
    if (announcement.action === 'leave') {
      if (foreign) this.#owners.left(announcement.owner);
      return;
    }
    if (foreign) this.#owners.heard(announcement.owner, Math.max(NO_TTL_ANNOUNCED_MS, ...announcement.entries.map((entry) => entry.ttlMs)), now);
    if (!this.#cache) return;
    const entries = announcement.entries.map((entry) => fromWire(entry, now));
    if (announcement.action === 'put') this.#cache.put(entries);
    else this.#cache.delete(entries);
  }

  #sweepTtls(wire: RegistryWire): void {
    const now = Date.now();
    const expired = this.#own.expire(now);
    const refresh = this.#own.dueForRefresh(now);
    const announce = (action: 'put' | 'delete', entries: NodeEntry[]) =>
      entries.length > 0 &&
      void wire.announce(action, entries.map((entry) => toWire(entry, now))).catch((error: Error) => this.#options.logger.warn('nats registry: announcement failed', { action, error: error.message }));
    announce('delete', expired);
    announce('put', refresh);
    this.#cache?.sweep(now);
  }

  /**
   * After a reconnect, announcements made during the outage are lost: say again what this instance owns (so
   * watchers that expired it get it back) and learn the other owners afresh.
   */
  #onLinkEvent(wire: RegistryWire, event: LinkEvent): void {
    if (event !== 'reconnect') return;
    this.#owners.forget();
    const now = Date.now();
    const live = this.#own.live(now);
    if (live.length > 0) void wire.announce('put', live.map((entry) => toWire(entry, now))).catch((error: Error) => this.#options.logger.warn('nats registry: re-announcing after reconnect failed', { error: error.message }));
  }
}
