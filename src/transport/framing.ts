import { isAscii } from 'node:buffer';
import type { Message } from './Transport.js';
import { TransportError } from './Transport.js';

/**
 * The TCP wire format. A frame is
 *   u32 length of the rest | u32 header block length | headers | body
 * and each header is `u16 key length | key | u32 value length | value` (UTF-8, big-endian lengths).
 * The leading length lets a reader refuse an oversized frame before buffering it, and a binary header block
 * avoids a JSON round trip per message.
 */
export const FRAME_PREFIX = 4;
const HEADER_BLOCK_PREFIX = 4;
/** Small bodies are copied into the head buffer: one write instead of two is cheaper below this size. */
const COPY_BODY_BELOW = 16 * 1024;
const EMPTY = Buffer.alloc(0);

/** Any character outside ASCII: then UTF-8 lengths differ from string lengths and the slow path is taken. */
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Bytes of the header block, or -1 when a name or value is not ASCII. Framework headers and most metadata are
 * ASCII, and then a string's length is its byte length: no Buffer.byteLength call per name and value.
 */
function asciiHeaderBytes(headers: Record<string, string>): number {
  let bytes = 0;
  for (const key in headers) {
    const value = headers[key]!;
    if (NON_ASCII.test(key) || NON_ASCII.test(value)) return -1;
    if (key.length > 0xffff) throw new TransportError('too_large', `header name of ${key.length} bytes is over the 65535-byte limit`);
    bytes += 6 + key.length + value.length;
  }
  return bytes;
}

function utf8HeaderBytes(headers: Record<string, string>): number {
  let bytes = 0;
  for (const key in headers) {
    const keyLength = Buffer.byteLength(key);
    if (keyLength > 0xffff) throw new TransportError('too_large', `header name of ${keyLength} bytes is over the 65535-byte limit`);
    bytes += 6 + keyLength + Buffer.byteLength(headers[key]!);
  }
  return bytes;
}

/**
 * The frame of `message` as one buffer (two for a large body, which is not copied). `headroom` bytes are left
 * free before the frame, for a transport that puts its own envelope in front without copying the frame again.
 */
export function encodeFrame(message: Message, maxSize: number, headroom = 0): Buffer[] {
  const headers = message.headers;
  const asciiBytes = asciiHeaderBytes(headers);
  const ascii = asciiBytes >= 0;
  const headerBytes = ascii ? asciiBytes : utf8HeaderBytes(headers);
  const body = message.body;
  const total = FRAME_PREFIX + HEADER_BLOCK_PREFIX + headerBytes + body.length;
  if (total > maxSize) {
    throw new TransportError('too_large', `message of ${total} bytes is over the transport limit of ${maxSize} bytes (transport.maxMessageSize)`);
  }
  const copyBody = body.length < COPY_BODY_BELOW;
  const head = Buffer.allocUnsafe(headroom + (copyBody ? total : total - body.length));
  head.writeUInt32BE(total - FRAME_PREFIX, headroom);
  head.writeUInt32BE(headerBytes, headroom + FRAME_PREFIX);
  let offset = headroom + FRAME_PREFIX + HEADER_BLOCK_PREFIX;
  for (const key in headers) {
    const value = headers[key]!;
    // latin1 is a plain byte copy, exact for ASCII; utf8 is needed only for the rest.
    const keyLength = head.write(key, offset + 2, ascii ? 'latin1' : 'utf8');
    head.writeUInt16BE(keyLength, offset);
    offset += 2 + keyLength;
    const valueLength = head.write(value, offset + 4, ascii ? 'latin1' : 'utf8');
    head.writeUInt32BE(valueLength, offset);
    offset += 4 + valueLength;
  }
  if (!copyBody) return [head, Buffer.from(body.buffer, body.byteOffset, body.length)];
  if (body.length > 0) head.set(body, offset);
  return [head];
}

