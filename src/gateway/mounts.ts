import type { App } from '../app/App.js';
import type { GatewayMount } from './Gateway.js';

/** The parts of the site the gateway serves besides its routes (the dashboard at `gateway.dashboardPath`). */
export function gatewayMounts(_app: App): GatewayMount[] {
  return [];
}
