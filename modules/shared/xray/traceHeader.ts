import { SEGMENT_ID_PATTERN, TRACE_ID_PATTERN } from './ids.js';

/** The HTTP header, and the metadata key it travels under (tsmicro keeps metadata keys lower-case). */
export const TRACE_HEADER = 'X-Amzn-Trace-Id';
export const TRACE_METADATA_KEY = 'x-amzn-trace-id';

/**
 * The parts of an `X-Amzn-Trace-Id` header: `Root=<trace id>;Parent=<segment id>;Sampled=0|1|?`.
 * `sampled` is undefined when the sender left the decision to us (no `Sampled`, or `Sampled=?`).
 */
export interface TraceHeader {
  root: string;
  parent?: string;
  sampled?: boolean;
  /** Fields we do not interpret (`Lineage=…`), passed on unchanged so what newer AWS services add survives the hop. */
  extra: readonly string[];
}

export type ParsedTraceHeader = { kind: 'absent' } | { kind: 'malformed'; reason: string } | { kind: 'valid'; header: TraceHeader };

/** Longest header value we look at; anything longer is not a trace header, and is not worth scanning. */
const MAX_HEADER_LENGTH = 1024;
/** Unknown fields are passed on only when they are plain `name=value` text, and only a few of them. */
const EXTRA_FIELD = /^[a-z0-9_-]+=[\x21-\x7e]*$/;
const MAX_EXTRA_FIELDS = 8;

/**
 * Reads the header leniently: fields in any order, any case in the field names, spaces around `;` and `=`
 * (`Root=…; Parent=…` is common), unknown fields kept, and, when a proxy joined duplicate headers with commas,
 * the first one. Root is required and must be a well-formed trace id; a Parent, when present, must be a
 * well-formed segment id (a broken one would attach our segment to nothing). `Self=` is dropped: a load
 * balancer adds it to describe its own hop, and it means nothing to the next one.
 */
export function parseTraceHeader(value: string | readonly string[] | undefined): ParsedTraceHeader {
  const raw = Array.isArray(value) ? value[0] : (value as string | undefined);
  if (raw === undefined || raw.trim() === '') return { kind: 'absent' };
  if (raw.length > MAX_HEADER_LENGTH) return { kind: 'malformed', reason: `longer than ${MAX_HEADER_LENGTH} characters` };
  const first = raw.split(',')[0]!;
  let root: string | undefined;
  let parent: string | undefined;
  let sampled: boolean | undefined;
  const extra: string[] = [];
  for (const part of first.split(';')) {
    const field = part.trim();
    if (field === '') continue;
    const at = field.indexOf('=');
    // A bare trace id is what some older clients (go-micro's among them) send instead of `Root=…`.
    if (at < 0 && root === undefined && TRACE_ID_PATTERN.test(field.toLowerCase())) root = field.toLowerCase();
    if (at < 0) continue;
    const name = field.slice(0, at).trim().toLowerCase();
    const fieldValue = field.slice(at + 1).trim();
    if (name === 'root') root = fieldValue.toLowerCase();
    else if (name === 'parent') parent = fieldValue.toLowerCase();
    else if (name === 'sampled') sampled = fieldValue === '1' ? true : fieldValue === '0' ? false : undefined;
    else if (name !== 'self' && EXTRA_FIELD.test(`${name}=${fieldValue}`) && extra.length < MAX_EXTRA_FIELDS) extra.push(`${field.slice(0, at).trim()}=${fieldValue}`);
  }
  if (root === undefined) return { kind: 'malformed', reason: 'no Root field' };
  if (!TRACE_ID_PATTERN.test(root)) return { kind: 'malformed', reason: 'Root is not a trace id (1-<8 hex>-<24 hex>)' };
  if (parent !== undefined && !SEGMENT_ID_PATTERN.test(parent)) return { kind: 'malformed', reason: 'Parent is not a segment id (16 hex digits)' };
  return { kind: 'valid', header: { root, ...(parent === undefined ? {} : { parent }), ...(sampled === undefined ? {} : { sampled }), extra } };
}

/** `Root=…;Parent=…;Sampled=1`, in the order and spelling the X-Ray documentation uses, then any extra fields. */
export function formatTraceHeader(header: TraceHeader): string {
  const parts = [`Root=${header.root}`];
  if (header.parent) parts.push(`Parent=${header.parent}`);
  parts.push(`Sampled=${header.sampled === undefined ? '?' : header.sampled ? '1' : '0'}`);
  return [...parts, ...header.extra].join(';');
}

/** A header value trimmed for a log line: enough to recognise it, never a whole oversized value. */
export function headerForLog(value: string | readonly string[] | undefined): string {
  const raw = Array.isArray(value) ? value.join(', ') : String(value ?? '');
  return raw.length > 200 ? `${raw.slice(0, 200)}…` : raw;
}
