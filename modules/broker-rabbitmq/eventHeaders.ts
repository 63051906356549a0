import type { ConsumeMessage, MessageProperties } from 'amqplib';
import { Headers, type Message } from '../../src/index.js';

/**
 * The header this broker keeps on redelivered copies of an event: which delivery the copy is (RabbitMQ's classic
 * queues do not count redeliveries). Stripped before a handler sees the event.
 */
export const ATTEMPT_HEADER = 'x-tsmicro-attempt';

/** This broker's bookkeeping, and RabbitMQ's on dead-lettered messages: not the publisher's headers. */
function isBrokerHeader(key: string): boolean {
  return key === ATTEMPT_HEADER || key === 'x-death' || key.startsWith('x-first-death-') || key.startsWith('x-last-death-');
}

/** Converts what any AMQP client may have put in a header to a string; never throws. */
function headerText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value !== 'object') return String(value);
  try {
    return JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'bigint' ? inner.toString() : inner));
  } catch {
    return String(value);
  }
}

/**
 * The event's headers as the publisher set them. Events from other AMQP clients get their content type and message
 * id as the framework's `content-type` and `micro-event-id` headers, so codecs and de-duplication work for them too.
 */
export function eventHeaders(properties: MessageProperties): Record<string, string> {
  const headers: Record<string, string> = {};
  const table = properties.headers;
  if (table && typeof table === 'object') {
    for (const [key, value] of Object.entries(table)) {
      if (isBrokerHeader(key)) continue;
      const text = headerText(value);
      if (text !== undefined) headers[key] = text;
    }
  }
  if (headers[Headers.contentType] === undefined && typeof properties.contentType === 'string') headers[Headers.contentType] = properties.contentType;
  if (headers[Headers.eventId] === undefined && typeof properties.messageId === 'string') headers[Headers.eventId] = properties.messageId;
  return headers;
}

export function eventMessage(delivery: ConsumeMessage): Message {
  return { headers: eventHeaders(delivery.properties), body: delivery.content };
}

/**
 * 1 for a first delivery. A copy this broker made carries its number; RabbitMQ marks an event it delivers again
 * after a consumer died without settling it as `redelivered`, which counts as one more attempt.
 */
export function attemptOf(delivery: ConsumeMessage): number {
  const recorded = Number(headerText(delivery.properties.headers?.[ATTEMPT_HEADER]));
  const base = Number.isInteger(recorded) && recorded >= 1 ? recorded : 1;
  return delivery.fields.redelivered ? base + 1 : base;
}

/** The publish properties of a copy of `delivery`: the same message with its attempt number, for `queue` only (BCC). */
export function copyProperties(delivery: ConsumeMessage, attempt: number, queue: string): Record<string, unknown> {
  const { contentType, contentEncoding, deliveryMode, priority, correlationId, messageId, timestamp, type, appId } = delivery.properties;
  return {
    contentType,
    contentEncoding,
    deliveryMode: deliveryMode ?? 2,
    priority,
    correlationId,
    messageId,
    timestamp,
    type,
    appId,
    headers: { ...(delivery.properties.headers ?? {}), [ATTEMPT_HEADER]: attempt },
    BCC: queue,
  };
}