function parseFrame(frame: Buffer): Message {
  const headerBytes = frame.readUInt32BE(0);
  const headerEnd = HEADER_BLOCK_PREFIX + headerBytes;
  if (headerEnd > frame.length) throw new TransportError('malformed', `malformed frame: header block of ${headerBytes} bytes in a frame of ${frame.length}`);
  // An ASCII header block (the usual case) is decoded once and sliced, instead of one decode per name and value.
  const text = isAscii(frame.subarray(HEADER_BLOCK_PREFIX, headerEnd)) ? frame.toString('latin1', 0, headerEnd) : undefined;
  const headers: Record<string, string> = {};
  let offset = HEADER_BLOCK_PREFIX;
  while (offset < headerEnd) {
    if (offset + 2 > headerEnd) throw new TransportError('malformed', 'malformed frame: truncated header name length');
    const keyLength = frame.readUInt16BE(offset);
    const keyEnd = offset + 2 + keyLength;
    if (keyEnd + 4 > headerEnd) throw new TransportError('malformed', 'malformed frame: header name runs past the header block');
    const valueLength = frame.readUInt32BE(keyEnd);
    const valueEnd = keyEnd + 4 + valueLength;
    if (valueEnd > headerEnd) throw new TransportError('malformed', 'malformed frame: header value runs past the header block');
    const key = text === undefined ? frame.toString('utf8', offset + 2, keyEnd) : text.slice(offset + 2, keyEnd);
    // A peer must not be able to reach Object.prototype through a header name.
    if (key !== '__proto__') headers[key] = text === undefined ? frame.toString('utf8', keyEnd + 4, valueEnd) : text.slice(keyEnd + 4, valueEnd);
    offset = valueEnd;
  }
  return { headers, body: frame.subarray(headerEnd) };
}

/**
 * One whole frame (as encodeFrame wrote it, length prefix included) back into a message, for transports that
 * carry frames as discrete messages rather than a byte stream. Throws TransportError `malformed`.
 */
export function decodeFrame(frame: Buffer): Message {
  if (frame.length < FRAME_PREFIX + HEADER_BLOCK_PREFIX || frame.readUInt32BE(0) !== frame.length - FRAME_PREFIX) {
    throw new TransportError('malformed', `malformed frame: ${frame.length} bytes do not match the frame's length prefix`);
  }
  return parseFrame(frame.subarray(FRAME_PREFIX));
}

/**
 * Reassembles frames from a byte stream. Chunks are kept as a list and joined once per frame, so a large frame
 * arriving in many small reads is copied once, not once per read.
 */
export class FrameDecoder {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #expected = -1;

  constructor(private readonly maxSize: number) {}

  /** Feeds bytes; returns the messages completed. Throws TransportError `too_large` or `malformed`. */
  push(chunk: Buffer): Message[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const messages: Message[] = [];
    for (;;) {
      if (this.#expected < 0) {
        if (this.#buffered < FRAME_PREFIX) break;
        const length = this.#peekLength();
        if (length + FRAME_PREFIX > this.maxSize) {
          throw new TransportError('too_large', `frame of ${length + FRAME_PREFIX} bytes is over the limit of ${this.maxSize} bytes (transport.maxMessageSize)`);
        }
        if (length < HEADER_BLOCK_PREFIX) throw new TransportError('malformed', `malformed frame: length ${length} is shorter than a header block`);
        this.#expected = length + FRAME_PREFIX;
      }
      if (this.#buffered < this.#expected) break;
      const frame = this.#take(this.#expected);
      this.#expected = -1;
      messages.push(parseFrame(frame.subarray(FRAME_PREFIX)));
    }
    return messages;
  }

  /** Bytes received but not yet part of a whole frame: non-zero at close means the peer cut a frame short. */
  get pendingBytes(): number {
    return this.#buffered;
  }

  #peekLength(): number {
    const first = this.#chunks[0]!;
    if (first.length >= FRAME_PREFIX) return first.readUInt32BE(0);
    return Buffer.concat(this.#chunks, this.#buffered).readUInt32BE(0);
  }

  #take(size: number): Buffer {
    const first = this.#chunks[0]!;
    let taken: Buffer;
    if (first.length >= size) {
      taken = first.subarray(0, size);
      if (first.length === size) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(size);
    } else {
      const joined = Buffer.concat(this.#chunks, this.#buffered);
      taken = joined.subarray(0, size);
      this.#chunks = joined.length > size ? [joined.subarray(size)] : [];
    }
    this.#buffered -= size;
    if (this.#buffered === 0) this.#chunks = [];
    return taken.length === 0 ? EMPTY : taken;
  }
}
