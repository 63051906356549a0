import { deflateSync, inflateSync } from 'node:zlib';
import type { Endpoint } from '../../src/index.js';

/**
 * go-micro's consul registry keeps everything but the name and address in service tags, each value as
 * hex(zlib(json)): `e-` one per endpoint, `t-` one per node metadata pair, `v-` the version. Writing the same tags
 * lets go-micro services read tsmicro's entries and the other way round. go-micro drops service-level metadata;
 * tsmicro keeps it in one extra `m-` tag, which go-micro ignores.
 */
function encode(value: unknown): string {
  return deflateSync(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value))).toString('hex');
}

function decode(text: string): string | undefined {
  try {
    return inflateSync(Buffer.from(text, 'hex')).toString('utf8');
  } catch {
    return undefined;
  }
}

function decodeJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

export interface TaggedFields {
  version: string;
  endpoints: Endpoint[];
  nodeMetadata: Record<string, string>;
  serviceMetadata: Record<string, string>;
}

export function encodeTags(fields: TaggedFields): string[] {
  const tags = Object.entries(fields.nodeMetadata).map(([key, value]) => `t-${encode({ [key]: value })}`);
  for (const endpoint of fields.endpoints) tags.push(`e-${encode(endpoint)}`);
  tags.push(`v-${encode(fields.version)}`);
  if (Object.keys(fields.serviceMetadata).length > 0) tags.push(`m-${encode(fields.serviceMetadata)}`);
  return tags;
}

/** Reads the tags back; also the legacy plain forms `e=`, `t=`, `v=` that older go-micro versions wrote. Tags it cannot read are skipped. */
export function decodeTags(tags: readonly string[]): TaggedFields & { hasVersion: boolean } {
  const fields: TaggedFields & { hasVersion: boolean } = { version: '', endpoints: [], nodeMetadata: {}, serviceMetadata: {}, hasVersion: false };
  for (const tag of tags) {
    const kind = tag.slice(0, 2);
    const raw = tag.slice(2);
    const text = kind.endsWith('-') ? decode(raw) : kind.endsWith('=') ? raw : undefined;
    if (text === undefined) continue;
    switch (kind[0]) {
      case 'e': {
        const endpoint = decodeJson<Endpoint>(text);
        if (endpoint?.name) fields.endpoints.push({ name: endpoint.name, request: endpoint.request ?? null, response: endpoint.response ?? null, metadata: endpoint.metadata ?? {} });
        break;
      }
      case 't':
        Object.assign(fields.nodeMetadata, decodeJson<Record<string, string>>(text) ?? {});
        break;
      case 'v':
        fields.version = text;
        fields.hasVersion = true;
        break;
      case 'm':
        Object.assign(fields.serviceMetadata, decodeJson<Record<string, string>>(text) ?? {});
        break;
    }
  }
  return fields;
}
