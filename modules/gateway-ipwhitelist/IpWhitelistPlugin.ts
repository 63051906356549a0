import { MicroError } from '../../src/index.js';
import type { GatewayExchange, GatewayPlugin } from '../../src/gateway/GatewayPlugin.js';
import { sendError } from '../../src/gateway/http.js';
import type { Logger } from '../../src/index.js';
import type { AccessDecision, AccessPolicy } from './AccessPolicy.js';

export const IPWHITELIST_ERROR_ID = 'tsmicro.gateway.ipwhitelist';

/**
 * `gateway.plugins: [ipwhitelist]`: requests from addresses outside the allow list get 403 with a wire error
 * naming the address. List it first in `gateway.plugins`: a plugin before it that answers a request (the router)
 * answers before the whitelist is asked.
 */
export class IpWhitelistPlugin implements GatewayPlugin {
  readonly name = 'ipwhitelist';

  constructor(
    private readonly policy: AccessPolicy,
    private readonly logger: Logger,
  ) {}

  onRequest(exchange: GatewayExchange): boolean {
    const decision = this.policy.decide(exchange.remoteAddress, exchange.request.headers);
    // Later plugins (tracing, logging) can read the client address as decided here.
    exchange.state.set(this.name, decision);
    if (decision.allowed) return false;
    this.logger.debug('request refused', { client: decision.client, via: decision.via, method: exchange.request.method, path: exchange.request.url });
    // Close the connection after answering: nothing else from this client will be served.
    exchange.response.setHeader('connection', 'close');
    sendError(exchange.response, new MicroError(IPWHITELIST_ERROR_ID, 403, refusal(decision)));
    return true;
  }
}

function refusal(decision: AccessDecision): string {
  const shown = /^[\da-f.:]+$/i.test(decision.client) ? decision.client : JSON.stringify(decision.client.slice(0, 100));
  return `address ${shown} is not allowed to use this gateway${decision.via ? ` (forwarded by ${decision.via})` : ''}`;
}
