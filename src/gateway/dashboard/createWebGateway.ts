import type { App } from '../../app/App.js';
import { isPreflight } from '../corsHeaders.js';
import { createGateway } from '../createGateway.js';
import type { Gateway } from '../Gateway.js';
import type { GatewayPlugin } from '../GatewayPlugin.js';
import type { Dashboard } from './Dashboard.js';
import { createDashboard } from './createDashboard.js';
import type { EventStreamLimits } from './EventStreams.js';

/**
 * `tsmicro web`: a gateway serving only the dashboard, at the root of the site, plus `gateway.rpcPath` (the page
 * calls endpoints through it) and `gateway.healthPath`. The gateway would match a mount at the root before its
 * rpcPath, so the dashboard is served by a plugin placed after the configured ones instead: IP allow-lists and
 * auth plugins still run first, and rpcPath, healthPath and CORS preflights are left to the gateway.
 */
export function createWebGateway(app: App, options: { events?: Partial<EventStreamLimits> } = {}): { gateway: Gateway; dashboard: Dashboard } {
  const config = app.config.gateway;
  const dashboard = createDashboard(app, { path: '', events: options.events });
  const site: GatewayPlugin = {
    name: 'dashboard',
    async onRequest(exchange) {
      const path = new URL(exchange.request.url ?? '/', 'http://gateway').pathname;
      if (path === config.rpcPath || path === config.healthPath) return false;
      // CORS preflights are the gateway's to answer, as they are for a mounted dashboard under `tsmicro api`.
      if (config.cors.enabled && isPreflight(exchange.request)) return false;
      await dashboard.handle(exchange, path);
      return true;
    },
    close: () => dashboard.close(),
  };
  return { gateway: createGateway(app, [], [site]), dashboard };
}
