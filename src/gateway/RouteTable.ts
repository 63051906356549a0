import type { Endpoint, Service as ServiceEntry } from '../registry/Registry.js';

/** Where a request goes: a service, one of its endpoints, and the values taken from the path. */
export interface RouteMatch {
  service: string;
  endpoint: string;
  params: Record<string, string>;
}

interface DeclaredRoute {
  methods: Set<string>;
  pattern: RegExp;
  names: string[];
  service: string;
  endpoint: string;
}

/** `/orders/:id/items` → a regular expression and the parameter names. */
function compile(path: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const source = path
    .split('/')
    .map((segment) => {
      if (segment.startsWith(':')) {
        names.push(segment.slice(1));
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { pattern: new RegExp(`^${source}/?$`), names };
}

/** `say-hello` → `sayhello`, for comparing a path segment with a method name whatever its case. */
const squash = (text: string): string => text.replace(/[-_]/g, '').toLowerCase();

/**
 * The gateway's routes: paths that endpoints declare in their metadata (`method`, `path`, as go-micro's API
 * encodes them), and the conventional mapping of `/<service>/<method>` or `/<service>/<Class>/<method>`.
 */
export class RouteTable {
  readonly #declared: DeclaredRoute[] = [];

  constructor(services: readonly ServiceEntry[]) {
    for (const service of services) {
      for (const endpoint of service.endpoints) {
        const path = endpoint.metadata?.path;
        if (!path) continue;
        const methods = new Set((endpoint.metadata.method ?? 'POST').split(',').map((method) => method.trim().toUpperCase()));
        this.#declared.push({ ...compile(path), methods, service: service.name, endpoint: endpoint.name });
      }
    }
  }

  get size(): number {
    return this.#declared.length;
  }

  declared(method: string, path: string): RouteMatch | undefined {
    for (const route of this.#declared) {
      const match = route.pattern.exec(path);
      if (!match || !route.methods.has(method)) continue;
      const params = Object.fromEntries(route.names.map((name, index) => [name, decodeURIComponent(match[index + 1]!)]));
      return { service: route.service, endpoint: route.endpoint, params };
    }
    return undefined;
  }
}

/**
 * Picks the endpoint a conventional path names among a service's endpoints: `say-hello` matches `*.sayHello`,
 * `Greeter/say-hello` matches `Greeter.sayHello`, whatever the case. Returns the candidates when it is ambiguous.
 */
export function endpointFromPath(endpoints: readonly Endpoint[], segments: readonly string[]): { endpoint?: string; candidates: string[] } {
  const names = endpoints.map((endpoint) => endpoint.name).filter((name) => !name.includes(':'));
  if (segments.length === 2) {
    const wanted = `${squash(segments[0]!)}.${squash(segments[1]!)}`;
    const found = names.find((name) => name.split('.').map(squash).join('.') === wanted);
    return { endpoint: found, candidates: found ? [found] : [] };
  }
  if (segments.length === 1) {
    const matches = names.filter((name) => squash(name.split('.').at(-1)!) === squash(segments[0]!));
    return { endpoint: matches.length === 1 ? matches[0] : undefined, candidates: matches };
  }
  return { candidates: [] };
}
