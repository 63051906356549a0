import { MicroError } from '../../errors.js';
import type { Logger } from '../../logger/Logger.js';
import type { RegistryCache } from '../../registry/cache/RegistryCache.js';
import type { Registry } from '../../registry/Registry.js';
import type { GatewayMount } from '../Gateway.js';
import type { GatewayExchange } from '../GatewayPlugin.js';
import { sendJson } from '../http.js';
import { ChangeFeed } from './ChangeFeed.js';
import { EventStreams, type EventStreamLimits } from './EventStreams.js';
import { ServiceCatalog } from './serviceCatalog.js';
import { locatePublicDirectory, publicDirectoryCandidates, StaticAssets } from './StaticAssets.js';

const ERROR_ID = 'tsmicro.dashboard';

export interface DashboardDependencies {
  registry: Registry;
  cache: RegistryCache;
  logger: Logger;
}

export interface DashboardOptions {
  /** Where it is mounted: `/dashboard`, or `''` for the root of the site (`tsmicro web`). */
  path: string;
  /** The gateway path the page calls endpoints through (`gateway.rpcPath`). */
  rpcPath: string;
  events?: Partial<EventStreamLimits>;
  /** The page's files; found next to this module (or in the repository's src/ when compiled) when absent. */
  publicDirectory?: string;
}

/**
 * The web dashboard: the page (`<path>/`), its JSON API (`<path>/api/services`, `<path>/api/services/<name>`,
 * `<path>/api/config`) and the live stream of registry changes (`<path>/api/events`). Calls from the page go
 * through the gateway's own rpcPath, so they meet the same plugins, limits and errors as any other client.
 */
export class Dashboard implements GatewayMount {
  readonly path: string;
  readonly #rpcPath: string;
  readonly #catalog: ServiceCatalog;
  readonly #feed: ChangeFeed;
  readonly #streams: EventStreams;
  readonly #assets: StaticAssets | undefined;

  constructor(deps: DashboardDependencies, options: DashboardOptions) {
    this.path = options.path;
    this.#rpcPath = options.rpcPath;
    this.#catalog = new ServiceCatalog(deps.registry, deps.cache);
    this.#feed = new ChangeFeed(deps.registry, deps.logger, (result) => this.#catalog.invalidate(result.service.name));
    this.#streams = new EventStreams(this.#feed, options.events);
    const looked = options.publicDirectory ? [options.publicDirectory] : publicDirectoryCandidates();
    const directory = locatePublicDirectory(looked);
    this.#assets = directory ? new StaticAssets(directory) : undefined;
    // The API and the rest of the gateway keep working without the page: say so, do not refuse to start. Where
    // it looked goes to the log only, since server paths are nobody else's business.
    if (!this.#assets) deps.logger.warn('dashboard page files not found; the page answers 500, its JSON API works', { looked });
  }

  /** Open event streams (one per dashboard tab), for tests and health pages. */
  get openStreams(): number {
    return this.#streams.openCount;
  }

  async handle(exchange: GatewayExchange, rest: string): Promise<void> {
    const { request, response } = exchange;
    if (rest.startsWith('/api/')) return this.#api(exchange, rest.slice('/api/'.length));
    const url = new URL(request.url ?? '/', 'http://dashboard');
    // Without the trailing slash the page's relative links (js/main.js, api/services) would miss the mount.
    if (this.path !== '' && url.pathname === this.path) {
      response.writeHead(302, { location: `${this.path}/${url.search}` });
      return void response.end();
    }
    if (!this.#assets) throw MicroError.internal(ERROR_ID, "the dashboard's page files are missing on the server (its log says where it looked); its JSON API still works");
    this.#assets.serve(exchange, rest === '/' ? '/index.html' : rest);
  }

  close(): void {
    this.#streams.close();
    this.#feed.close();
  }

  async #api(exchange: GatewayExchange, route: string): Promise<void> {
    const { request, response } = exchange;
    const method = request.method ?? 'GET';
    const allowed = route === 'events' ? ['GET'] : ['GET', 'HEAD'];
    if (!allowed.includes(method)) {
      response.setHeader('allow', allowed.join(', '));
      throw new MicroError(ERROR_ID, 405, `the dashboard API takes ${allowed.join(' or ')}`);
    }
    // The API returns registry data: it must never be cached by a browser or a proxy between two tabs.
    response.setHeader('cache-control', 'no-store');
    response.setHeader('x-content-type-options', 'nosniff');
    if (route === 'events') return this.#streams.open(exchange);
    if (route === 'config') return sendJson(response, 200, { rpcPath: this.#rpcPath });
    if (route === 'services') return sendJson(response, 200, { services: await this.#catalog.list() });
    if (route.startsWith('services/')) {
      const name = decodeSegment(route.slice('services/'.length));
      const service = await this.#catalog.get(name);
      if (!service) throw MicroError.notFound(ERROR_ID, `service "${name}" is not registered`);
      return sendJson(response, 200, service);
    }
    throw MicroError.notFound(ERROR_ID, `no dashboard API at ${this.path}/api/${route}; it has services, services/<name>, events and config`);
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw MicroError.badRequest(ERROR_ID, 'malformed percent-encoding in the service name');
  }
}
