import type { RequestFacts } from './requestFacts.js';
import type { ProxyAction } from './routeTypes.js';

/**
 * The path and query asked of the upstream: the proxy URL's base path joined with the request's path (without
 * the rule's prefix when `stripPrefix`), then the client's query unchanged.
 *
 * @example
 *   // proxy.url http://orders:8080/api, match.path /orders, stripPrefix: /orders/7?full=1 → /api/7?full=1
 */
export function upstreamPath(action: ProxyAction, prefix: string, facts: RequestFacts): string {
  const rest = action.stripPrefix && prefix !== '/' ? facts.path.slice(prefix.length) : facts.path;
  return joinPaths(action.url.pathname, rest) + facts.search;
}

/** Exactly one `/` between the parts; anything else in `rest` (double slashes included) is kept as sent. */
function joinPaths(base: string, rest: string): string {
  if (rest === '') return base || '/';
  const tail = rest.startsWith('/') ? rest : `/${rest}`;
  if (base === '' || base === '/') return tail;
  return (base.endsWith('/') ? base.slice(0, -1) : base) + tail;
}
