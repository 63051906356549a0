import { isAscii } from 'node:buffer';
import type { Message } from '../transport/Transport.js';

/**
 * The direct broker's batch: many events for one subscriber process in one transport message, acknowledged by one
 * reply. The envelope carries `micro-event-batch: <count>`; its body is `count` items, each
 *   u32 subscription id | u16 topic length | topic | u32 header block length | headers | u32 body length | body
 * where the header block is `u16 name length | name | u32 value length | value` per header (UTF-8, big-endian),
 * the layout of the TCP frame's headers. The reply's body is empty when every event was accepted, otherwise the
 * JSON array `[[index, wireError], …]` of the events that were not, so only their publishes fail.
 */
export const BATCH_HEADER = 'micro-event-batch';
/** Registry metadata of a subscription whose process takes batches; publishers send single events to others. */
export const BATCH_METADATA = 'batch';
export const BATCH_VERSION = '1';

const TOPIC_HEADER = 'micro-topic';
/**
 * Headers an item does not carry: the topic travels on its own (the receiver sets the header from it), and the
 * delivery's own request id and subscription never reach a handler, as with single deliveries.
 */
const notCarried = (key: string): boolean => key === TOPIC_HEADER || key === 'micro-id' || key === 'micro-subscriber';
const NON_ASCII = /[^\x00-\x7f]/;

/** Bytes of one string, and whether it is ASCII (then it is written as latin1, a plain byte copy). */
function stringBytes(text: string): number {
  return NON_ASCII.test(text) ? -Buffer.byteLength(text) : text.length;
}

/**
 * One event waiting in a batch, measured once when queued so the batch knows its size without encoding it. The
 * constructor throws RangeError for a topic or header name over 65535 bytes, which no batch can carry.
 */
export class BatchItem {
  readonly bytes: number;
  /** Whether every string of the item is ASCII: the fast path writes them as latin1. */
  readonly #ascii: boolean;

  constructor(
    readonly subscriber: number,
    readonly topic: string,
    readonly message: Message,
  ) {
    let ascii = true;
    let bytes = 4 + 2 + 4 + 4 + message.body.length;
    const topicBytes = stringBytes(topic);
    if (topicBytes < 0) ascii = false;
    if (Math.abs(topicBytes) > 0xffff) throw new RangeError(`topic of ${Math.abs(topicBytes)} bytes is over the 65535-byte limit`);
    bytes += Math.abs(topicBytes);
    const headers = message.headers;
    for (const key in headers) {
      if (notCarried(key)) continue;
      const keyBytes = stringBytes(key);
      const valueBytes = stringBytes(headers[key]!);
      if (keyBytes < 0 || valueBytes < 0) ascii = false;
      if (Math.abs(keyBytes) > 0xffff) throw new RangeError(`header name of ${Math.abs(keyBytes)} bytes is over the 65535-byte limit`);
      bytes += 6 + Math.abs(keyBytes) + Math.abs(valueBytes);
    }
    this.bytes = bytes;
    this.#ascii = ascii;
  }

  /** Writes the item at `offset` of `target` (which has `bytes` free there); returns the offset after it. */
  writeTo(target: Buffer, offset: number): number {
    const encoding = this.#ascii ? 'latin1' : 'utf8';
    target.writeUInt32BE(this.subscriber, offset);
    const topicLength = target.write(this.topic, offset + 6, encoding);
    target.writeUInt16BE(topicLength, offset + 4);
    const blockStart = offset + 6 + topicLength;
    let at = blockStart + 4;
    const headers = this.message.headers;
    for (const key in headers) {
      if (notCarried(key)) continue;
      const keyLength = target.write(key, at + 2, encoding);
      target.writeUInt16BE(keyLength, at);
      at += 2 + keyLength;
      const valueLength = target.write(headers[key]!, at + 4, encoding);
      target.writeUInt32BE(valueLength, at);
      at += 4 + valueLength;
    }
    target.writeUInt32BE(at - blockStart - 4, blockStart);
    const body = this.message.body;
    target.writeUInt32BE(body.length, at);
    if (body.length > 0) target.set(body, at + 4);
    return at + 4 + body.length;
  }
}

