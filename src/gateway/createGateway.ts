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
export function createGateway(app: App, mounts: readonly GatewayMount[] = []): Gateway {
  const order = app.loaded.plugins.filter((plugin) => plugin.kind === 'gateway').map((plugin) => plugin.definition.name);
  const plugins: GatewayPlugin[] = [...app.container.getAll(Tokens.GatewayPlugin, { optional: true })];
  plugins.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  return new Gateway({
    client: app.client,
    cache: app.get(Tokens.RegistryCache),
    config: app.config.gateway,
    plugins,
    mounts,
    logger: app.get(Tokens.Logger).child({ component: 'gateway' }),
  });
}
