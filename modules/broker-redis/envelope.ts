import type { Message } from '../../src/index.js';

/**
 * How an event travels. A stream entry has two fields, `headers` (JSON object of strings) and `body` (the bytes).
 * A pub/sub message has one payload, so it is framed: `TSM1`, a big-endian u32 length of the headers JSON, the
 * headers, then the body. The publish script builds that frame in Redis (see brokerScripts.ts), so the body
 * crosses the network once for both paths.
 */
export const FRAME_MAGIC = Buffer.from('TSM1');
const HEAD = FRAME_MAGIC.length + 4;

/** Bytes from the wire that are not an event: logged and dead-lettered or dropped, never handled. */
export class EnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvelopeError';
  }
}

function parseHeaders(text: string): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new EnvelopeError('headers are not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new EnvelopeError('headers are not a JSON object');
  // for…in rather than Object.entries: no array per header on a path every event takes.
  const headers = value as Record<string, unknown>;
  for (const name in headers) if (typeof headers[name] !== 'string') throw new EnvelopeError(`header "${name}" is not a string`);
  return headers as Record<string, string>;
}

export function encodeHeaders(message: Message): string {
  return JSON.stringify(message.headers ?? {});
}

export function encodeFrame(message: Message): Buffer {
  const headers = Buffer.from(encodeHeaders(message));
  const head = Buffer.alloc(HEAD);
  FRAME_MAGIC.copy(head);
  head.writeUInt32BE(headers.length, FRAME_MAGIC.length);
  return Buffer.concat([head, headers, message.body]);
}

const MAGIC_WORD = FRAME_MAGIC.readUInt32BE(0);

export function decodeFrame(frame: Buffer): Message {
  if (frame.length < HEAD || frame.readUInt32BE(0) !== MAGIC_WORD) throw new EnvelopeError('not a tsmicro event frame (no TSM1 prefix)');
  const length = frame.readUInt32BE(FRAME_MAGIC.length);
  if (HEAD + length > frame.length) throw new EnvelopeError(`truncated frame: headers claim ${length} bytes, ${frame.length - HEAD} present`);
  return { headers: parseHeaders(frame.toString('utf8', HEAD, HEAD + length)), body: frame.subarray(HEAD + length) };
}

/** A stream entry's field/value list (as XREADGROUP returns it) back into a message. */
export function decodeStreamFields(fields: readonly Buffer[] | null): Message {
  if (!fields) throw new EnvelopeError('the entry has been deleted from the stream');
  let headers: Buffer | undefined;
  let body: Buffer | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString();
    if (name === 'headers') headers = fields[i + 1];
    else if (name === 'body') body = fields[i + 1];
  }
  if (headers === undefined || body === undefined) throw new EnvelopeError('entry lacks the headers and body fields');
  return { headers: parseHeaders(headers.toString('utf8')), body };
}
