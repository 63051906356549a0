import 'reflect-metadata/lite';
import type { AckMode } from '../broker/Broker.js';

/** A class a request or event payload is turned into; its class-validator decorators validate it. */
export type PayloadClass = abstract new (...args: never[]) => object;

export interface ServiceOptions {
  /** The name clients call, e.g. `greeter`. */
  name: string;
  /** Defaults to `latest`, as in go-micro. */
  version?: string;
  metadata?: Record<string, string>;
}

export interface HandlerOptions {
  /** The endpoint name; `<Class>.<method>` when absent. */
  name?: string;
  /** The request class when it cannot be read from the parameter type (e.g. an interface). */
  request?: PayloadClass;
  /** The reply class, for the endpoint description the registry, CLI and gateway show. */
  response?: PayloadClass;
  /**
   * Safe to run twice. Only idempotent endpoints are retried after a failure that may have reached the handler
   * (a connection lost mid-call); requests that never reached a node are retried for any endpoint.
   */
  idempotent?: boolean;
  /** Extra endpoint metadata published in the registry (the gateway reads `method` and `path` from it). */
  metadata?: Record<string, string>;
}

export interface SubscriberOptions {
  /** Subscribers sharing a queue name share the events; without one, every instance gets every event. */
  queue?: string;
  ack?: AckMode;
  /** The payload class when it cannot be read from the parameter type. */
  payload?: PayloadClass;
  metadata?: Record<string, string>;
}

export interface HandlerMetadata {
  method: string;
  options: HandlerOptions;
  /** The first parameter's type as TypeScript emitted it (`design:paramtypes`). */
  parameterType: unknown;
}

export interface SubscriberMetadata {
  method: string;
  topic: string;
  options: SubscriberOptions;
  parameterType: unknown;
}

export const SERVICE_KEY = Symbol.for('tsmicro.service');
export const HANDLERS_KEY = Symbol.for('tsmicro.handlers');
export const SUBSCRIBERS_KEY = Symbol.for('tsmicro.subscribers');

/** Appends to a list kept on the class itself (not inherited), so subclasses do not share their parent's list. */
export function appendOwn<T>(key: symbol, target: object, item: T): void {
  const own: T[] = Reflect.getOwnMetadata(key, target) ?? [];
  Reflect.defineMetadata(key, [...own, item], target);
}
