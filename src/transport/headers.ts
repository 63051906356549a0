/**
 * Header names the framework puts on transport messages. Lower-case, like HTTP/2, so metadata that arrives
 * through an HTTP gateway keeps its names. Metadata keys with these names never reach a handler as metadata.
 */
export const Headers = {
  id: 'micro-id',
  service: 'micro-service',
  endpoint: 'micro-endpoint',
  error: 'micro-error',
  /** Milliseconds the caller still waits: the server's deadline. Relative, so clocks need not agree. */
  timeout: 'micro-timeout',
  topic: 'micro-topic',
  /** A unique id per published event, so at-least-once consumers can drop duplicates. */
  eventId: 'micro-event-id',
  contentType: 'content-type',
  /** On broker deliveries: which subscription of the receiving process the event is for. */
  subscriber: 'micro-subscriber',
  /** On an error reply: the server refused the request before any handler ran, so resending it is safe. */
  unhandled: 'micro-unhandled',
} as const;

const RESERVED = new Set<string>([
  Headers.id,
  Headers.service,
  Headers.endpoint,
  Headers.error,
  Headers.timeout,
  Headers.contentType,
  Headers.subscriber,
  Headers.unhandled,
  Headers.topic,
  Headers.eventId,
]);

export function isReservedHeader(name: string): boolean {
  return RESERVED.has(name);
}
