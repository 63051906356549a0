import type { Logger } from '../logger/Logger.js';
import type { RegistryCache } from '../registry/cache/RegistryCache.js';
import type { Watcher } from '../registry/Registry.js';
import { RouteTable } from './RouteTable.js';

/**
 * Keeps the gateway's route table in step with the registry: built at start from every service's endpoints,
 * rebuilt (once, however many changes arrive meanwhile) after a registry change.
 */
export class RouteSource {
  #table = new RouteTable([]);
  #watcher: Watcher | undefined;
  #rebuilding: Promise<void> | undefined;
  #dirty = false;

  constructor(
    private readonly cache: RegistryCache,
    private readonly logger: Logger,
  ) {}

  get table(): RouteTable {
    return this.#table;
  }

  async start(): Promise<void> {
    await this.#rebuild();
    this.#watcher = await this.cache.registry.watch();
    void (async () => {
      for await (const _change of this.#watcher!) this.#schedule();
    })().catch((error: Error) => this.logger.warn('gateway: registry watch ended; declared routes may go stale', { error: error.message }));
  }

  stop(): void {
    this.#watcher?.stop();
  }

  #schedule(): void {
    this.#dirty = true;
    this.#rebuilding ??= (async () => {
      while (this.#dirty) {
        this.#dirty = false;
        await this.#rebuild().catch((error: Error) => this.logger.warn('gateway: rebuilding routes failed', { error: error.message }));
      }
    })().finally(() => (this.#rebuilding = undefined));
  }

  async #rebuild(): Promise<void> {
    const names = [...new Set((await this.cache.registry.listServices()).map((service) => service.name))];
    const services = (await Promise.all(names.map((name) => this.cache.getService(name)))).flat();
    this.#table = new RouteTable(services);
  }
}
