import type { App } from '../app/App.js';
import { createDashboard, dashboardMountPath } from './dashboard/createDashboard.js';
import type { GatewayMount } from './Gateway.js';

/**
 * The parts of the site the gateway serves besides its routes: the dashboard at `gateway.dashboardPath`
 * (none when it is empty). A dashboardPath that would hide the gateway's own paths is a ConfigError.
 */
export function gatewayMounts(app: App): GatewayMount[] {
  const path = dashboardMountPath(app.config.gateway);
  return path === undefined ? [] : [createDashboard(app, { path })];
}
