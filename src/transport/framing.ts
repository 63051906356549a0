import { Headers } from './headers.js';
import type { Message } from './Transport.js';
import { TransportError } from './Transport.js';

/**
 * The TCP wire format. A frame is
 *   u32 length of the rest | u32 header block length | headers | body
 * and each header is `u16 key length | key | u32 value length | value` (UTF-8, big-endian lengths).
 * The leading length lets a reader refuse an oversized frame before buffering it, and a binary header block
 * avoids a JSON round trip per message.
 *
 * The framework's own header names, which every request and reply carries, are sent as `u16 0x7F00 + index`
 * (into WELL_KNOWN_HEADERS) with no name bytes: fewer bytes to write, and nothing to decode or slice on receipt.
 * Other names are at most MAX_HEADER_NAME bytes, so their length can never be mistaken for an index.
 */
export const FRAME_PREFIX = 4;
const HEADER_BLOCK_PREFIX = 4;
/** Small bodies are copied into the head buffer: one write instead of two is cheaper below this size. */
const COPY_BODY_BELOW = 16 * 1024;
const EMPTY = Buffer.alloc(0);

/** Append-only: an index is part of the wire format. */
const WELL_KNOWN_HEADERS: readonly string[] = [
  Headers.id,
  Headers.service,
  Headers.endpoint,
  Headers.error,
  Headers.timeout,
  Headers.topic,
  Headers.eventId,
  Headers.contentType,
  Headers.subscriber,
  Headers.unhandled,
];
const WELL_KNOWN_INDEX = new Map(WELL_KNOWN_HEADERS.map((name, index) => [name, index] as const));
/** Both bytes of `0x7F00 + index` are ASCII, so a header block of ASCII names and values still reads as ASCII. */
const WELL_KNOWN_MARK = 0x7f00;
const MAX_HEADER_NAME = WELL_KNOWN_MARK - 1;

function nameTooLong(bytes: number): TransportError {
  return new TransportError('too_large', `header name of ${bytes} bytes is over the ${MAX_HEADER_NAME}-byte limit`);
}

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
    if (NON_ASCII.test(value)) return -1;
    if (WELL_KNOWN_INDEX.has(key)) {
      bytes += 6 + value.length;
      continue;
    }
    if (NON_ASCII.test(key)) return -1;
    if (key.length > MAX_HEADER_NAME) throw nameTooLong(key.length);
    bytes += 6 + key.length + value.length;
  }
  return bytes;
}

function utf8HeaderBytes(headers: Record<string, string>): number {
  let bytes = 0;
  for (const key in headers) {
    const keyLength = WELL_KNOWN_INDEX.has(key) ? 0 : Buffer.byteLength(key);
    if (keyLength > MAX_HEADER_NAME) throw nameTooLong(keyLength);
    bytes += 6 + keyLength + Buffer.byteLength(headers[key]!);
  }
  return bytes;
}

/** What writing a frame needs to know first: its size and whether its headers are plain ASCII. */
export interface FrameLayout {
  /** Bytes of the whole frame, length prefix included. */
  total: number;
  headerBytes: number;
  ascii: boolean;
}

/** Sizes the frame of `message`; throws TransportError `too_large` when it is over `maxSize`. */
export function measureFrame(message: Message, maxSize: number): FrameLayout {
  const asciiBytes = asciiHeaderBytes(message.headers);
  const ascii = asciiBytes >= 0;
  const headerBytes = ascii ? asciiBytes : utf8HeaderBytes(message.headers);
  const total = FRAME_PREFIX + HEADER_BLOCK_PREFIX + headerBytes + message.body.length;
  if (total > maxSize) {
    throw new TransportError('too_large', `message of ${total} bytes is over the transport limit of ${maxSize} bytes (transport.maxMessageSize)`);
  }
  return { total, headerBytes, ascii };
}

