import type { Node, Service, WatchAction, WatchResult } from './Registry.js';

/**
 * Registries store one entry per node; these helpers turn a registered Service into entries and entries back
 * into Services, and compute the watch results between two snapshots. Every registry in the project shares
 * them, so grouping and change detection behave the same whatever the backend.
 */
export interface NodeEntry {
  service: Omit<Service, 'nodes'>;
  node: Node;
  /** Epoch milliseconds after which the entry is dead; 0 for never. */
  expiresAt: number;
}

export function entryKey(name: string, version: string, nodeId: string): string {
  return `${name}\u0000${version}\u0000${nodeId}`;
}

export function keyOf(entry: NodeEntry): string {
  return entryKey(entry.service.name, entry.service.version, entry.node.id);
}

/** Checks what every registry needs before it stores anything; the message says which field is wrong. */
export function assertRegistrable(service: Service): void {
  if (typeof service?.name !== 'string' || service.name === '') throw new TypeError('registry: service.name must be a non-empty string');
  if (typeof service.version !== 'string') throw new TypeError(`registry: service "${service.name}" has no version string`);
  if (!Array.isArray(service.nodes) || service.nodes.length === 0) throw new TypeError(`registry: service "${service.name}" has no nodes to register`);
  for (const node of service.nodes) {
    if (typeof node?.id !== 'string' || node.id === '') throw new TypeError(`registry: a node of "${service.name}" has no id`);
    if (typeof node.address !== 'string') throw new TypeError(`registry: node "${node.id}" of "${service.name}" has no address`);
  }
}

export function toEntries(service: Service, ttlMs: number | undefined, now: number): NodeEntry[] {
  const { nodes, ...rest } = service;
  const info = { name: rest.name, version: rest.version, metadata: { ...(rest.metadata ?? {}) }, endpoints: structuredClone(rest.endpoints ?? []) };
  const expiresAt = ttlMs && ttlMs > 0 ? now + ttlMs : 0;
  return nodes.map((node) => ({ service: info, node: { id: node.id, address: node.address, metadata: { ...(node.metadata ?? {}) } }, expiresAt }));
}

export function isLive(entry: NodeEntry, now: number): boolean {
  return entry.expiresAt === 0 || entry.expiresAt > now;
}

/** The part of an entry whose change is an `update`; renewing the TTL alone is not a change. */
export function fingerprint(entry: NodeEntry): string {
  return JSON.stringify([entry.service, entry.node]);
}

/** Groups entries into one Service per name and version. */
export function toServices(entries: Iterable<NodeEntry>): Service[] {
  const byVersion = new Map<string, Service>();
  for (const entry of entries) {
    const key = `${entry.service.name}\u0000${entry.service.version}`;
    let service = byVersion.get(key);
    if (!service) {
      service = { ...structuredClone(entry.service), nodes: [] };
      byVersion.set(key, service);
    }
    service.nodes.push(structuredClone(entry.node));
  }
  return [...byVersion.values()];
}

export function resultOf(action: WatchAction, entry: NodeEntry): WatchResult {
  return { action, service: { ...structuredClone(entry.service), nodes: [structuredClone(entry.node)] } };
}

/** The watch results that turn snapshot `before` into snapshot `after` (both keyed by `keyOf`). */
export function diffSnapshots(before: ReadonlyMap<string, NodeEntry>, after: ReadonlyMap<string, NodeEntry>): WatchResult[] {
  const results: WatchResult[] = [];
  for (const [key, entry] of after) {
    const previous = before.get(key);
    if (!previous) results.push(resultOf('create', entry));
    else if (fingerprint(previous) !== fingerprint(entry)) results.push(resultOf('update', entry));
  }
  for (const [key, entry] of before) {
    if (!after.has(key)) results.push(resultOf('delete', entry));
  }
  return results;
}
