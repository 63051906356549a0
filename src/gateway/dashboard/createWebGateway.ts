import type { App } from '../../app/App.js';
import { Tokens } from '../../tokens.js';
import { Gateway } from '../Gateway.js';
import type { GatewayPlugin } from '../GatewayPlugin.js';
import type { Dashboard } from './Dashboard.js';
import { createDashboard } from './createDashboard.js';
import type { EventStreamLimits } from './EventStreams.js';

/**
 * `tsmicro web`: a gateway serving only the dashboard, at the root of the site, plus `gateway.rpcPath` (the page
 * calls endpoints through it) and `gateway.healthPath`. The gateway would match a mount at the root before its
 * rpcPath, so the dashboard is served by a plugin placed after the configured ones instead: IP allow-lists and
 * auth plugins still run first, and rpcPath and healthPath are left to the gateway's own routing.
 */
export function createWebGateway(app: App, options: { events?: Partial<EventStreamLimits> } = {}): { gateway: Gateway; dashboard: Dashboard } {
  const config = app.config.gateway;
  const dashboard = createDashboard(app, { path: '', events: options.events });
  const site: GatewayPlugin = {
    name: 'dashboard',
    async onRequest(exchange) {
      const path = new URL(exchange.request.url ?? '/', 'http://gateway').pathname;
      if (path === config.rpcPath || path === config.healthPath) return false;
      await dashboard.handle(exchange, path);
      return true;
    },
    close: () => dashboard.close(),
  };
  const gateway = new Gateway({
    client: app.client,
    cache: app.get(Tokens.RegistryCache),
    config,
    plugins: [...configuredPlugins(app), site],
    logger: app.get(Tokens.Logger).child({ component: 'gateway' }),
  });
  return { gateway, dashboard };
}

/** The gateway plugins `gateway.plugins` chose, in its order (as createGateway orders them). */
function configuredPlugins(app: App): GatewayPlugin[] {
  const order = app.loaded.plugins.filter((plugin) => plugin.kind === 'gateway').map((plugin) => plugin.definition.name);
  const plugins = [...app.container.getAll(Tokens.GatewayPlugin, { optional: true })];
  return plugins.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
}