/**
 * Writes the frame's prefix and headers into `target` at `offset`, and the body too unless `withBody` is false.
 * Returns the offset after what was written. `target` must have room (see measureFrame).
 */
export function writeFrame(message: Message, layout: FrameLayout, target: Buffer, offset: number, withBody = true): number {
  target.writeUInt32BE(layout.total - FRAME_PREFIX, offset);
  target.writeUInt32BE(layout.headerBytes, offset + FRAME_PREFIX);
  offset += FRAME_PREFIX + HEADER_BLOCK_PREFIX;
  const headers = message.headers;
  const encoding = layout.ascii ? 'latin1' : 'utf8';
  for (const key in headers) {
    const value = headers[key]!;
    const index = WELL_KNOWN_INDEX.get(key);
    if (index !== undefined) {
      target.writeUInt16BE(WELL_KNOWN_MARK + index, offset);
      offset += 2;
    } else {
      // latin1 is a plain byte copy, exact for ASCII; utf8 is needed only for the rest.
      const keyLength = target.write(key, offset + 2, encoding);
      target.writeUInt16BE(keyLength, offset);
      offset += 2 + keyLength;
    }
    const valueLength = target.write(value, offset + 4, encoding);
    target.writeUInt32BE(valueLength, offset);
    offset += 4 + valueLength;
  }
  if (!withBody) return offset;
  const body = message.body;
  if (body.length > 0) target.set(body, offset);
  return offset + body.length;
}

/**
 * Most bytes the frame of `message` can take: UTF-8 needs at most 3 bytes per UTF-16 code unit. Cheap (string
 * lengths only), so a writer with room for this much can write the frame in one pass with writeFrameInPlace.
 */
export function frameBound(message: Message): number {
  const headers = message.headers;
  let bound = FRAME_PREFIX + HEADER_BLOCK_PREFIX + message.body.length;
  for (const key in headers) bound += 6 + 3 * (key.length + headers[key]!.length);
  return bound;
}

/**
 * Writes the frame of `message` into `target` at `offset` in one pass, without measuring it first, and returns
 * the offset after it: the lengths are filled in once the names and values are written. `target` must have
 * frameBound(message) bytes of room. Throws TransportError `too_large` (a name or the frame over its limit);
 * what it wrote by then lies past `offset` and is simply overwritten by the next frame.
 */
export function writeFrameInPlace(message: Message, target: Buffer, offset: number, maxSize: number): number {
  const start = offset;
  const headerStart = start + FRAME_PREFIX + HEADER_BLOCK_PREFIX;
  offset = headerStart;
  const headers = message.headers;
  for (const key in headers) {
    const index = WELL_KNOWN_INDEX.get(key);
    if (index !== undefined) {
      target.writeUInt16BE(WELL_KNOWN_MARK + index, offset);
      offset += 2;
    } else {
      const keyLength = target.write(key, offset + 2, 'utf8');
      if (keyLength > MAX_HEADER_NAME) throw nameTooLong(keyLength);
      target.writeUInt16BE(keyLength, offset);
      offset += 2 + keyLength;
    }
    const valueLength = target.write(headers[key]!, offset + 4, 'utf8');
    target.writeUInt32BE(valueLength, offset);
    offset += 4 + valueLength;
  }
  const body = message.body;
  const total = offset - start + body.length;
  if (total > maxSize) {
    throw new TransportError('too_large', `message of ${total} bytes is over the transport limit of ${maxSize} bytes (transport.maxMessageSize)`);
  }
  target.writeUInt32BE(total - FRAME_PREFIX, start);
  target.writeUInt32BE(offset - headerStart, start + FRAME_PREFIX);
  if (body.length > 0) target.set(body, offset);
  return offset + body.length;
}

/** Whether a body is large enough to be sent as its own buffer rather than copied next to its headers. */
export function isLargeBody(body: Uint8Array): boolean {
  return body.length >= COPY_BODY_BELOW;
}

