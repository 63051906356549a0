import type { Message } from '../transport/Transport.js';

/**
 * Publish/subscribe. Semantics every broker keeps:
 * - a subscription without `queue` gets every event on its topic (broadcast);
 * - subscriptions sharing a `queue` name form a group, and each event goes to one member of the group;
 * - the ack mode says when an event counts as handled (see AckMode). What happens to an event that is not
 *   acked depends on the broker, and each broker's documentation says it.
 */
export type { Message } from '../transport/Transport.js';

/**
 * `on-success` (default): acked when the handler resolves; a handler that throws nacks it for redelivery.
 * `on-receipt`: acked before the handler runs (at most once).
 * `manual`: the handler calls `ack()` or `nack()` itself.
 */
export type AckMode = 'on-success' | 'on-receipt' | 'manual';

export const ACK_MODES: readonly AckMode[] = ['on-success', 'on-receipt', 'manual'];

export interface BrokerEvent {
  readonly topic: string;
  readonly message: Message;
  /** 1 on the first delivery, higher on redeliveries. */
  readonly attempt: number;
  ack(): Promise<void>;
  /** `requeue: false` drops (or dead-letters, where the broker has one) instead of redelivering. */
  nack(options?: { requeue?: boolean }): Promise<void>;
}

export type EventHandler = (event: BrokerEvent) => void | Promise<void>;

export interface SubscribeOptions {
  /** Members of one queue share the events; without a queue every subscription gets every event. */
  queue?: string;
  ack?: AckMode;
}

export interface PublishOptions {
  /** Where the broker partitions (Kafka), events with one key keep their order. */
  key?: string;
}

export interface Subscription {
  readonly topic: string;
  readonly options: Readonly<SubscribeOptions>;
  unsubscribe(): Promise<void>;
}

export interface Broker {
  /** The plugin name, e.g. `direct`, `memory`, `nats`. */
  readonly name: string;
  connect(): Promise<void>;
  /** Ends every subscription and releases connections. */
  disconnect(): Promise<void>;
  /** Resolves once the broker has accepted the event (what "accepted" means is per broker). */
  publish(topic: string, message: Message, options?: PublishOptions): Promise<void>;
  subscribe(topic: string, handler: EventHandler, options?: SubscribeOptions): Promise<Subscription>;
}
