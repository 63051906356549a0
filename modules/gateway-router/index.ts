import { ContainerModule, ConfigError, CORE_VERSION, definePlugin, Tokens } from '../../src/index.js';
import { RouterPlugin, type InitialRoutes, type RouterSettings } from './RouterPlugin.js';
import { readRoutesText, resolveRoutesPath, RoutesFileError, routesFromText } from './routesFile.js';

export interface RouterOptions {
  file: string;
  timeout: number;
  debounce: number;
  pollInterval: number;
}

/**
 * `gateway.plugins: [router]`: go-micro's router plugin. A routes file (JSON or YAML) of rules that proxy
 * matching requests to URLs or answer them with fixed responses, re-read when it changes. The file is read and
 * checked here, so a bad one stops App.create before anything serves.
 */
export default definePlugin<RouterOptions>({
  name: 'router',
  kind: 'gateway',
  description: 'Rules from a routes file proxy matching requests to URLs or answer them with fixed responses; reloaded on change',
  provides: ['GatewayPlugin'],
  core: `^${CORE_VERSION}`,
  options: {
    file: { doc: 'Routes file (.json, .yaml or .yml): a path (relative to the working directory), file:<path> or a file:// URL', format: String, default: '', env: 'MICRO_API_ROUTER_FILE' },
    timeout: { doc: 'Upstream timeout of proxy rules that set none: the longest the upstream may stay silent (0: none)', format: 'duration', default: 30_000, env: 'MICRO_API_ROUTER_TIMEOUT' },
    debounce: { doc: 'Quiet time after the routes file changes before it is re-read', format: 'duration', default: 100, env: 'MICRO_API_ROUTER_DEBOUNCE' },
    pollInterval: { doc: 'How often the routes file is also checked for changes, for filesystems without change events (0: never)', format: 'duration', default: 2_000, env: 'MICRO_API_ROUTER_POLL_INTERVAL' },
  },
  async create({ options, cwd }) {
    if (options.file.trim() === '') {
      throw new ConfigError('CONFIG_INVALID_VALUE', 'gateway.router.file is not set: the router plugin needs a routes file (gateway.router.file, env MICRO_API_ROUTER_FILE)');
    }
    const settings: RouterSettings = { file: resolveRoutesPath(options.file, cwd), timeoutMs: options.timeout, debounceMs: options.debounce, pollMs: options.pollInterval };
    let initial: InitialRoutes;
    try {
      const text = await readRoutesText(settings.file);
      initial = { text, routes: routesFromText(text, settings.file, settings) };
    } catch (error) {
      if (!(error instanceof RoutesFileError)) throw error;
      throw new ConfigError('CONFIG_FILE', `routes file ${error.file} (gateway.router.file) ${error.reason}`, { cause: error });
    }
    return new ContainerModule(({ bind }) => {
      bind(Tokens.GatewayPlugin)
        .toDynamicValue((context) => new RouterPlugin(settings, initial, context.get(Tokens.Logger).child({ component: 'gateway', plugin: 'router' })))
        .inSingletonScope();
    });
  },
});
