import { createHash } from 'node:crypto';
import type { ServiceEntry } from '../../src/index.js';
import type { NodeEntry } from '../../src/registry/serviceModel.js';

/**
 * go-micro's kubernetes registry keeps everything on the pod: the labels `micro.mu/type=service` and
 * `micro.mu/selector-<service>=service`, and the annotation `micro.mu/service-<service>` holding the service as
 * JSON. tsmicro writes the same, so each can find the other's services. Extensions go-micro ignores: each node
 * carries `expires` (its TTL), and a second version of a service on one pod gets its own annotation.
 */
export const TYPE_LABEL = 'micro.mu/type';
export const SERVICE_ANNOTATION_PREFIX = 'micro.mu/service-';

/** Label and annotation names are at most 63 characters after the prefix; longer service names are shortened with a hash. */
function fit(name: string): string {
  if (name.length <= 63) return name;
  return `${name.slice(0, 54)}-${createHash('sha1').update(name).digest('hex').slice(0, 8)}`;
}

/** go-micro's rule: characters other than letters, digits, '-', '_' and '.' become '_'. */
export function sanitise(service: string): string {
  return service.replace(/[^-A-Za-z0-9_.]/g, '_');
}

export function selectorLabel(service: string): string {
  return `micro.mu/${fit(`selector-${sanitise(service)}`)}`;
}

export function annotationKey(service: string, version: string, primaryVersion: string | undefined): string {
  const base = `service-${sanitise(service)}`;
  if (primaryVersion === undefined || primaryVersion === version) return `micro.mu/${fit(base)}`;
  return `micro.mu/${fit(`${base}-v${createHash('sha1').update(version).digest('hex').slice(0, 8)}`)}`;
}

export interface PodLike {
  metadata?: { name?: string; resourceVersion?: string; labels?: Record<string, string | null> | null; annotations?: Record<string, string | null> | null; deletionTimestamp?: string | null };
  status?: { phase?: string };
}

/** The service as stored: go-micro's JSON, each node with our `expires` (epoch ms, 0 for never). */
export type StoredService = ServiceEntry & { nodes: (ServiceEntry['nodes'][number] & { expires?: number })[] };

export function parseStored(text: string | null | undefined): StoredService | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as StoredService;
    if (typeof value?.name !== 'string' || !Array.isArray(value.nodes)) return undefined;
    return value;
  } catch {
    return undefined;
  }
}

/** Pods count only while Running and not being deleted: go-micro's rule, plus the deletion check of v3+. */
export function isServing(pod: PodLike): boolean {
  return pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp;
}

/** Every live node entry a pod holds, optionally only for one service. Unreadable annotations are reported, not fatal. */
export function entriesOfPod(pod: PodLike, now: number, only: string | undefined, onUnreadable: (key: string) => void): NodeEntry[] {
  if (!isServing(pod)) return [];
  const entries: NodeEntry[] = [];
  for (const [key, text] of Object.entries(pod.metadata?.annotations ?? {})) {
    if (!key.startsWith(SERVICE_ANNOTATION_PREFIX) || text === null) continue;
    const stored = parseStored(text);
    if (!stored) {
      onUnreadable(`${pod.metadata?.name}/${key}`);
      continue;
    }
    if (only !== undefined && stored.name !== only) continue;
    for (const node of stored.nodes) {
      const expires = node.expires ?? 0;
      if (expires !== 0 && expires <= now) continue;
      entries.push({
        service: { name: stored.name, version: stored.version ?? '', metadata: stored.metadata ?? {}, endpoints: stored.endpoints ?? [] },
        node: { id: node.id, address: node.address, metadata: node.metadata ?? {} },
        expiresAt: expires,
      });
    }
  }
  return entries;
}
