import type { Etcd3 } from 'etcd3';
import type { Logger, RegisterOptions, Registry, ServiceEntry as Service, WatchOptions, Watcher } from '../../src/index.js';
import { QueueWatcher } from '../../src/registry/QueueWatcher.js';
import { assertRegistrable, toEntries, toServices } from '../../src/registry/serviceModel.js';
import { etcdOptions, type EtcdConnectionSettings, type EtcdModule } from './connection.js';
import { encodeEntry, keyOfEntry, leaseSeconds, servicePrefix } from './entries.js';
import { EntryReader } from './EntryReader.js';
import { LeaseKeeper } from './LeaseKeeper.js';
import { PrefixWatch } from './PrefixWatch.js';

export interface EtcdRegistryOptions extends EtcdConnectionSettings {
  /** Where the registry's keys live; ends with `/` so one prefix cannot be the start of another. */
  prefix: string;
}

export const ETCD_DEFAULT_PREFIX = '/tsmicro/registry/';

/**
 * Rethrows an etcd3 error saying what the registry was doing and where. etcd3's circuit breaker (it stops calling
 * a host for 5 s after three failures in a row) reports only "the circuit breaker is open", which says nothing
 * to someone reading a log, so that one is reworded.
 */
function failure(hosts: string, what: string): (error: Error) => never {
  return (error) => {
    const reason = (error as { isBrokenCircuitError?: boolean }).isBrokenCircuitError ? 'etcd is unreachable (calls are paused for a few seconds after repeated failures)' : error.message;
    throw new Error(`etcd registry (${hosts}): ${what}: ${reason}`, { cause: error });
  };
}

/**
 * Registry `etcd`: one key per node (`<prefix><service>/<version>/<node id>`, the entry as JSON) bound to a lease
 * whose TTL is the register TTL. Every register() (the server renews every `server.registerInterval`) renews the
 * lease and makes sure the key holds this entry on this lease, writing it again if anything is off: a key
 * deleted by hand, a lease that expired or was revoked, an etcd restarted without its data. go-micro's etcd
 * registry skipped the write when its cached hash matched, so a deleted key never came back; here the check is
 * done by etcd itself, in one transaction, and costs no write (no new revision, no watch event) when all is well.
 */
export class EtcdRegistry implements Registry {
  readonly name = 'etcd';
  readonly #client: Etcd3;
  readonly #options: EtcdRegistryOptions;
  readonly #logger: Logger;
  readonly #reader: EntryReader;
  readonly #leases: LeaseKeeper;
  readonly #watches = new Set<QueueWatcher>();
  readonly #hosts: string;
  /** The last write per key: writes of one key run one after another, so two renewals never grant two leases. */
  readonly #writes = new Map<string, Promise<void>>();

  constructor(etcd: EtcdModule, options: EtcdRegistryOptions, logger: Logger) {
    if (!options.prefix.endsWith('/')) throw new TypeError(`etcd registry: prefix "${options.prefix}" must end with "/"`);
    this.#options = options;
    this.#logger = logger;
    const clientOptions = etcdOptions(options);
    this.#hosts = ([] as string[]).concat(clientOptions.hosts).join(', ');
    this.#client = new etcd.Etcd3(clientOptions);
    this.#reader = new EntryReader(options.prefix, logger);
    this.#leases = new LeaseKeeper(this.#client, options.requestTimeoutMs, logger);
  }

  async register(service: Service, options: RegisterOptions = {}): Promise<void> {
    assertRegistrable(service);
    const ttlSeconds = leaseSeconds(options.ttlMs);
    await Promise.all(
      toEntries(service, 0, 0).map((entry) => {
        const key = keyOfEntry(this.#options.prefix, entry);
        return this.#serialized(key, () => this.#write(key, encodeEntry(entry), ttlSeconds));
      }),
    ).catch(this.#failed(`cannot register "${service.name}"`));
  }

  async #write(key: string, value: string, ttlSeconds: number): Promise<void> {
    const lease = ttlSeconds > 0 ? await this.#leases.leaseFor(key, ttlSeconds) : { id: '0' };
    // Writes only when the key is missing, holds something else, or sits on another lease.
    await this.#client.if(key, 'Value', '==', value).and(key, 'Lease', '==', lease.id).else(this.#client.put(key).value(value).lease(lease.id)).commit();
    // Only now that the key has moved to the new lease may the old one go (revoking it deletes its keys).
    if (lease.replaced) await this.#leases.revoke(lease.replaced);
    if (ttlSeconds === 0) await this.#leases.release(key);
  }

  async deregister(service: Service): Promise<void> {
    await Promise.all(
      toEntries({ ...service, nodes: service.nodes ?? [] }, 0, 0).map((entry) => {
        const key = keyOfEntry(this.#options.prefix, entry);
        return this.#serialized(key, async () => {
          await this.#client.delete().key(key).exec();
          await this.#leases.release(key);
        });
      }),
    ).catch(this.#failed(`cannot deregister "${service.name}"`));
  }

  async getService(name: string): Promise<Service[]> {
    const range = await this.#client.getAll().prefix(servicePrefix(this.#options.prefix, name)).exec().catch(this.#failed(`cannot read "${name}"`));
    return toServices(this.#reader.snapshot(range.kvs).values());
  }

  async listServices(): Promise<Service[]> {
    const range = await this.#client.getAll().prefix(this.#options.prefix).exec().catch(this.#failed('cannot list services'));
    return toServices(this.#reader.snapshot(range.kvs).values()).map((service) => ({ ...service, nodes: [] }));
  }

  async watch(options: WatchOptions = {}): Promise<Watcher> {
    const keyPrefix = options.service === undefined ? this.#options.prefix : servicePrefix(this.#options.prefix, options.service);
    let prefixWatch: PrefixWatch | undefined;
    const watcher: QueueWatcher = new QueueWatcher(options.service, () => {
      this.#watches.delete(watcher);
      prefixWatch?.stop();
    });
    prefixWatch = new PrefixWatch(this.#client, keyPrefix, this.#reader, watcher, this.#logger, this.#options.reconnectMaxDelayMs, this.#options.requestTimeoutMs);
    await prefixWatch.start().catch(this.#failed('cannot watch'));
    this.#watches.add(watcher);
    return watcher;
  }

  /** Stops the watchers and closes the connection; registrations stay until their leases run out. */
  async close(): Promise<void> {
    for (const watcher of [...this.#watches]) watcher.stop();
    await Promise.allSettled([...this.#writes.values()]);
    this.#client.close();
  }

  #failed(what: string): (error: Error) => never {
    return failure(this.#hosts, what);
  }

  #serialized(key: string, work: () => Promise<void>): Promise<void> {
    const run = (this.#writes.get(key) ?? Promise.resolve()).then(work);
    // What the next write of the key waits for; it never rejects, so an unwatched failure cannot go unhandled.
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#writes.set(key, settled);
    void settled.then(() => {
      if (this.#writes.get(key) === settled) this.#writes.delete(key);
    });
    return run;
  }
}
