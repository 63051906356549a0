import type { Endpoint, Node } from '../../src/index.js';
import type { NodeEntry } from '../../src/registry/serviceModel.js';

/**
 * The etcd layout: one key per node, `<prefix><service>/<version>/<node id>`, holding the node's entry as JSON in
 * go-micro's shape (the service with its one node). Each segment is URI-encoded, so a `/` inside a name cannot
 * shift the segments and `getService("a")` never reads the keys of service `a/b`.
 */
const segment = (value: string): string => encodeURIComponent(value);

/** Every key of one service, all versions: what getService and a per-service watch range over. */
export function servicePrefix(prefix: string, name: string): string {
  return `${prefix}${segment(name)}/`;
}

export function nodeKey(prefix: string, name: string, version: string, nodeId: string): string {
  return `${servicePrefix(prefix, name)}${segment(version)}/${segment(nodeId)}`;
}

export function keyOfEntry(prefix: string, entry: NodeEntry): string {
  return nodeKey(prefix, entry.service.name, entry.service.version, entry.node.id);
}

/** The stored value. Built field by field so the same entry always gives the same bytes (renewals compare them). */
export function encodeEntry(entry: NodeEntry): string {
  const { name, version, metadata, endpoints } = entry.service;
  return JSON.stringify({ name, version, metadata, endpoints, nodes: [{ id: entry.node.id, address: entry.node.address, metadata: entry.node.metadata }] });
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringMap = (value: unknown): value is Record<string, string> => isRecord(value) && Object.values(value).every((item) => typeof item === 'string');

/**
 * Reads a stored value back, or says why it is not a tsmicro node entry. Anything can write under the prefix
 * (another tool, a person with etcdctl, an older format), so nothing is trusted: the caller skips and logs what
 * this refuses instead of handing it to the selector.
 */
export function decodeEntry(prefix: string, key: string, value: string): NodeEntry | { invalid: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { invalid: 'value is not JSON' };
  }
  if (!isRecord(parsed)) return { invalid: 'value is not a JSON object' };
  const { name, version, metadata = {}, endpoints = [], nodes } = parsed;
  if (typeof name !== 'string' || name === '') return { invalid: 'no service name' };
  if (typeof version !== 'string') return { invalid: 'no version string' };
  if (!isStringMap(metadata)) return { invalid: 'service metadata is not a map of strings' };
  if (!Array.isArray(endpoints) || !endpoints.every((endpoint) => isRecord(endpoint) && typeof endpoint.name === 'string')) return { invalid: 'endpoints are not a list of named endpoints' };
  if (!Array.isArray(nodes) || nodes.length !== 1) return { invalid: 'not exactly one node' };
  const node: unknown = nodes[0];
  if (!isRecord(node) || typeof node.id !== 'string' || node.id === '' || typeof node.address !== 'string') return { invalid: 'node has no id or address' };
  const nodeMetadata = node.metadata ?? {};
  if (!isStringMap(nodeMetadata)) return { invalid: 'node metadata is not a map of strings' };
  const entry: NodeEntry = {
    service: { name, version, metadata, endpoints: endpoints as unknown as Endpoint[] },
    node: { id: node.id, address: node.address, metadata: nodeMetadata } satisfies Node,
    expiresAt: 0,
  };
  // A value copied under another key would otherwise show up twice, or under the wrong service.
  if (keyOfEntry(prefix, entry) !== key) return { invalid: `key does not match the entry (expected ${keyOfEntry(prefix, entry)})` };
  return entry;
}

/** etcd leases live in whole seconds: a TTL is rounded up, and is at least 1 s. 0: no lease (until deregistered). */
export function leaseSeconds(ttlMs: number | undefined): number {
  if (!ttlMs || ttlMs <= 0) return 0;
  return Math.max(1, Math.ceil(ttlMs / 1000));
}
