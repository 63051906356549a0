import type { Endpoint, Node, ServiceEntry as Service, Value } from '../../src/index.js';

/**
 * What the NATS registry puts on the wire, and the checks on what comes back: another process's messages are
 * input like any other, and one malformed entry must not reach the client's selector or the CLI.
 *
 * Every entry carries the time it has left (`ttlMs`), not an expiry date, so the processes' clocks need not agree.
 */
export const WIRE_VERSION = 1;

export interface WireEntry {
  service: Omit<Service, 'nodes'>;
  node: Node;
  /** Milliseconds this entry lives unless renewed; always > 0. */
  ttlMs: number;
}

/**
 * On `<prefix>.watch`: an owner registered/renewed (`put`) or removed/expired (`delete`) some nodes, or stops
 * answering queries (`leave`, its registry closed; its nodes stay until their TTL, as the contract says).
 */
export interface Announcement {
  v: number;
  owner: string;
  action: 'put' | 'delete' | 'leave';
  entries: WireEntry[];
}

/** On `<prefix>.query`: who asks (so it skips its own question) and, optionally, for which service. */
export interface Query {
  v: number;
  from: string;
  service?: string;
}

/** One part of an owner's answer; big answers come in several parts, the last one marked. */
export interface QueryReply {
  v: number;
  owner: string;
  last: boolean;
  /** How long the owner should be expected to answer queries without being heard from again. */
  ttlMs: number;
  entries: WireEntry[];
}

type Check<T> = (value: unknown, where: string) => T;

const fail = (where: string, what: string): never => {
  throw new TypeError(`${where}: ${what}`);
};

const object = (value: unknown, where: string): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : fail(where, 'must be an object');

const string = (value: unknown, where: string, nonEmpty = false): string =>
  typeof value === 'string' && (!nonEmpty || value !== '') ? value : fail(where, nonEmpty ? 'must be a non-empty string' : 'must be a string');

const duration = (value: unknown, where: string): number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fail(where, 'must be a positive number of milliseconds');

/** Metadata maps; a missing one is an empty map, as the registries that wrote it meant. */
const strings = (value: unknown, where: string): Record<string, string> => {
  if (value === undefined) return {};
  const record = object(value, where);
  for (const [key, entry] of Object.entries(record)) string(entry, `${where}.${key}`);
  return record as Record<string, string>;
};

const array = <T>(value: unknown, where: string, item: Check<T>): T[] => (Array.isArray(value) ? value.map((entry, index) => item(entry, `${where}[${index}]`)) : fail(where, 'must be an array'));

function valueTree(value: unknown, where: string, depth = 0): Value {
  if (depth > 32) fail(where, 'is nested too deeply');
  const record = object(value, where);
  const result: Value = { name: string(record.name, `${where}.name`), type: string(record.type, `${where}.type`) };
  if (record.values !== undefined) result.values = array(record.values, `${where}.values`, (child, at) => valueTree(child, at, depth + 1));
  return result;
}

function endpoint(value: unknown, where: string): Endpoint {
  const record = object(value, where);
  const optional = (field: unknown, at: string) => (field === null || field === undefined ? null : valueTree(field, at));
  return { name: string(record.name, `${where}.name`, true), request: optional(record.request, `${where}.request`), response: optional(record.response, `${where}.response`), metadata: strings(record.metadata, `${where}.metadata`) };
}

export function parseEntry(value: unknown, where = 'entry'): WireEntry {
  const record = object(value, where);
  const service = object(record.service, `${where}.service`);
  const node = object(record.node, `${where}.node`);
  return {
    service: {
      name: string(service.name, `${where}.service.name`, true),
      version: string(service.version, `${where}.service.version`),
      metadata: strings(service.metadata, `${where}.service.metadata`),
      endpoints: service.endpoints === undefined ? [] : array(service.endpoints, `${where}.service.endpoints`, endpoint),
    },
    node: { id: string(node.id, `${where}.node.id`, true), address: string(node.address, `${where}.node.address`), metadata: strings(node.metadata, `${where}.node.metadata`) },
    ttlMs: duration(record.ttlMs, `${where}.ttlMs`),
  };
}

function decode(data: Uint8Array, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    fail(what, 'is not JSON');
  }
  const record = object(parsed, what);
  if (record.v !== WIRE_VERSION) fail(what, `has version ${JSON.stringify(record.v)}, expected ${WIRE_VERSION}`);
  return record;
}

export function parseAnnouncement(data: Uint8Array): Announcement {
  const record = decode(data, 'announcement');
  const action = record.action === 'put' || record.action === 'delete' || record.action === 'leave' ? record.action : fail('announcement.action', 'must be "put", "delete" or "leave"');
  return { v: WIRE_VERSION, owner: string(record.owner, 'announcement.owner', true), action, entries: array(record.entries, 'announcement.entries', parseEntry) };
}

export function parseQuery(data: Uint8Array): Query {
  const record = decode(data, 'query');
  const query: Query = { v: WIRE_VERSION, from: string(record.from, 'query.from', true) };
  if (record.service !== undefined) query.service = string(record.service, 'query.service');
  return query;
}

export function parseReply(data: Uint8Array): QueryReply {
  const record = decode(data, 'reply');
  return {
    v: WIRE_VERSION,
    owner: string(record.owner, 'reply.owner', true),
    last: record.last === true,
    ttlMs: duration(record.ttlMs, 'reply.ttlMs'),
    entries: array(record.entries, 'reply.entries', parseEntry),
  };
}

/**
 * Splits entries into groups whose JSON stays under `maxBytes`, so one owner with many large services never
 * sends a message over the server's max_payload. Always at least one (possibly empty) group.
 */
export function chunkEntries(entries: readonly WireEntry[], maxBytes: number): WireEntry[][] {
  const chunks: WireEntry[][] = [[]];
  let size = 0;
  for (const entry of entries) {
    const entrySize = Buffer.byteLength(JSON.stringify(entry)) + 1;
    if (entrySize > maxBytes) throw new RangeError(`registry entry for node ${entry.node.id} of ${entry.service.name} is ${entrySize} bytes, over the NATS message limit of ${maxBytes}`);
    if (size + entrySize > maxBytes && chunks.at(-1)!.length > 0) {
      chunks.push([]);
      size = 0;
    }
    chunks.at(-1)!.push(entry);
    size += entrySize;
  }
  return chunks;
}
