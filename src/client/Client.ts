import type { CallContext, Metadata } from '../context/Context.js';
import type { SelectOptions } from '../selector/Selector.js';

export interface CallOptions {
  /** How long to wait for the reply, retries included; the server gets the remaining time as its deadline. */
  timeoutMs?: number;
  /** Further attempts after a transient failure (see the README's "Retries"). */
  retries?: number;
  metadata?: Metadata;
  /** Call this node directly instead of asking the selector. */
  address?: string;
  select?: SelectOptions;
  /**
   * The call this one is made on behalf of: its metadata is carried on and its deadline caps this one.
   * Defaults to the handler context currently running; `null` starts afresh.
   */
  context?: CallContext | null;
}

export interface ClientPublishOptions {
  metadata?: Metadata;
  /** Partition key, for brokers that partition. */
  key?: string;
  context?: CallContext | null;
}

/**
 * Calls endpoints and publishes events, whatever registry, transport and broker are bound.
 *
 * @example
 *   const reply = await client.call<HelloReply>('greeter', 'Greeter.sayHello', { name: 'Ada' }, { timeoutMs: 2000 });
 */
export interface Client {
  call<TReply = unknown>(service: string, endpoint: string, request: unknown, options?: CallOptions): Promise<TReply>;
  publish(topic: string, payload: unknown, options?: ClientPublishOptions): Promise<void>;
  close(): Promise<void>;
}
