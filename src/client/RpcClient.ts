import { randomUUID } from 'node:crypto';
import type { Broker } from '../broker/Broker.js';
import type { Codec, CodecSet } from '../codec/Codec.js';
import { currentContext, normaliseMetadata, type CallContext, type Metadata } from '../context/Context.js';
import { MicroError } from '../errors.js';
import type { Service } from '../registry/Registry.js';
import type { Next, Selection, Selector } from '../selector/Selector.js';
import { ConnectionPool } from '../transport/ConnectionPool.js';
import { RequestChannel } from '../transport/RequestChannel.js';
import { Headers } from '../transport/headers.js';
import type { Message, Transport } from '../transport/Transport.js';
import type { CallOptions, Client, ClientPublishOptions } from './Client.js';
import { wrapCall, type CallFunction, type CallWrapper, type OutgoingCall } from './CallWrapper.js';
import { isRetryable, RetryPolicies, retryableErrors } from './retryPolicy.js';

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

const ERROR_ID = 'tsmicro.client';

const idempotentEndpoints = new WeakMap<Service, Set<string>>();

/** Endpoints that declared `idempotent: true` in @Handler, read from the registry entry. */
function isIdempotent(service: Service, endpoint: string): boolean {
  let names = idempotentEndpoints.get(service);
  if (!names) {
    names = new Set(service.endpoints.filter((candidate) => candidate.metadata?.idempotent === 'true').map((candidate) => candidate.name));
    idempotentEndpoints.set(service, names);
  }
  return names.has(endpoint);
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
  readonly #policies: RetryPolicies;
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
    this.#policies = new RetryPolicies({ initialDelayMs: options.backoffInitialMs, maxDelayMs: options.backoffMaxMs });
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
   * The call itself, inside the wrappers: select, encode, send, and retry what is safe to retry. Written with
   * promise callbacks rather than async functions: each async layer costs a promise and a microtask turn, and a
   * small call is mostly such bookkeeping.
   */
  #send(call: OutgoingCall): Promise<unknown> {
    try {
      const body = this.#deps.codec.encode(call.request);
      const next = call.options.address ? fixedNode(call.service, call.options.address) : this.#deps.selector.select(call.service, call.options.select);
      if (typeof next === 'function') return this.#sendTo(call, next, body);
      return next.then((selected) => this.#sendTo(call, selected, body));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #sendTo({ service, endpoint, metadata, deadline, options }: OutgoingCall, next: Next, body: Uint8Array): Promise<unknown> {
    const retries = options.retries ?? this.#options.retries;
    const first = this.#attempt(service, endpoint, next, metadata, body, deadline);
    if (retries <= 0) return first;
    // Most calls succeed at once: the retry policy is entered only after a first failure worth retrying.
    return first.catch((error: unknown) => {
      if (typeof error !== 'object' || error === null || !retryableErrors.has(error)) throw error;
      let lastError = error;
      let replay: unknown = error;
      return this.#policies.get(retries).then((policy) => policy.execute(() => {
        // The policy's first run replays the failure already seen, so its backoff comes before the first retry.
        if (replay !== undefined) {
          const seen = replay;
          replay = undefined;
          throw seen;
        }
        // A retry that would start after the deadline reports the failure that caused it, not a timeout.
        if (Date.now() >= deadline) throw lastError;
        return this.#attempt(service, endpoint, next, metadata, body, deadline).catch((failure: unknown) => {
          lastError = failure as object;
          throw failure;
        });
      }));
    });
  }

  #attempt<TReply>(service: string, endpoint: string, next: Next, metadata: Metadata, body: Uint8Array, deadline: number): Promise<TReply> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return Promise.reject(MicroError.timeout(ERROR_ID, `call to ${service} ${endpoint} timed out before it was sent`));
    let selection: Selection;
    let replied: Promise<Message>;
    try {
      selection = next();
    } catch (error) {
      return Promise.reject(error);
    }
    const headers: Record<string, string> = { ...metadata };
    headers[Headers.service] = service;
    headers[Headers.endpoint] = endpoint;
    headers[Headers.contentType] = this.#deps.codec.contentType;
    headers[Headers.timeout] = String(remaining);
    const message: Message = { headers, body };
    const what = (): string => `call to ${service} ${endpoint} at ${selection.node.address}`;
    try {
      const pooled = this.#pool.get(selection.node.address, ERROR_ID, remaining);
      // A pooled connection is used at once: waiting for it would cost a turn of the microtask queue per call.
      replied = pooled instanceof RequestChannel ? pooled.request(message, remaining, ERROR_ID, what) : pooled.then((channel) => channel.request(message, remaining, ERROR_ID, what));
    } catch (error) {
      replied = Promise.reject(error);
    }
    return replied.then(
      (reply) => {
        this.#deps.selector.mark(service, selection.node);
        return this.#decode<TReply>(reply, service, endpoint);
      },
      (error: unknown) => {
        this.#onFailure(service, endpoint, selection, error);
        throw error;
      },
    );
  }

  /** Marks the node when the failure was the node's (not the handler's answer) and judges retryability. */
  #onFailure(service: string, endpoint: string, selection: Selection, error: unknown): void {
    if (!MicroError.is(error)) return;
    const nodeFailure = error.notDelivered || error.code === 502 || (error.code === 408 && error.id === ERROR_ID);
    if (nodeFailure) this.#deps.selector.mark(service, selection.node, error);
    if (isRetryable(error, isIdempotent(selection.service, endpoint))) retryableErrors.add(error);
  }

  #decode<TReply>(reply: Message, service: string, endpoint: string): TReply {
    const codec = this.#deps.codecs.forContentType(reply.headers[Headers.contentType]) ?? this.#deps.codec;
    try {
      return codec.decode(reply.body) as TReply;
    } catch (error) {
      throw MicroError.internal(ERROR_ID, `reply from ${service} ${endpoint} could not be decoded as ${codec.contentType}: ${(error as Error).message}`);
    }
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
