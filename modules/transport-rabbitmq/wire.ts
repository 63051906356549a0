import type { ConsumeMessage, Message as AmqpMessage } from 'amqplib';
import { Headers, MicroError, TransportError, type Message } from '../../src/index.js';

/**
 * How transport messages travel as AMQP messages. The message's headers are the AMQP headers table, unchanged;
 * the transport's own data rides in AMQP properties, so it never mixes with what the sender put in the headers:
 * - `correlationId`: the virtual socket the message belongs to (one per dialled client socket);
 * - `replyTo`: where the server's answers go (RabbitMQ's direct reply-to address of the client's channel);
 * - `type`: `tsmicro.transport.close` on the control message that tells the other side a socket closed.
 */
export const CONTROL_CLOSE = 'tsmicro.transport.close';

/** RabbitMQ's pseudo-queue for replies without a queue of their own (direct reply-to). */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

/** The size the limit applies to: body plus header names and values, in bytes. */
export function messageSize(message: Message): number {
  let size = message.body.byteLength;
  for (const key in message.headers) size += Buffer.byteLength(key) + Buffer.byteLength(message.headers[key]!);
  return size;
}

export function tooLarge(size: number, limit: number): TransportError {
  return new TransportError('too_large', `message of ${size} bytes is over the transport limit of ${limit} bytes (transport.maxMessageSize)`);
}

/** The body as a Buffer without copying it. */
export function bodyBuffer(message: Message): Buffer {
  const body = message.body;
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/**
 * The headers of a received AMQP message as strings. Whatever another client put there (numbers, tables, binary),
 * this never throws: a value that is not a string is converted, so bad input cannot break a socket.
 */
export function headersFromAmqp(table: Record<string, unknown> | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!table || typeof table !== 'object') return headers;
  for (const [key, value] of Object.entries(table)) {
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') headers[key] = value;
    else if (Buffer.isBuffer(value)) headers[key] = value.toString('utf8');
    else if (typeof value === 'object') headers[key] = safeJson(value);
    else headers[key] = String(value);
  }
  return headers;
}

function safeJson(value: object): string {
  try {
    return JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'bigint' ? inner.toString() : inner));
  } catch {
    return String(value);
  }
}

export function fromAmqp(message: ConsumeMessage | AmqpMessage): Message {
  return { headers: headersFromAmqp(message.properties.headers), body: message.content };
}

/**
 * What a publish that threw means for the sender: amqplib throws a RangeError when the headers table does not
 * fit its 64 KiB encoding buffer, which is the message being too large; anything else is a channel that is gone.
 */
export function publishFailure(error: unknown, what: string): TransportError {
  if (error instanceof RangeError) return new TransportError('too_large', `${what}: the headers are too large for AMQP: ${error.message}`);
  return new TransportError('closed', `${what}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

/**
 * The answer a request gets when it provably never reached a server: RabbitMQ returned it unroutable, or the
 * listener had stopped accepting. Marked unhandled, so the client may send it to another node.
 */
export function unhandledReply(requestHeaders: Record<string, string>, detail: string): Message | undefined {
  const id = requestHeaders[Headers.id];
  if (id === undefined) return undefined;
  const error = MicroError.unavailable('tsmicro.transport', detail, true);
  return { headers: { [Headers.id]: id, [Headers.error]: error.toWire(), [Headers.unhandled]: 'true' }, body: new Uint8Array(0) };
}
