import { randomUUID } from 'node:crypto';
import type { Broker } from '../broker/Broker.js';
import type { Codec, CodecSet } from '../codec/Codec.js';
import { currentContext, normaliseMetadata, type CallContext, type Metadata } from '../context/Context.js';
import type { Next, Selection, Selector } from '../selector/Selector.js';
import { ConnectionPool } from '../transport/ConnectionPool.js';
import { Headers } from '../transport/headers.js';
import type { Transport } from '../transport/Transport.js';
import type { CallOptions, Client, ClientPublishOptions } from './Client.js';
import { wrapCall, type CallFunction, type CallWrapper, type OutgoingCall } from './CallWrapper.js';
import { ClientCall, type CallRuntime } from './ClientCall.js';
import { RetryPolicies } from './retryPolicy.js';

export interface RpcClientOptions {
  requestTimeoutMs: number;
  retries: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  poolSize: number;
  poolIdleMs: number;
  streamsPerConnection: number;
  dialTimeoutMs: number;
}

export interface RpcClientDependencies {
  selector: Selector;
  transport: Transport;
  broker: Broker;
  codec: Codec;
  codecs: CodecSet;
  /** Run around every call, outermost first. */
  wrappers?: readonly CallWrapper[];
}

function fixedNode(service: string, address: string): Next {
  const selection: Selection = { service: { name: service, version: '', metadata: {}, endpoints: [], nodes: [] }, node: { id: address, address, metadata: {} } };
  return () => selection;
}

/**
 * The default client: picks a node through the selector, sends over a pooled, multiplexed transport
 * connection, and retries transient failures on another node within the caller's deadline.
 */
export class RpcClient implements Client {
  readonly #deps: RpcClientDependencies;
  readonly #options: RpcClientOptions;
  readonly #pool: ConnectionPool;
  readonly #runtime: CallRuntime;
  readonly #invoke: CallFunction;

  constructor(deps: RpcClientDependencies, options: RpcClientOptions) {
    this.#deps = deps;
    this.#options = options;
    this.#pool = new ConnectionPool(deps.transport, {
      size: options.poolSize,
      streamsPerConnection: options.streamsPerConnection,
      idleMs: options.poolIdleMs,
      dialTimeoutMs: options.dialTimeoutMs,
    });
    const policies = new RetryPolicies({ initialDelayMs: options.backoffInitialMs, maxDelayMs: options.backoffMaxMs });
    this.#runtime = { selector: deps.selector, pool: this.#pool, codec: deps.codec, codecs: deps.codecs, policies };
    const core: CallFunction = (call) => this.#send(call);
    this.#invoke = deps.wrappers && deps.wrappers.length > 0 ? wrapCall(core, deps.wrappers) : core;
  }

  call<TReply = unknown>(service: string, endpoint: string, request: unknown, options: CallOptions = {}): Promise<TReply> {
    try {
      const parent = options.context === undefined ? currentContext() : (options.context ?? undefined);
      const deadline = Math.min(Date.now() + (options.timeoutMs ?? this.#options.requestTimeoutMs), parent?.deadline ?? Infinity);
      return this.#invoke({ service, endpoint, request, metadata: inherit(parent, options.metadata), deadline, options }) as Promise<TReply>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The call itself, inside the wrappers: encode, select, then a ClientCall sends it and settles the promise.
   * Written without async functions: each async layer costs a promise and a microtask turn, and a small call is
   * mostly such bookkeeping.
   */
  #send(call: OutgoingCall): Promise<unknown> {
    try {
      const body = this.#deps.codec.encode(call.request);
      const next = call.options.address ? fixedNode(call.service, call.options.address) : this.#deps.selector.select(call.service, call.options.select);
      if (typeof next === 'function') return this.#start(call, next, body);
      return next.then((selected) => this.#start(call, selected, body));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #start(call: OutgoingCall, next: Next, body: Uint8Array): Promise<unknown> {
    const retries = call.options.retries ?? this.#options.retries;
    return new Promise((fulfil, fail) => new ClientCall(this.#runtime, call, next, body, retries, fulfil, fail).start());
  }

  async publish(topic: string, payload: unknown, options: ClientPublishOptions = {}): Promise<void> {
    const parent = options.context === undefined ? currentContext() : (options.context ?? undefined);
    const headers = inherit(parent, options.metadata);
    headers[Headers.contentType] = this.#deps.codec.contentType;
    headers[Headers.topic] = topic;
    headers[Headers.eventId] = randomUUID();
    await this.#deps.broker.publish(topic, { headers, body: this.#deps.codec.encode(payload) }, { key: options.key });
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}

/** The parent's metadata with this call's on top; reserved header names never pass as metadata. */
function inherit(parent: CallContext | undefined, own: Metadata | undefined): Metadata {
  const merged: Metadata = parent ? { ...parent.metadata } : {};
  if (own) Object.assign(merged, normaliseMetadata(own));
  return merged;
}
