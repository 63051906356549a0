import type { IncomingMessage } from 'node:http';
import type { GatewayConfig } from '../config/MicroConfig.js';

/** The CORS headers for a request from `origin`, or none when CORS is off or the origin is not allowed. */
export function corsHeaders(config: GatewayConfig['cors'], request: IncomingMessage): Record<string, string> {
  const origin = request.headers.origin;
  if (!config.enabled || !origin) return {};
  const any = config.origins.includes('*');
  if (!any && !config.origins.includes(origin)) return {};
  const headers: Record<string, string> = {
    // With credentials the origin must be named; '*' is refused by browsers then.
    'access-control-allow-origin': any && !config.credentials ? '*' : origin,
    vary: 'Origin',
  };
  if (config.credentials) headers['access-control-allow-credentials'] = 'true';
  return headers;
}

export function isPreflight(request: IncomingMessage): boolean {
  return request.method === 'OPTIONS' && request.headers.origin !== undefined && request.headers['access-control-request-method'] !== undefined;
}

export function preflightHeaders(request: IncomingMessage): Record<string, string> {
  return {
    'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
    'access-control-allow-headers': String(request.headers['access-control-request-headers'] ?? 'content-type'),
    'access-control-max-age': '600',
  };
}
