import { randomBytes } from 'node:crypto';

/**
 * X-Ray identifiers, as the segment document format defines them: a segment or subsegment id is 64 random bits
 * in 16 lower-case hex digits; a trace id is `1-<8 hex digits: epoch seconds of the first request>-<24 hex
 * digits: 96 random bits>`. X-Ray uses the time part to find the trace, so it must be the real time the trace
 * began, not a random value.
 */
export const TRACE_ID_PATTERN = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;
export const SEGMENT_ID_PATTERN = /^[0-9a-f]{16}$/;

/** Random bytes are drawn in batches: one crypto call per 64 ids instead of one per id, on every request path. */
const POOL_IDS = 64;
let pool = Buffer.alloc(0);
let offset = 0;

function random(bytes: number): string {
  if (offset + bytes > pool.length) {
    pool = randomBytes(POOL_IDS * 8);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

export function newSegmentId(): string {
  return random(8);
}

export function newTraceId(nowMs: number = Date.now()): string {
  const seconds = Math.floor(nowMs / 1000).toString(16).padStart(8, '0');
  return `1-${seconds}-${random(12)}`;
}
