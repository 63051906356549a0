import type { App } from '../../app/App.js';
import { ConfigError } from '../../config/ConfigError.js';
import type { GatewayConfig } from '../../config/MicroConfig.js';
import { Tokens } from '../../tokens.js';
import { Dashboard, type DashboardOptions } from './Dashboard.js';

/** The dashboard on an app's registry and registry cache. */
export function createDashboard(app: App, options: Omit<DashboardOptions, 'rpcPath'> & { rpcPath?: string }): Dashboard {
  return new Dashboard(
    { registry: app.get(Tokens.Registry), cache: app.get(Tokens.RegistryCache), logger: app.get(Tokens.Logger).child({ component: 'dashboard' }) },
    { rpcPath: app.config.gateway.rpcPath, ...options },
  );
}

/**
 * `gateway.dashboardPath` as a mount path: `''` (off) gives undefined, a trailing slash is dropped. The gateway
 * matches mounts before its rpc and event paths, so a path that would cover them (`/`, `/rpc`) is refused
 * rather than silently taking the gateway's routes, or the very path the page calls endpoints through.
 */
export function dashboardMountPath(config: Pick<GatewayConfig, 'dashboardPath' | 'rpcPath' | 'eventPath'>): string | undefined {
  const configured = config.dashboardPath.trim();
  if (configured === '') return undefined;
  const path = configured.replace(/\/+$/, '');
  const invalid = (why: string): ConfigError => new ConfigError('CONFIG_INVALID_VALUE', `gateway.dashboardPath "${configured}" ${why}`);
  if (!configured.startsWith('/')) throw invalid('must start with "/" (e.g. /dashboard), or be empty to turn the dashboard off');
  if (path === '') throw invalid('would take every path of the gateway; use a path such as /dashboard, or run `tsmicro web` for a dashboard at the root');
  if (/[?#%\s]/.test(path)) throw invalid('must be a plain path, without ?, #, % or spaces');
  for (const [key, taken] of [['rpcPath', config.rpcPath], ['eventPath', config.eventPath]] as const) {
    if (taken === path || taken.startsWith(`${path}/`)) throw invalid(`would hide gateway.${key} "${taken}"; choose another path`);
  }
  return path;
}
