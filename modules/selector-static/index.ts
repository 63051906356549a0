import { ContainerModule, CORE_VERSION, definePlugin, Tokens } from '../../src/index.js';
import { StaticSelector, type StaticSelectorOptions } from './StaticSelector.js';

/**
 * `selector: static`: calls go to `<service>[.<domain>][:<port>]` (or an explicit address per service) without
 * asking the registry. The option env names are go-micro's.
 */
export default definePlugin<StaticSelectorOptions>({
  name: 'static',
  kind: 'selector',
  description: 'Address from the service name (DNS, Kubernetes Services) or an explicit map; no registry lookup',
  provides: ['Selector'],
  core: `^${CORE_VERSION}`,
  options: {
    domain: { doc: 'Domain appended to the service name', format: String, default: '', env: 'STATIC_SELECTOR_DOMAIN_NAME' },
    port: { doc: 'Port appended to the address (0 for none)', format: 'port', default: 8080, env: 'STATIC_SELECTOR_PORT_NUMBER' },
    services: { doc: 'Explicit addresses by service name, k=v pairs', format: 'string-map', default: {}, env: 'STATIC_SELECTOR_SERVICES' },
  },
  create: ({ options }) =>
    new ContainerModule(({ rebind }) => {
      rebind(Tokens.Selector).toConstantValue(new StaticSelector(options));
    }),
});
