import semver from 'semver';
import { BROKER_SERVICE_PREFIX } from '../../broker/DirectBroker.js';
import type { RegistryCache } from '../../registry/cache/RegistryCache.js';
import type { Endpoint, Node, Registry, Service, Value } from '../../registry/Registry.js';

/** One service as the dashboard API returns it: every version with its nodes and endpoints. */
export interface ServiceView {
  name: string;
  versions: VersionView[];
}

export interface VersionView {
  version: string;
  metadata: Record<string, string>;
  nodes: Node[];
  endpoints: Endpoint[];
}

/** The direct broker advertises its subscriptions as `tsmicro.broker.<topic>` services: plumbing, not services. */
export function isHiddenService(name: string): boolean {
  return name.startsWith(BROKER_SERVICE_PREFIX);
}

/**
 * Reads the registry for the dashboard. Versions come through the registry cache the client uses, so a page
 * refreshing often does not cost a registry round trip per service; the dashboard's own watch invalidates a
 * service's entry before telling the tabs, so what they fetch after a change event is current.
 */
export class ServiceCatalog {
  constructor(
    private readonly registry: Registry,
    private readonly cache: RegistryCache,
  ) {}

  async list(): Promise<ServiceView[]> {
    const names = [...new Set((await this.registry.listServices()).map((service) => service.name))].filter((name) => !isHiddenService(name));
    const views = await Promise.all(names.sort(compareText).map((name) => this.get(name)));
    // A service listed a moment ago may have stopped since: leave it out rather than show it without versions.
    return views.filter((view): view is ServiceView => view !== undefined);
  }

  async get(name: string): Promise<ServiceView | undefined> {
    if (isHiddenService(name)) return undefined;
    const versions = await this.cache.getService(name);
    if (versions.length === 0) return undefined;
    return { name, versions: [...versions].sort(newestFirst).map(toVersionView) };
  }

  /** Forgets the cached versions of `name`, so the next read asks the registry. */
  invalidate(name: string): void {
    this.cache.invalidate(name);
  }
}

/**
 * Copies field by field: the API shows the registry's data model, not whatever extra properties a registry
 * plugin's objects carry, and the cache's shared arrays are never handed out.
 */
function toVersionView(service: Service): VersionView {
  return {
    version: service.version,
    metadata: { ...service.metadata },
    nodes: [...service.nodes].sort((a, b) => compareText(a.id, b.id)).map((node) => ({ id: node.id, address: node.address, metadata: { ...node.metadata } })),
    endpoints: service.endpoints.map((endpoint) => ({
      name: endpoint.name,
      request: copyValue(endpoint.request),
      response: copyValue(endpoint.response),
      metadata: { ...endpoint.metadata },
    })),
  };
}

function copyValue(value: Value | null | undefined): Value | null {
  if (!value) return null;
  const copy: Value = { name: value.name, type: value.type };
  if (value.values) copy.values = value.values.map((field) => copyValue(field)!);
  return copy;
}

/** Semantic versions newest first; anything else (`latest`, dates) after them, alphabetically. */
function newestFirst(a: Service, b: Service): number {
  const validA = semver.valid(a.version);
  const validB = semver.valid(b.version);
  if (validA && validB) return semver.rcompare(validA, validB);
  if (validA || validB) return validA ? -1 : 1;
  return compareText(a.version, b.version);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
