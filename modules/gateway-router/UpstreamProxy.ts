import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { GatewayExchange } from '../../src/gateway/GatewayPlugin.js';
import type { Logger } from '../../src/index.js';
import { upstreamRequestHeaders } from './forwardHeaders.js';
import { ProxyCall } from './ProxyCall.js';
import type { RequestFacts } from './requestFacts.js';
import type { ProxyAction, Route } from './routeTypes.js';
import { upstreamPath } from './upstreamPath.js';

/**
 * Forwards requests to upstreams over Node's http/https clients, keeping connections to each upstream alive
 * between requests (a new TCP and TLS handshake per request would double the latency of small calls).
 */
export class UpstreamProxy {
  readonly #httpAgent = new HttpAgent({ keepAlive: true });
  readonly #httpsAgent = new HttpsAgent({ keepAlive: true });
  #closed = false;

  constructor(private readonly logger: Logger) {
    for (const agent of [this.#httpAgent, this.#httpsAgent]) {
      // After close, a connection whose request just finished is closed instead of being kept for reuse.
      agent.on('free', (socket) => {
        if (this.#closed) socket.destroy();
      });
    }
  }

  forward(exchange: GatewayExchange, route: Route & { action: ProxyAction }, facts: RequestFacts): void {
    const { action } = route;
    new ProxyCall(
      exchange,
      {
        route,
        path: upstreamPath(action, route.when.path, facts),
        headers: upstreamRequestHeaders(exchange.request, exchange.remoteAddress, action),
        agent: action.url.protocol === 'https:' ? this.#httpsAgent : this.#httpAgent,
      },
      this.logger,
    ).start();
  }

  /** Closes the idle upstream connections now, and the busy ones as their requests finish (they are not cut). */
  close(): void {
    this.#closed = true;
    for (const agent of [this.#httpAgent, this.#httpsAgent]) {
      for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
    }
  }
}
