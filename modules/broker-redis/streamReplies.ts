/**
 * Shapes of the stream replies the broker reads, taken apart defensively: with ioredis's default RESP3
 * connection in "legacy" reply mapping they are nested arrays of Buffers (callBuffer), as with RESP2.
 */
export interface StreamEntry {
  id: string;
  /** Field/value pairs; null when the entry was deleted (trimmed) while still pending. */
  fields: Buffer[] | null;
}

function toEntries(items: unknown): StreamEntry[] {
  if (!Array.isArray(items)) return [];
  return items.map((item) => {
    const [id, fields] = item as [Buffer, Buffer[] | null];
    return { id: id.toString(), fields: Array.isArray(fields) ? fields : null };
  });
}

/**
 * XREADGROUP … STREAMS <one stream>: null on timeout; else RESP2's [[stream, entries]], or over RESP3 (a map,
 * flattened by the legacy mapping) [stream, entries].
 */
export function readGroupEntries(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const pair = (Buffer.isBuffer(reply[0]) || typeof reply[0] === 'string' ? reply : reply[0]) as [Buffer, unknown];
  return toEntries(pair[1]);
}

/** XAUTOCLAIM (Redis 7): [next cursor, claimed entries, ids deleted from the stream while pending]. */
export function autoClaimReply(reply: unknown): { cursor: string; entries: StreamEntry[]; deleted: string[] } {
  const [cursor, entries, deleted] = reply as [Buffer, unknown, Buffer[] | undefined];
  return { cursor: cursor.toString(), entries: toEntries(entries), deleted: (deleted ?? []).map((id) => id.toString()) };
}

/** XPENDING <key> <group> <id> <id> 1: the delivery count of one entry, undefined when it is not pending. */
export function deliveryCount(reply: unknown): number | undefined {
  if (!Array.isArray(reply) || reply.length === 0) return undefined;
  const count = Number((reply[0] as unknown[])[3]);
  return Number.isFinite(count) ? count : undefined;
}
