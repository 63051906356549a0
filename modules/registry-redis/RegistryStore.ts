import type { Logger, ServiceEntry as Service } from '../../src/index.js';
import { toEntries, type NodeEntry } from '../../src/registry/serviceModel.js';
import type { RedisConnection } from '../shared/redis/redisConnection.js';
import type { RegistryKeys } from './registryKeys.js';
import { DEREGISTER, READ_SERVICE, REGISTER } from './registryScripts.js';

export type RegisterAction = 'create' | 'update' | 'renew';

/** What Redis stores for a node: the entry without its expiry, which is the key's own TTL. */
function encodeEntry(entry: NodeEntry): string {
  // The same service and node always serialise to the same text: the register script relies on it to tell a
  // renewal (identical text) from an update.
  return JSON.stringify({ service: entry.service, node: entry.node });
}

const isStringMap = (value: unknown): value is Record<string, string> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((item) => typeof item === 'string');

/** Parses a stored entry; undefined for anything that is not one (another program's data under our prefix). */
export function decodeEntry(text: string): NodeEntry | undefined {
  let value: { service?: Record<string, unknown>; node?: Record<string, unknown> };
  try {
    value = JSON.parse(text) as typeof value;
  } catch {
    return undefined;
  }
  const service = value?.service;
  const node = value?.node;
  if (typeof service?.name !== 'string' || typeof service.version !== 'string' || !isStringMap(service.metadata) || !Array.isArray(service.endpoints)) return undefined;
  if (typeof node?.id !== 'string' || typeof node.address !== 'string' || !isStringMap(node.metadata)) return undefined;
  return { service: service as unknown as NodeEntry['service'], node: node as unknown as NodeEntry['node'], expiresAt: 0 };
}

/** Reads and writes node entries; every method runs on the command connection and waits for it when it is down. */
export class RegistryStore {
  /** Keys already reported as invalid: one warning per key, not one per read. */
  readonly #reported = new Set<string>();

  constructor(
    private readonly connection: RedisConnection,
    private readonly keys: RegistryKeys,
    private readonly logger: Logger,
  ) {}

  async register(service: Service, ttlMs: number): Promise<RegisterAction[]> {
    const client = await this.connection.ready();
    const ttl = ttlMs > 0 ? Math.max(1, Math.round(ttlMs)) : 0;
    return Promise.all(
      toEntries(service, ttlMs, 0).map(async (entry) => {
        const keys = [this.keys.node(service.name, service.version, entry.node.id), this.keys.index(service.name), this.keys.services];
        return (await REGISTER.run(client, keys, [encodeEntry(entry), ttl, this.keys.changes, service.name])) as RegisterAction;
      }),
    );
  }

  async deregister(service: Service): Promise<void> {
    const client = await this.connection.ready();
    await Promise.all(
      (service.nodes ?? []).map((node) =>
        DEREGISTER.run(client, [this.keys.node(service.name, service.version, node.id), this.keys.index(service.name), this.keys.services], [this.keys.changes, service.name]),
      ),
    );
  }

  /** The live entries of one service, by node key. */
  async readService(name: string): Promise<Map<string, NodeEntry>> {
    const client = await this.connection.ready();
    const pairs = (await READ_SERVICE.run(client, [this.keys.index(name), this.keys.services], [name])) as string[];
    const entries = new Map<string, NodeEntry>();
    for (let i = 0; i + 1 < pairs.length; i += 2) this.#add(entries, pairs[i]!, pairs[i + 1]!, name);
    return entries;
  }

  /** Every live entry, by node key. The scripts run concurrently: ioredis pipelines them on the one connection. */
  async readAll(): Promise<Map<string, NodeEntry>> {
    const client = await this.connection.ready();
    const names = await client.smembers(this.keys.services);
    const all = new Map<string, NodeEntry>();
    for (const entries of await Promise.all(names.map((name) => this.readService(name)))) for (const [key, entry] of entries) all.set(key, entry);
    return all;
  }

  /** The current entries of the given node keys; a key that is gone (deleted, expired) is absent from the map. */
  async readKeys(keys: readonly string[]): Promise<Map<string, NodeEntry>> {
    const entries = new Map<string, NodeEntry>();
    if (keys.length === 0) return entries;
    const client = await this.connection.ready();
    const values = await client.mget(...keys);
    keys.forEach((key, i) => {
      const value = values[i];
      if (value !== null && value !== undefined) this.#add(entries, key, value);
    });
    return entries;
  }

  #add(entries: Map<string, NodeEntry>, key: string, text: string, expectedService?: string): void {
    const entry = decodeEntry(text);
    if (!entry || (expectedService !== undefined && entry.service.name !== expectedService)) {
      if (!this.#reported.has(key) && this.#reported.size < 1000) {
        this.#reported.add(key);
        this.logger.warn('redis registry: ignoring a value under the registry prefix that is not a valid node entry', { key, bytes: text.length });
      }
      return;
    }
    entries.set(key, entry);
  }
}
