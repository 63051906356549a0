import type { AckMode } from '../broker/Broker.js';
import type { CallContext } from '../context/Context.js';
import type { Endpoint } from '../registry/Registry.js';

/** A handler context for events: the call context plus the event's settlement, for `ack: 'manual'`. */
export interface EventContext extends CallContext {
  readonly topic: string;
  readonly eventId: string | undefined;
  readonly attempt: number;
  ack(): Promise<void>;
  nack(options?: { requeue?: boolean }): Promise<void>;
}

export interface HandlerRegistration {
  endpoint: string;
  /** Turns the decoded body into what the handler takes, validating it; throws MicroError 400. */
  prepare?: (body: unknown) => Promise<unknown> | unknown;
  invoke(request: unknown, context: CallContext): unknown;
  /** What the registry publishes about the endpoint. */
  description: Endpoint;
}

export interface SubscriberRegistration {
  topic: string;
  queue?: string;
  ack?: AckMode;
  prepare?: (payload: unknown) => Promise<unknown> | unknown;
  invoke(payload: unknown, context: EventContext): unknown;
  description: Endpoint;
}

export interface ServerOptions {
  name: string;
  version: string;
  metadata: Record<string, string>;
  /** Where to listen, e.g. `127.0.0.1:0`. */
  address: string;
  /** The address published in the registry when it differs from the listening one (NAT, containers). */
  advertise: string;
  registerTtlMs: number;
  registerIntervalMs: number;
  /** Longest stop() waits for requests and events in progress. */
  drainTimeoutMs: number;
}

/**
 * Serves one service: its handlers over the transport and its subscribers through the broker, announced in
 * the registry while it runs.
 */
export interface Server {
  readonly options: Readonly<ServerOptions>;
  /** The node id, `<name>-<uuid>`. */
  readonly id: string;
  /** The address the node is registered under; undefined before start(). */
  readonly address: string | undefined;
  handle(registration: HandlerRegistration): void;
  subscribe(registration: SubscriberRegistration): void;
  /** Listens, subscribes, then registers; nothing is left running if a step fails. */
  start(): Promise<void>;
  /** Deregisters, stops taking work, drains what is in progress (bounded), closes. */
  stop(): Promise<void>;
}
