import type { Logger, RegisterOptions, Registry, ServiceEntry, WatchOptions, Watcher } from '../../src/index.js';
import { parseHostPort } from '../../src/transport/address.js';
import { assertRegistrable, toServices } from '../../src/registry/serviceModel.js';
import { QueueWatcher } from '../../src/registry/QueueWatcher.js';
import { ConsulHttpError, type ConsulClient } from './ConsulClient.js';
import { entriesFromHealth, type HealthEntry } from './consulEntries.js';
import { decodeTags, encodeTags } from './consulTags.js';
import { ConsulWatch } from './ConsulWatch.js';

export interface ConsulRegistryOptions {
  /** Stale reads from any Consul server (faster, slightly behind); go-micro's default. */
  allowStale: boolean;
  /** How long a blocking query waits before it is repeated. */
  watchWaitMs: number;
}

/** Consul's "deregister after critical" has a one-minute floor; go-micro adds 5 s so a renewal just late is not reaped. */
export function deregisterAfterMs(ttlMs: number): number {
  return Math.max(ttlMs, 60_000) + 5_000;
}

/**
 * A registry on a Consul agent, storing entries the way go-micro's consul registry does (tags), so the two can
 * read each other's services. Each node is an agent service with a TTL check passed on every renewal; Consul
 * turns it critical when the renewals stop and deregisters it after DeregisterCriticalServiceAfter.
 */
export class ConsulRegistry implements Registry {
  readonly name = 'consul';
  /** What was last registered per node, so a renewal with nothing changed only passes the check. */
  readonly #registered = new Map<string, string>();
  readonly #watches = new Set<ConsulWatch>();

  constructor(
    private readonly client: ConsulClient,
    private readonly options: ConsulRegistryOptions,
    private readonly logger: Logger,
  ) {}

  async register(service: ServiceEntry, options: RegisterOptions = {}): Promise<void> {
    assertRegistrable(service);
    const ttlMs = options.ttlMs ?? 0;
    for (const node of service.nodes) {
      const { host, port } = parseHostPort(node.address);
      const body = {
        ID: node.id,
        Name: service.name,
        Tags: encodeTags({ version: service.version, endpoints: service.endpoints, nodeMetadata: node.metadata ?? {}, serviceMetadata: service.metadata ?? {} }),
        Address: host,
        Port: port,
        // Registered passing, since the pass that follows comes within the same call: starting critical would make
        // watchers see the node leave and come back on every change of its entry.
        Check: ttlMs > 0 ? { TTL: `${ttlMs}ms`, DeregisterCriticalServiceAfter: `${deregisterAfterMs(ttlMs)}ms`, Status: 'passing' } : undefined,
      };
      const fingerprint = JSON.stringify(body);
      if (ttlMs > 0 && this.#registered.get(node.id) === fingerprint && (await this.#pass(node.id))) continue;
      await this.client.send('PUT', '/v1/agent/service/register', { body });
      this.#registered.set(node.id, fingerprint);
      if (ttlMs > 0) await this.#pass(node.id);
    }
  }

  /**
   * Passes the node's TTL check. False when the agent no longer knows the check (agent restarted, or the service
   * was reaped after being critical), so the caller registers again instead of failing forever.
   */
  async #pass(nodeId: string): Promise<boolean> {
    try {
      await this.client.send('PUT', `/v1/agent/check/pass/${encodeURIComponent(`service:${nodeId}`)}`);
      return true;
    } catch (error) {
      if (error instanceof ConsulHttpError && (error.status === 404 || error.status === 500)) {
        this.logger.warn('consul forgot a registration; registering it again', { node: nodeId, error: error.message });
        this.#registered.delete(nodeId);
        return false;
      }
      throw error;
    }
  }

  async deregister(service: ServiceEntry): Promise<void> {
    for (const node of service.nodes ?? []) {
      this.#registered.delete(node.id);
      try {
        await this.client.send('PUT', `/v1/agent/service/deregister/${encodeURIComponent(node.id)}`);
      } catch (error) {
        if (!(error instanceof ConsulHttpError && error.status === 404)) throw error;
      }
    }
  }

  async getService(name: string): Promise<ServiceEntry[]> {
    const { value } = await this.client.json<HealthEntry[]>(`/v1/health/service/${encodeURIComponent(name)}`, this.#query({ passing: '1' }));
    return toServices(entriesFromHealth(name, value));
  }

  async listServices(): Promise<ServiceEntry[]> {
    const { value } = await this.client.json<Record<string, string[]>>('/v1/catalog/services', this.#query());
    const out: ServiceEntry[] = [];
    for (const [name, tags] of Object.entries(value)) {
      if (name === 'consul') continue;
      const versions = new Set(tags.filter((tag) => tag.startsWith('v-') || tag.startsWith('v=')).map((tag) => decodeTags([tag]).version));
      for (const version of versions.size > 0 ? versions : new Set([''])) out.push({ name, version, metadata: {}, endpoints: [], nodes: [] });
    }
    return out;
  }

  async watch(options: WatchOptions = {}): Promise<Watcher> {
    let watch: ConsulWatch | undefined;
    const watcher = new QueueWatcher(options.service, () => {
      watch?.stop();
      if (watch) this.#watches.delete(watch);
    });
    watch = new ConsulWatch(this.client, { service: options.service, waitMs: this.options.watchWaitMs, query: this.#query({ passing: '1' }) }, (result) => watcher.push(result), this.logger);
    this.#watches.add(watch);
    await watch.start();
    return watcher;
  }

  async close(): Promise<void> {
    for (const watch of this.#watches) watch.stop();
    this.#watches.clear();
  }

  #query(extra: Record<string, string> = {}): Record<string, string> {
    return this.options.allowStale ? { stale: '', ...extra } : extra;
  }
}
