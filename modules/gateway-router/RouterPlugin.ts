import type { GatewayExchange, GatewayPlugin } from '../../src/gateway/GatewayPlugin.js';
import type { Logger } from '../../src/index.js';
import { sendFixedResponse } from './fixedResponse.js';
import { requestFacts } from './requestFacts.js';
import type { ProxyAction, Route } from './routeTypes.js';
import { readRoutesText, RoutesFileError, routesFromText } from './routesFile.js';
import { RoutesWatcher } from './RoutesWatcher.js';
import { RoutingTable } from './RoutingTable.js';
import { UpstreamProxy } from './UpstreamProxy.js';
import type { RouteDefaults } from './validateRoutes.js';

export interface RouterSettings extends RouteDefaults {
  /** Absolute path of the routes file. */
  file: string;
  debounceMs: number;
  pollMs: number;
}

/** The routes file as read at boot: its text and its rules. */
export interface InitialRoutes {
  text: string;
  routes: readonly Route[];
}

/**
 * `gateway.plugins: [router]`: rules from a routes file answer matching requests, by proxying them to a URL or
 * with a fixed response; other requests go on to the gateway's own routing. The file is re-read when it
 * changes; a file that cannot be used is reported and the routes in force stay.
 */
export class RouterPlugin implements GatewayPlugin {
  readonly name = 'router';
  #table: RoutingTable;
  #lastText: string | undefined;
  #reloading: Promise<void> | undefined;
  #again = false;
  #closed = false;
  readonly #watcher: RoutesWatcher;
  readonly #proxy: UpstreamProxy;

  constructor(
    private readonly settings: RouterSettings,
    initial: InitialRoutes,
    private readonly logger: Logger,
    private readonly random: () => number = Math.random,
  ) {
    this.#table = new RoutingTable(initial.routes);
    this.#lastText = initial.text;
    this.#proxy = new UpstreamProxy(logger);
    logger.info('routes loaded', { file: settings.file, routes: initial.routes.length });
    this.#watcher = new RoutesWatcher(settings.file, settings, () => void this.reload(), logger);
    this.#watcher.start();
    // The file may have changed between the boot check and now, before the watch began.
    void this.reload();
  }

  onRequest(exchange: GatewayExchange): boolean {
    const facts = requestFacts(exchange.request);
    const route = facts && this.#table.choose(facts, this.random);
    if (!facts || !route) return false;
    exchange.state.set(this.name, { route: route.label });
    if (route.action.kind === 'response') sendFixedResponse(exchange.response, route.action);
    else this.#proxy.forward(exchange, route as Route & { action: ProxyAction }, facts);
    return true;
  }

  /** Re-reads the file; runs once more if asked again meanwhile, never twice at the same time. */
  reload(): Promise<void> {
    this.#again = true;
    this.#reloading ??= (async () => {
      while (this.#again && !this.#closed) {
        this.#again = false;
        await this.#reloadOnce().catch((error: Error) => this.logger.error('reloading the routes file failed; the previous routes stay in force', { file: this.settings.file, reason: error.message }));
      }
    })().finally(() => (this.#reloading = undefined));
    return this.#reloading;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watcher.close();
    this.#proxy.close();
    await this.#reloading;
  }

  async #reloadOnce(): Promise<void> {
    const { file } = this.settings;
    let text: string;
    try {
      text = await readRoutesText(file);
    } catch (error) {
      // Mid-replacement the file can be briefly absent; the directory watch brings us back when it returns.
      this.logger.warn('routes file cannot be read; the previous routes stay in force', { file, reason: reasonOf(error), routes: this.#table.size });
      this.#lastText = undefined;
      return;
    }
    if (text === this.#lastText || this.#closed) return;
    this.#lastText = text;
    try {
      const routes = routesFromText(text, file, this.settings);
      this.#table = new RoutingTable(routes);
      this.logger.info('routes reloaded', { file, routes: routes.length });
    } catch (error) {
      this.logger.error('routes file rejected; the previous routes stay in force', { file, reason: reasonOf(error), routes: this.#table.size });
    }
  }
}

function reasonOf(error: unknown): string {
  return error instanceof RoutesFileError ? error.reason : String((error as Error)?.message ?? error);
}