/**
 * The frame of `message` as one buffer (two for a large body, which is not copied). `headroom` bytes are left
 * free before the frame, for a transport that puts its own envelope in front without copying the frame again.
 */
export function encodeFrame(message: Message, maxSize: number, headroom = 0): Buffer[] {
  const layout = measureFrame(message, maxSize);
  const body = message.body;
  const copyBody = !isLargeBody(body);
  const head = Buffer.allocUnsafe(headroom + (copyBody ? layout.total : layout.total - body.length));
  writeFrame(message, layout, head, headroom, copyBody);
  if (!copyBody) return [head, Buffer.from(body.buffer, body.byteOffset, body.length)];
  return [head];
}

/** The frame of `message` as one buffer, large bodies included; throws TransportError `too_large`. */
export function frameBuffer(message: Message, maxSize: number): Buffer {
  const layout = measureFrame(message, maxSize);
  const frame = Buffer.allocUnsafe(layout.total);
  writeFrame(message, layout, frame, 0);
  return frame;
}

/** The frames of a payload that holds whole frames back to back, and why the rest could not be split if so. */
export interface SplitFrames {
  frames: Buffer[];
  error?: TransportError;
}

/** Cuts `payload` into its frames by their length prefixes (each is checked when decoded). */
export function splitFrames(payload: Buffer): SplitFrames {
  const frames: Buffer[] = [];
  let offset = 0;
  while (offset < payload.length) {
    if (offset + FRAME_PREFIX > payload.length) return { frames, error: new TransportError('malformed', 'malformed frame: truncated length prefix') };
    const end = offset + FRAME_PREFIX + payload.readUInt32BE(offset);
    if (end > payload.length) return { frames, error: new TransportError('malformed', `malformed frame: ${end - offset} bytes announced, ${payload.length - offset} left in the message`) };
    frames.push(payload.subarray(offset, end));
    offset = end;
  }
  return { frames };
}

/**
 * The message in `buffer` from `start` (its header block length) to `end`, read in place: the body is the only
 * view made, since every view of a Buffer is an object to allocate and collect.
 */
function parseFrame(buffer: Buffer, start: number, end: number): Message {
  const headerBytes = buffer.readUInt32BE(start);
  const headerStart = start + HEADER_BLOCK_PREFIX;
  const headerEnd = headerStart + headerBytes;
  if (headerEnd > end) throw new TransportError('malformed', `malformed frame: header block of ${headerBytes} bytes in a frame of ${end - start}`);
  // The header block is decoded once and sliced, instead of one decode per name and value. That is exact when
  // every byte became one character, as ASCII does (the usual case); any multi-byte character makes the text
  // shorter than the bytes, and then each name and value is decoded on its own.
  const block = buffer.toString('utf8', headerStart, headerEnd);
  const text = block.length === headerBytes ? block : undefined;
  const headers: Record<string, string> = {};
  let offset = headerStart;
  while (offset < headerEnd) {
    if (offset + 2 > headerEnd) throw new TransportError('malformed', 'malformed frame: truncated header name length');
    const keyField = buffer.readUInt16BE(offset);
    const wellKnown = keyField >= WELL_KNOWN_MARK;
    const keyEnd = offset + 2 + (wellKnown ? 0 : keyField);
    if (keyEnd + 4 > headerEnd) throw new TransportError('malformed', 'malformed frame: header name runs past the header block');
    const valueLength = buffer.readUInt32BE(keyEnd);
    const valueEnd = keyEnd + 4 + valueLength;
    if (valueEnd > headerEnd) throw new TransportError('malformed', 'malformed frame: header value runs past the header block');
    let key: string;
    if (wellKnown) {
      const name = WELL_KNOWN_HEADERS[keyField - WELL_KNOWN_MARK];
      if (name === undefined) throw new TransportError('malformed', `malformed frame: unknown header index ${keyField - WELL_KNOWN_MARK}`);
      key = name;
    } else key = text === undefined ? buffer.toString('utf8', offset + 2, keyEnd) : text.slice(offset + 2 - headerStart, keyEnd - headerStart);
    // A peer must not be able to reach Object.prototype through a header name.
    if (key !== '__proto__') headers[key] = text === undefined ? buffer.toString('utf8', keyEnd + 4, valueEnd) : text.slice(keyEnd + 4 - headerStart, valueEnd - headerStart);
    offset = valueEnd;
  }
  return { headers, body: headerEnd === end ? EMPTY : buffer.subarray(headerEnd, end) };
}

