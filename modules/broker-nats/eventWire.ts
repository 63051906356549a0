import type { MsgHdrs } from '@nats-io/transport-node';
import { MicroError, type EventHandler, type Message, type SubscribeOptions, type Subscription } from '../../src/index.js';
import type { NatsModule } from '../shared/nats/natsConnection.js';
import { fromNatsHeaders, natsHeadersSize, toNatsHeaders } from '../shared/nats/natsHeaders.js';

export const ERROR_ID = 'tsmicro.broker';

/** What carries events: core NATS or JetStream. The broker picks one at connect. */
export interface DeliveryEngine {
  publish(topic: string, message: Message): Promise<void>;
  subscribe(topic: string, handler: EventHandler, options: SubscribeOptions): Promise<Subscription>;
  /** Ends every subscription and waits for handlers still running, at most `drainMs`. */
  close(drainMs: number): Promise<void>;
}

/** Headers NATS and JetStream add (`Nats-Msg-Id`, …): theirs, not the publisher's. */
const isNatsHeader = (name: string): boolean => /^nats-/i.test(name);

/** The NATS headers of an outgoing event; refuses one the server would refuse, as a 413. */
export function eventHeaders(nats: NatsModule, topic: string, message: Message, maxPayload: number): MsgHdrs | undefined {
  const headers = toNatsHeaders(nats, message.headers, isNatsHeader);
  const size = message.body.length + natsHeadersSize(headers);
  if (size > maxPayload) throw MicroError.tooLarge(ERROR_ID, `event on "${topic}" is ${size} bytes, over the NATS server's max_payload of ${maxPayload} bytes`);
  return headers;
}

/** The headers of a received event; throws on a header block this codec did not write. */
export function receivedHeaders(headers: MsgHdrs | undefined): Record<string, string> {
  return fromNatsHeaders(headers, isNatsHeader);
}

export function subscriptionOf(topic: string, options: SubscribeOptions, unsubscribe: () => Promise<void>): Subscription {
  return { topic, options: Object.freeze({ ...options }), unsubscribe };
}
