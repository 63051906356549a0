import { bounded, type SegmentDocument } from './segmentDocument.js';

/** What precedes every document the daemon receives, exactly as its documentation spells it. */
export const DAEMON_HEADER = '{"format": "json", "version": 1}\n';

/**
 * The largest datagram we send. X-Ray takes segment documents of up to 64 kB, and a UDP datagram over IPv4
 * carries at most 65,507 bytes; 64,000 bytes (header included) stays under both with room to spare.
 */
export const MAX_DATAGRAM_BYTES = 64_000;

const HEADER_BYTES = Buffer.byteLength(DAEMON_HEADER);

export interface EncodedSegment {
  datagram: Buffer;
  /** What had to be cut to fit, in the order it was cut; empty when the document fitted as it was. */
  truncated: string[];
}

type Reduction = [what: string, reduce: (document: SegmentDocument) => void];

/**
 * Each step removes less useful data than the next: metadata (unindexed extras) first, then long strings, then
 * annotations. Subsegments are already sent as documents of their own, so no document ever holds children
 * that could be split off; what remains after these steps is a handful of ids and numbers.
 */
const REDUCTIONS: readonly Reduction[] = [
  ['metadata', (document) => void delete document.metadata],
  [
    'cause',
    (document) => {
      if (document.cause) document.cause = { exceptions: document.cause.exceptions.slice(0, 1).map((exception) => ({ ...exception, message: bounded(exception.message, 256) })) };
    },
  ],
  [
    'http.request',
    (document) => {
      const request = document.http?.request;
      if (request?.url) request.url = bounded(request.url, 1024);
      if (request?.user_agent) request.user_agent = bounded(request.user_agent, 256);
    },
  ],
  ['annotations', (document) => void delete document.annotations],
];

/**
 * The datagram for a document: the daemon header, a newline and the JSON. A document too large for one
 * datagram is cut down step by step (and says so in `metadata.tsmicro.truncated`); undefined if even the
 * smallest form does not fit (only an absurd name could cause that).
 */
export function encodeSegment(document: SegmentDocument, limit: number = MAX_DATAGRAM_BYTES): EncodedSegment | undefined {
  let json = JSON.stringify(document);
  if (HEADER_BYTES + Buffer.byteLength(json) <= limit) return { datagram: Buffer.from(DAEMON_HEADER + json), truncated: [] };
  const reduced: SegmentDocument = structuredClone(document);
  const truncated: string[] = [];
  for (const [what, reduce] of REDUCTIONS) {
    reduce(reduced);
    truncated.push(what);
    json = JSON.stringify({ ...reduced, metadata: { tsmicro: { truncated } } });
    if (HEADER_BYTES + Buffer.byteLength(json) <= limit) return { datagram: Buffer.from(DAEMON_HEADER + json), truncated };
  }
  return undefined;
}
