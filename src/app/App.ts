import 'reflect-metadata/lite';
import { Container, type ContainerModule, type ServiceIdentifier } from '#inversify';
import type { Client } from '../client/Client.js';
import type { MicroConfig } from '../config/MicroConfig.js';
import type { ConfigInput } from '../config/configUtil.js';
import { ConfigError } from '../config/ConfigError.js';
import { loadConfig, type LoadConfigOptions, type LoadedConfig } from '../config/loadConfig.js';
import { readDefinition } from '../decorators/readDefinition.js';
import type { Logger } from '../logger/Logger.js';
import type { Server } from '../server/Server.js';
import { Tokens } from '../tokens.js';
import { coreModule } from './coreModule.js';
import { handlerRegistrations, subscriberRegistrations } from './serviceRegistrations.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- constructor parameters are whatever the class injects
function getAddress(config: Readonly<MicroConfig>, kind: string): unknown {
  return (config as unknown as Record<string, { address?: unknown } | undefined>)[kind]?.address;
}

export type ServiceClass = new (...args: any[]) => object;

export interface AppOptions {
  /** Classes decorated with @Service. */
  services?: ServiceClass[];
  /**
   * Container modules loaded after the core defaults (and after plugins chosen by config), so their bindings
   * win: what code states explicitly beats what a config file says.
   */
  modules?: ContainerModule[];
  /** Config values from code; config files, environment variables and flags override them. */
  config?: ConfigInput;
  /** Where config is read from: working directory, env, argv or parsed flags (the process's by default). */
  sources?: Omit<LoadConfigOptions, 'overrides'>;
  /** A logger to use instead of the one built from config. */
  logger?: Logger;
}

/**
 * The composition root: builds the container, binds the decorated classes, and starts and stops their servers.
 * It only resolves tokens; behaviour lives behind the contracts.
 *
 * @example
 *   const app = await App.create({ services: [Greeter] });
 *   await app.start();
 */
export class App {
  readonly container: Container;
  readonly config: Readonly<MicroConfig>;
  /** The effective config, each value with its source, and the plugins chosen. */
  readonly loaded: LoadedConfig;
  readonly #servers: Server[] = [];
  readonly #logger: Logger;
  #state: 'created' | 'started' | 'stopped' = 'created';

  private constructor(container: Container, loaded: LoadedConfig) {
    this.container = container;
    this.loaded = loaded;
    this.config = loaded.config;
    this.#logger = container.get(Tokens.Logger).child({ component: 'app' });
  }

  /**
   * Reads the config, resolves and checks the chosen plugins, and builds the container: core defaults, then the
   * plugins' modules, then `options.modules`. Nothing is started; any problem is thrown as a ConfigError first.
   */
  static async create(options: AppOptions = {}): Promise<App> {
    const loaded = await loadConfig({ ...options.sources, overrides: options.config });
    const container = new Container();
    container.load(coreModule(loaded.config, options.logger));
    for (const plugin of loaded.plugins) {
      const addresses = String(getAddress(loaded.config, plugin.kind) ?? '').split(',').map((address) => address.trim()).filter(Boolean);
      container.load(await plugin.definition.create({ options: plugin.options, addresses, config: loaded.config, packages: plugin.packages, cwd: loaded.cwd }));
    }
    for (const module of options.modules ?? []) container.load(module);
    for (const plugin of loaded.plugins) {
      for (const token of plugin.definition.requires ?? []) {
        if (!container.isBound(Tokens[token])) throw new ConfigError('PLUGIN_INVALID', `${plugin.kind} plugin "${plugin.name}" needs the ${token} token, which nothing binds`);
      }
    }
    const app = new App(container, loaded);
    for (const type of options.services ?? []) app.#addService(type);
    return app;
  }

  get<T>(token: ServiceIdentifier<T>): T {
    return this.container.get(token);
  }

  get client(): Client {
    return this.container.get(Tokens.Client);
  }

  get servers(): readonly Server[] {
    return this.#servers;
  }

  #addService(type: ServiceClass): void {
    const definition = readDefinition(type);
    const single = this.#servers.length === 0;
    if (!this.container.isBound(type)) this.container.bind(type).toSelf().inSingletonScope();
    const instance = this.container.get(type);
    const service = this.config.service;
    const server = this.container.get(Tokens.ServerFactory)({
      // Config names and versions a process's only service; with several, each keeps its decorator's.
      name: (single && service.name) || definition.options.name,
      version: (single && service.version) || definition.options.version,
      metadata: { ...definition.options.metadata, ...service.metadata },
      address: service.address,
      advertise: service.advertise,
      registerTtlMs: this.config.server.registerTtl,
      registerIntervalMs: this.config.server.registerInterval,
      drainTimeoutMs: this.config.server.drainTimeout,
    });
    for (const registration of handlerRegistrations(definition, instance)) server.handle(registration);
    for (const registration of subscriberRegistrations(definition, instance)) server.subscribe(registration);
    this.#servers.push(server);
  }

  /** Connects the broker and starts every server; if one fails, those already started are stopped again. */
  async start(): Promise<void> {
    if (this.#state !== 'created') throw new Error(`app already ${this.#state}`);
    this.#state = 'started';
    try {
      await this.get(Tokens.Broker).connect();
      for (const server of this.#servers) await server.start();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Stops the servers (deregister, drain, close), then the broker, client and registry. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    await Promise.all(this.#servers.map((server) => server.stop().catch((error: Error) => this.#logger.error('server stop failed', { error: error.message }))));
    const quietly = (what: string, work: () => Promise<void> | void) =>
      Promise.resolve()
        .then(work)
        .catch((error: Error) => this.#logger.warn(`${what} failed during shutdown`, { error: error.message }));
    await quietly('broker disconnect', () => this.get(Tokens.Broker).disconnect());
    await quietly('client close', () => this.get(Tokens.Client).close());
    await quietly('selector close', () => this.get(Tokens.Selector).close());
    await quietly('registry cache stop', () => this.get(Tokens.RegistryCache).stop());
    await quietly('registry close', () => this.get(Tokens.Registry).close());
    await quietly('transport close', () => this.get(Tokens.Transport).close());
    for (const closeable of this.container.getAll(Tokens.Closeable, { optional: true })) await quietly('plugin close', () => closeable.close());
  }

  /** Starts, then serves until SIGINT or SIGTERM and stops gracefully. */
  async run(): Promise<void> {
    await this.start();
    await this.stopOnSignal();
  }

  /**
   * Resolves after the app has stopped because of SIGINT or SIGTERM. A second signal during the graceful stop
   * exits at once with code 1, for the operator who does not want to wait for the drain.
   */
  stopOnSignal(): Promise<void> {
    return new Promise<void>((resolve) => {
      const onSignal = (signal: NodeJS.Signals): void => {
        this.#logger.info('signal received, stopping', { signal });
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
        process.once('SIGINT', () => process.exit(1));
        process.once('SIGTERM', () => process.exit(1));
        void this.stop().then(resolve);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
  }
}
