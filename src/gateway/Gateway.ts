import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '../client/Client.js';
import type { GatewayConfig } from '../config/MicroConfig.js';
import { MicroError, type WireError } from '../errors.js';
import type { Logger } from '../logger/Logger.js';
import type { RegistryCache } from '../registry/cache/RegistryCache.js';
import { joinHostPort, parseHostPort } from '../transport/address.js';
import { corsHeaders, isPreflight, preflightHeaders } from './corsHeaders.js';
import type { GatewayExchange, GatewayOutcome, GatewayPlugin } from './GatewayPlugin.js';
import { forwardedMetadata, parseJsonBody, readBody, remoteAddressOf, sendError, sendJson } from './http.js';
import { RouteSource } from './RouteSource.js';
import { endpointFromPath, type RouteMatch } from './RouteTable.js';

/** A part of the site mounted at a path (the dashboard): it answers every request under that path. */
export interface GatewayMount {
  readonly path: string;
  handle(exchange: GatewayExchange, rest: string): Promise<void>;
  close?(): void;
}

export interface GatewayDependencies {
  client: Client;
  cache: RegistryCache;
  config: Readonly<GatewayConfig>;
  plugins: readonly GatewayPlugin[];
  mounts?: readonly GatewayMount[];
  logger: Logger;
}

const ERROR_ID = 'tsmicro.gateway';

/**
 * The HTTP entry point: `POST /rpc` with `{ service, endpoint, request, metadata }`, `POST /event/<topic>`,
 * routes that endpoints declare (`@Handler({ metadata: { method, path } })`), and the conventional
 * `/<service>/<method>` mapping. Plugins run around every request; RPC errors come back with their HTTP status
 * and the wire error as JSON.
 */
export class Gateway {
  readonly #deps: GatewayDependencies;
  readonly #server: Server;
  readonly #routes: RouteSource;
  #address: string | undefined;

  constructor(deps: GatewayDependencies) {
    this.#deps = deps;
    this.#routes = new RouteSource(deps.cache, deps.logger);
    // node:http is loaded here, not imported: every service imports this module through the package index,
    // and an ES import of node:http also evaluates its lazy getters (undici: tens of ms and several MiB).
    this.#server = process.getBuiltinModule('node:http').createServer((request, response) => void this.#handle(request, response));
    // Slow clients must not hold sockets forever; the body limit bounds what they can send.
    this.#server.requestTimeout = Math.max(30_000, deps.config.timeout * 2);
  }

  get address(): string | undefined {
    return this.#address;
  }

