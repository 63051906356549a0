import type { App } from '../app/App.js';
import { Tokens } from '../tokens.js';
import { Gateway, type GatewayMount } from './Gateway.js';
import type { GatewayPlugin } from './GatewayPlugin.js';

/**
 * A gateway on an app's client and registry, with the gateway plugins its config chose, in the order
 * `gateway.plugins` lists them.
 *
 * @example
 *   const app = await App.create({ config: { gateway: { plugins: ['ipwhitelist'] } } });
 *   await app.start();
 *   const gateway = createGateway(app);
 *   await gateway.start();
 */
export function createGateway(app: App, mounts: readonly GatewayMount[] = [], extraPlugins: readonly GatewayPlugin[] = []): Gateway {
  return new Gateway({
    client: app.client,
    cache: app.get(Tokens.RegistryCache),
    config: app.config.gateway,
    plugins: [...configuredGatewayPlugins(app), ...extraPlugins],
    mounts,
    logger: app.get(Tokens.Logger).child({ component: 'gateway' }),
  });
}

/** The gateway plugins `gateway.plugins` chose, in the order it lists them. */
export function configuredGatewayPlugins(app: App): GatewayPlugin[] {
  const order = app.loaded.plugins.filter((plugin) => plugin.kind === 'gateway').map((plugin) => plugin.definition.name);
  const plugins: GatewayPlugin[] = [...app.container.getAll(Tokens.GatewayPlugin, { optional: true })];
  return plugins.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
}