/** The body of a batch envelope: the items one after another, in one buffer. */
export function encodeBatch(items: readonly BatchItem[], bytes: number): Buffer {
  const body = Buffer.allocUnsafe(bytes);
  let offset = 0;
  for (const item of items) offset = item.writeTo(body, offset);
  return offset === bytes ? body : body.subarray(0, offset);
}

export interface ReceivedItem {
  subscriber: number;
  topic: string;
  message: Message;
}

/** A batch whose bytes do not follow the layout: the whole batch is refused. */
export class BatchFormatError extends Error {
  constructor(detail: string) {
    super(`malformed event batch: ${detail}`);
    this.name = 'BatchFormatError';
  }
}

/**
 * The items of a batch body, `count` of them. Each message's headers are a fresh object (with `micro-topic` set
 * from the item's topic) and its body a view into `body`, so nothing is copied per event.
 */
export function decodeBatch(body: Buffer, count: number): ReceivedItem[] {
  const items: ReceivedItem[] = [];
  let offset = 0;
  const need = (bytes: number, what: string): void => {
    if (offset + bytes > body.length) throw new BatchFormatError(`${what} of item ${items.length} runs past the ${body.length}-byte body`);
  };
  while (items.length < count) {
    need(10, 'the head');
    const subscriber = body.readUInt32BE(offset);
    const topicLength = body.readUInt16BE(offset + 4);
    offset += 6;
    need(topicLength + 4, 'the topic');
    const topic = body.toString('utf8', offset, offset + topicLength);
    offset += topicLength;
    const blockLength = body.readUInt32BE(offset);
    offset += 4;
    need(blockLength + 4, 'the header block');
    const headers = parseHeaderBlock(body, offset, offset + blockLength, items.length);
    headers[TOPIC_HEADER] = topic;
    offset += blockLength;
    const bodyLength = body.readUInt32BE(offset);
    offset += 4;
    need(bodyLength, 'the body');
    items.push({ subscriber, topic, message: { headers, body: body.subarray(offset, offset + bodyLength) } });
    offset += bodyLength;
  }
  if (offset !== body.length) throw new BatchFormatError(`${body.length - offset} bytes after the last of ${count} items`);
  return items;
}

function parseHeaderBlock(body: Buffer, start: number, end: number, index: number): Record<string, string> {
  // An ASCII block (the usual case) is decoded once and sliced, instead of one decode per name and value.
  const text = isAscii(body.subarray(start, end)) ? body.toString('latin1', start, end) : undefined;
  const headers: Record<string, string> = {};
  let offset = start;
  while (offset < end) {
    if (offset + 2 > end) throw new BatchFormatError(`truncated header name length in item ${index}`);
    const keyEnd = offset + 2 + body.readUInt16BE(offset);
    if (keyEnd + 4 > end) throw new BatchFormatError(`header name runs past the header block of item ${index}`);
    const valueEnd = keyEnd + 4 + body.readUInt32BE(keyEnd);
    if (valueEnd > end) throw new BatchFormatError(`header value runs past the header block of item ${index}`);
    const key = text === undefined ? body.toString('utf8', offset + 2, keyEnd) : text.slice(offset + 2 - start, keyEnd - start);
    // A peer must not be able to reach Object.prototype through a header name.
    if (key !== '__proto__') headers[key] = text === undefined ? body.toString('utf8', keyEnd + 4, valueEnd) : text.slice(keyEnd + 4 - start, valueEnd - start);
    offset = valueEnd;
  }
  return headers;
}

/** The reply body: empty when every event was accepted, else the rejected events by index with their wire errors. */
export function encodeBatchReply(failures: readonly [number, string][]): Uint8Array {
  return failures.length === 0 ? new Uint8Array(0) : Buffer.from(JSON.stringify(failures));
}

/** The rejected events of a reply by index; throws BatchFormatError when the body is not a list of failures. */
export function decodeBatchReply(body: Uint8Array): Map<number, string> {
  const failures = new Map<number, string>();
  if (body.length === 0) return failures;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8'));
  } catch {
    throw new BatchFormatError('the reply is not JSON');
  }
  if (!Array.isArray(parsed)) throw new BatchFormatError('the reply is not a list of failures');
  for (const entry of parsed) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'number' || typeof entry[1] !== 'string') throw new BatchFormatError('a failure is not [index, error]');
    failures.set(entry[0], entry[1]);
  }
  return failures;
}