  async start(): Promise<void> {
    await this.#routes.start();
    const { host, port } = parseHostPort(this.#deps.config.address);
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.removeListener('error', reject);
        resolve();
      });
    });
    this.#address = joinHostPort(host, (this.#server.address() as AddressInfo).port);
    this.#deps.logger.info('gateway listening', { address: this.#address, plugins: this.#deps.plugins.map((plugin) => plugin.name) });
  }

  async stop(): Promise<void> {
    this.#routes.stop();
    for (const mount of this.#deps.mounts ?? []) mount.close?.();
    await Promise.all(this.#deps.plugins.map((plugin) => plugin.close?.()));
    this.#server.closeIdleConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const exchange: GatewayExchange = { request, response, remoteAddress: remoteAddressOf(request), startedAt: Date.now(), metadata: {}, state: new Map() };
    const outcome: GatewayOutcome = { status: 0, handledBy: 'none' };
    response.once('finish', () => this.#finished(exchange, Object.assign(outcome, { status: response.statusCode })));
    // A client that goes away before the answer still ends the exchange for the plugins: 499, as nginx records it.
    response.once('close', () => {
      if (!response.writableFinished) this.#finished(exchange, Object.assign(outcome, { status: 499, handledBy: outcome.handledBy }));
    });
    for (const [name, value] of Object.entries(corsHeaders(this.#deps.config.cors, request))) response.setHeader(name, value);
    try {
      // Plugins first: an access-control plugin (the IP whitelist) must see preflights too.
      for (const plugin of this.#deps.plugins) {
        if (await plugin.onRequest?.(exchange)) {
          outcome.handledBy = plugin.name;
          return;
        }
      }
      if (this.#deps.config.cors.enabled && isPreflight(request)) {
        outcome.handledBy = 'cors';
        response.writeHead(204, preflightHeaders(request));
        return void response.end();
      }
      await this.#route(exchange, outcome);
    } catch (error) {
      outcome.error = sendError(response, error);
    }
  }

  /** Answers the request, noting what handled it before answering (the access log reads it when the response ends). */
  async #route(exchange: GatewayExchange, outcome: GatewayOutcome): Promise<void> {
    const handled = (by: string): void => void (outcome.handledBy = by);
    const { request, response } = exchange;
    const url = new URL(request.url ?? '/', 'http://gateway');
    const path = url.pathname;
    const method = request.method ?? 'GET';
    const config = this.#deps.config;
    if (path === config.healthPath && (method === 'GET' || method === 'HEAD')) {
      handled('health');
      return sendJson(response, 200, { status: 'ok' });
    }
    for (const mount of this.#deps.mounts ?? []) {
      if (path === mount.path || path.startsWith(`${mount.path}/`)) {
        handled('dashboard');
        return mount.handle(exchange, path.slice(mount.path.length) || '/');
      }
    }
    if (path === config.rpcPath) {
      handled('rpc');
      if (method !== 'POST') throw new MicroError(ERROR_ID, 405, `${config.rpcPath} takes POST with { service, endpoint, request, metadata }`);
      return this.#rpc(exchange);
    }
    if (path.startsWith(`${config.eventPath}/`)) {
      handled('event');
      if (method !== 'POST') throw new MicroError(ERROR_ID, 405, `${config.eventPath}/<topic> takes POST with the event as the body`);
      const topic = decodeURIComponent(path.slice(config.eventPath.length + 1));
      if (topic === '') throw MicroError.badRequest(ERROR_ID, `no topic in ${path}`);
      await this.#deps.client.publish(topic, await this.#body(exchange), { metadata: this.#metadata(exchange), context: null });
      return sendJson(response, 202, { published: topic });
    }
    handled('endpoint');
    const match = this.#routes.table.declared(method, path) ?? (await this.#conventional(path));
    if (!match) throw MicroError.notFound(ERROR_ID, `no route for ${method} ${path}`);
    const input = ['GET', 'HEAD', 'DELETE'].includes(method) ? {} : await this.#body(exchange);
    const query = Object.fromEntries(url.searchParams);
    const body = typeof input === 'object' && input !== null && !Array.isArray(input) ? { ...query, ...input, ...match.params } : input;
    await this.#call(exchange, match.service, match.endpoint, body);
  }

  async #rpc(exchange: GatewayExchange): Promise<void> {
    const body = (await this.#body(exchange)) as Record<string, unknown>;
    const service = body?.service;
    const endpoint = body?.endpoint ?? body?.method;
    if (typeof service !== 'string' || service === '' || typeof endpoint !== 'string' || endpoint === '') {
      throw MicroError.badRequest(ERROR_ID, 'the body must be { "service": "<name>", "endpoint": "<Class.method>", "request": {…}, "metadata": {…} }');
    }
    const extra = body.metadata && typeof body.metadata === 'object' ? (body.metadata as Record<string, string>) : {};
    await this.#call(exchange, service, endpoint, body.request ?? {}, extra);
  }

  async #call(exchange: GatewayExchange, service: string, endpoint: string, request: unknown, extra: Record<string, string> = {}): Promise<void> {
    const reply = await this.#deps.client.call(service, endpoint, request, { metadata: { ...this.#metadata(exchange), ...extra }, timeoutMs: this.#deps.config.timeout, context: null });
    if (reply === undefined) {
      exchange.response.writeHead(204);
      exchange.response.end();
    } else sendJson(exchange.response, 200, reply);
  }

  /** `/<service>/<method>` or `/<service>/<Class>/<method>`, the service being `<namespace><first segment>`. */
  async #conventional(path: string): Promise<RouteMatch | undefined> {
    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (segments.length < 2 || segments.length > 3) return undefined;
    const service = `${this.#deps.config.namespace}${segments[0]}`;
    const versions = await this.#deps.cache.getService(service);
    if (versions.length === 0) throw MicroError.notFound(ERROR_ID, `service "${service}" not found (from the path ${path}${this.#deps.config.namespace ? `, namespace "${this.#deps.config.namespace}"` : ''})`);
    const endpoints = versions.flatMap((version) => version.endpoints);
    const { endpoint, candidates } = endpointFromPath(endpoints, segments.slice(1));
    if (endpoint) return { service, endpoint, params: {} };
    if (candidates.length > 1) throw MicroError.notFound(ERROR_ID, `${path} could mean ${candidates.join(' or ')}; use /${segments[0]}/<Class>/<method>`);
    const known = [...new Set(endpoints.map((item) => item.name))].filter((name) => !name.includes(':')).join(', ');
    throw MicroError.notFound(ERROR_ID, `service "${service}" has no endpoint matching ${path}; it has: ${known}`);
  }

  #body(exchange: GatewayExchange): Promise<unknown> {
    return readBody(exchange.request, this.#deps.config.bodyLimit).then((body) => parseJsonBody(body, exchange.request));
  }

  #metadata(exchange: GatewayExchange): Record<string, string> {
    return { ...forwardedMetadata(exchange.request), ...exchange.metadata };
  }

  #finished(exchange: GatewayExchange, outcome: GatewayOutcome & { error?: WireError }): void {
    for (const plugin of this.#deps.plugins) {
      try {
        plugin.onResponse?.(exchange, outcome);
      } catch (error) {
        this.#deps.logger.warn('gateway plugin failed after a response', { plugin: plugin.name, error: (error as Error).message });
      }
    }
    if (this.#deps.config.accessLog) {
      this.#deps.logger.info('access', {
        method: exchange.request.method,
        path: exchange.request.url,
        status: outcome.status,
        ms: Date.now() - exchange.startedAt,
        remote: exchange.remoteAddress,
        handledBy: outcome.handledBy,
      });
    }
  }
}
