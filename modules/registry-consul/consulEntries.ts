import type { NodeEntry } from '../../src/registry/serviceModel.js';
import { decodeTags } from './consulTags.js';

/** One element of GET /v1/health/service/<name>. */
export interface HealthEntry {
  Node: { Node: string; Address: string };
  Service: { ID: string; Service: string; Tags: string[] | null; Address: string; Port: number };
  Checks: { CheckID: string; Status: string }[];
}

function hostPort(host: string, port: number): string {
  if (!port) return host;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Turns health entries into node entries: only nodes with every check passing (a node whose TTL check lapsed is
 * critical and left out), the version and the rest decoded from go-micro's tags.
 */
export function entriesFromHealth(name: string, health: readonly HealthEntry[]): NodeEntry[] {
  const entries: NodeEntry[] = [];
  for (const item of health) {
    if (item.Service.Service !== name) continue;
    if (item.Checks.some((check) => check.Status !== 'passing')) continue;
    const fields = decodeTags(item.Service.Tags ?? []);
    entries.push({
      service: { name, version: fields.version, metadata: fields.serviceMetadata, endpoints: fields.endpoints },
      node: { id: item.Service.ID, address: hostPort(item.Service.Address || item.Node.Address, item.Service.Port), metadata: fields.nodeMetadata },
      expiresAt: 0,
    });
  }
  return entries;
}