/**
 * One whole frame (as encodeFrame wrote it, length prefix included) back into a message, for transports that
 * carry frames as discrete messages rather than a byte stream. Throws TransportError `malformed`.
 */
export function decodeFrame(frame: Buffer): Message {
  if (frame.length < FRAME_PREFIX + HEADER_BLOCK_PREFIX || frame.readUInt32BE(0) !== frame.length - FRAME_PREFIX) {
    throw new TransportError('malformed', `malformed frame: ${frame.length} bytes do not match the frame's length prefix`);
  }
  return parseFrame(frame, FRAME_PREFIX, frame.length);
}

/**
 * Reassembles frames from a byte stream. Whole frames in a chunk are read where they lie; only a frame split
 * across reads is joined, once, when its last byte has come, so a large frame arriving in many small reads is
 * copied once, not once per read.
 */
export class FrameDecoder {
  /** Bytes of a frame not yet complete, as received. */
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Bytes of the incomplete frame, prefix included, once its prefix has come; -1 before. */
  #expected = -1;

  constructor(private readonly maxSize: number) {}

  /** Feeds bytes; returns the messages completed. Throws TransportError `too_large` or `malformed`. */
  push(chunk: Buffer): Message[] {
    let buffer = chunk;
    if (this.#buffered > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#expected < 0) {
        if (this.#buffered < FRAME_PREFIX) return [];
        this.#expected = this.#checkedLength(this.#peekLength()) + FRAME_PREFIX;
      }
      if (this.#buffered < this.#expected) return [];
      buffer = Buffer.concat(this.#chunks, this.#buffered);
      this.#chunks = [];
      this.#buffered = 0;
      this.#expected = -1;
    }
    const messages: Message[] = [];
    let offset = 0;
    while (buffer.length - offset >= FRAME_PREFIX) {
      const end = offset + FRAME_PREFIX + this.#checkedLength(buffer.readUInt32BE(offset));
      if (end > buffer.length) {
        this.#expected = end - offset;
        break;
      }
      messages.push(parseFrame(buffer, offset + FRAME_PREFIX, end));
      offset = end;
    }
    if (offset < buffer.length) {
      this.#chunks = [offset === 0 ? buffer : buffer.subarray(offset)];
      this.#buffered = buffer.length - offset;
    }
    return messages;
  }

  /** Bytes received but not yet part of a whole frame: non-zero at close means the peer cut a frame short. */
  get pendingBytes(): number {
    return this.#buffered;
  }

  /** A frame's announced length, refused before its bytes are buffered when it is over the limit. */
  #checkedLength(length: number): number {
    if (length + FRAME_PREFIX > this.maxSize) {
      throw new TransportError('too_large', `frame of ${length + FRAME_PREFIX} bytes is over the limit of ${this.maxSize} bytes (transport.maxMessageSize)`);
    }
    if (length < HEADER_BLOCK_PREFIX) throw new TransportError('malformed', `malformed frame: length ${length} is shorter than a header block`);
    return length;
  }

  /** The length prefix of the buffered bytes, which may be split across chunks. */
  #peekLength(): number {
    const first = this.#chunks[0]!;
    if (first.length >= FRAME_PREFIX) return first.readUInt32BE(0);
    return Buffer.concat(this.#chunks, this.#buffered).readUInt32BE(0);
  }
}
