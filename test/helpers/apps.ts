import { App, memoryModule, MemoryWorld, type AppOptions } from '../../src/index.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import type { ContainerModule } from 'inversify';

/**
 * Apps for tests: in-memory plugins on a shared world unless told otherwise, silent logs, and no reading of the
 * test runner's own environment or flags. `stopAll()` in afterEach stops whatever was started.
 */
export class TestApps {
  /** Replaced by stopAll(), so each test starts with an empty registry. */
  world = new MemoryWorld();
  readonly #apps: App[] = [];

  async create(options: AppOptions & { memory?: boolean; extraModules?: ContainerModule[] } = {}): Promise<App> {
    const modules = [...(options.memory === false ? [] : [memoryModule(this.world)]), ...(options.modules ?? []), ...(options.extraModules ?? [])];
    const app = await App.create({ logger: silentLogger, sources: { env: {}, argv: [] }, ...options, modules });
    this.#apps.push(app);
    return app;
  }

  async started(options: AppOptions & { memory?: boolean } = {}): Promise<App> {
    const app = await this.create(options);
    await app.start();
    return app;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.#apps.splice(0).map((app) => app.stop()));
    this.world = new MemoryWorld();
  }
}
