import type { Service } from '../registry/Registry.js';
import type { SelectOptions, Selection } from './Selector.js';

function matchesMetadata(wanted: Record<string, string>, node: Record<string, string>, version: Record<string, string>): boolean {
  for (const key in wanted) {
    const actual = node[key] ?? version[key];
    if (actual !== wanted[key]) return false;
  }
  return true;
}

const flattened = new WeakMap<readonly Service[], Selection[]>();

/** Every node of every version that passes the filters. Unfiltered results are memoised per registry answer. */
export function candidates(services: readonly Service[], options: SelectOptions): Selection[] {
  const unfiltered = options.version === undefined && options.metadata === undefined;
  if (unfiltered) {
    const cached = flattened.get(services);
    if (cached) return cached;
  }
  const out: Selection[] = [];
  for (const service of services) {
    if (options.version !== undefined && service.version !== options.version) continue;
    for (const node of service.nodes) {
      if (options.metadata && !matchesMetadata(options.metadata, node.metadata ?? {}, service.metadata ?? {})) continue;
      out.push({ service, node });
    }
  }
  if (unfiltered) flattened.set(services, out);
  return out;
}

/** "1.0.0 (2 nodes), 2.0.0 (1 node)": what a "no match" error tells the user exists. */
export function describeVersions(services: readonly Service[]): string {
  return services.map((service) => `${service.version || '(none)'} (${service.nodes.length} node${service.nodes.length === 1 ? '' : 's'})`).join(', ');
}
