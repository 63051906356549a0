import type { Codec, CodecSet } from '../codec/Codec.js';
import { MicroError } from '../errors.js';
import type { Service } from '../registry/Registry.js';
import type { Next, Selection, Selector } from '../selector/Selector.js';
import type { ConnectionPool } from '../transport/ConnectionPool.js';
import { Headers } from '../transport/headers.js';
import type { PendingRequest } from '../transport/PendingRequests.js';
import { RequestChannel } from '../transport/RequestChannel.js';
import type { Message } from '../transport/Transport.js';
import type { OutgoingCall } from './CallWrapper.js';
import { isRetryable, retryableErrors, type RetryPolicies } from './retryPolicy.js';

/** What every call of one client shares. */
export interface CallRuntime {
  readonly selector: Selector;
  readonly pool: ConnectionPool;
  /** The codec requests are written in. */
  readonly codec: Codec;
  /** Every codec a reply may come back in. */
  readonly codecs: CodecSet;
  readonly policies: RetryPolicies;
}

export const CLIENT_ERROR_ID = 'tsmicro.client';

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

/**
 * One attempt of a call, from picking a node to the decoded reply, settling the promise the caller holds.
 *
 * It is itself the entry its connection keeps while the reply is awaited (resolve, reject, deadline), so an
 * attempt is one object: no closure for the timeout text, no promise per step (send, decode, retry check). A
 * small call is mostly such bookkeeping — each promise layer is an object, two reaction closures and a turn of
 * the microtask queue — and the client is the side that runs out of CPU first on the benchmark.
 *
 * A failure worth retrying (see retryPolicy.ts) is handed to the retry policy, which makes further attempts, each
 * its own ClientCall without retries of its own.
 */
export class ClientCall implements PendingRequest<Message> {
  /** When the attempt in flight times out; read by the connection's deadline timer. */
  deadline = 0;
  #timeoutMs = 0;
  #selection: Selection | undefined;

  constructor(
    private readonly runtime: CallRuntime,
    private readonly call: OutgoingCall,
    private readonly next: Next,
    private readonly body: Uint8Array,
    private readonly retries: number,
    private readonly fulfil: (value: unknown) => void,
    private readonly fail: (error: unknown) => void,
  ) {}

  /** Picks a node and sends; every outcome, failures to pick or send included, settles the call. */
  start(): void {
    const { service, endpoint, deadline } = this.call;
    const now = Date.now();
    const remaining = deadline - now;
    if (remaining <= 0) {
      this.fail(MicroError.timeout(CLIENT_ERROR_ID, `call to ${service} ${endpoint} timed out before it was sent`));
      return;
    }
    let selection: Selection;
    try {
      selection = this.next();
    } catch (error) {
      this.fail(error);
      return;
    }
    this.#selection = selection;
    this.#timeoutMs = remaining;
    this.deadline = deadline;
    const headers: Record<string, string> = { ...this.call.metadata };
    headers[Headers.service] = service;
    headers[Headers.endpoint] = endpoint;
    headers[Headers.contentType] = this.runtime.codec.contentType;
    headers[Headers.timeout] = String(remaining);
    const message: Message = { headers, body: this.body };
    let pooled: Promise<RequestChannel> | RequestChannel;
    try {
      pooled = this.runtime.pool.get(selection.node.address, CLIENT_ERROR_ID, remaining);
    } catch (error) {
      this.reject(error as Error);
      return;
    }
    // A pooled connection is used at once: waiting for it would cost a turn of the microtask queue per call.
    if (pooled instanceof RequestChannel) pooled.send(message, this, CLIENT_ERROR_ID);
    else pooled.then((channel) => channel.send(message, this, CLIENT_ERROR_ID), (error: Error) => this.reject(error));
  }

  /** The reply came: the node is marked as working and the body decoded for the caller. */
  resolve(reply: Message): void {
    const { service, endpoint } = this.call;
    this.runtime.selector.mark(service, this.#selection!.node);
    const contentType = reply.headers[Headers.contentType];
    // Replies mostly come in the codec the request went in: a string comparison instead of a lookup.
    const codec = contentType === undefined || contentType === this.runtime.codec.contentType ? this.runtime.codec : (this.runtime.codecs.forContentType(contentType) ?? this.runtime.codec);
    let value: unknown;
    try {
      value = codec.decode(reply.body);
    } catch (error) {
      this.fail(MicroError.internal(CLIENT_ERROR_ID, `reply from ${service} ${endpoint} could not be decoded as ${codec.contentType}: ${(error as Error).message}`));
      return;
    }
    this.fulfil(value);
  }

  /** The attempt failed: the node is marked if the failure was its own, and a transient failure is retried. */
  reject(error: Error): void {
    this.#judge(error);
    if (this.retries > 0 && retryableErrors.has(error)) this.#retry(error);
    else this.fail(error);
  }

  timedOut(): Error {
    const { service, endpoint } = this.call;
    return MicroError.timeout(CLIENT_ERROR_ID, `call to ${service} ${endpoint} at ${this.#selection?.node.address ?? '?'} timed out after ${this.#timeoutMs} ms`);
  }

  /** Marks the node when the failure was the node's (not the handler's answer) and judges retryability. */
  #judge(error: unknown): void {
    const selection = this.#selection;
    if (!MicroError.is(error) || !selection) return;
    const nodeFailure = error.notDelivered || error.code === 502 || (error.code === 408 && error.id === CLIENT_ERROR_ID);
    if (nodeFailure) this.runtime.selector.mark(this.call.service, selection.node, error);
    if (isRetryable(error, isIdempotent(selection.service, this.call.endpoint))) retryableErrors.add(error);
  }

  /** Further attempts under the retry policy (its backoff comes before each), within the call's deadline. */
  #retry(firstError: Error): void {
    const deadline = this.call.deadline;
    let lastError: unknown = firstError;
    let replay: unknown = firstError;
    const attempt = (): Promise<unknown> =>
      new Promise((fulfil, fail) => new ClientCall(this.runtime, this.call, this.next, this.body, 0, fulfil, fail).start()).catch((failure: unknown) => {
        lastError = failure;
        throw failure;
      });
    this.runtime.policies
      .get(this.retries)
      .then((policy) =>
        policy.execute(() => {
          // The policy's first run replays the failure already seen, so its backoff comes before the first retry.
          if (replay !== undefined) {
            const seen = replay;
            replay = undefined;
            throw seen;
          }
          // A retry that would start after the deadline reports the failure that caused it, not a timeout.
          if (Date.now() >= deadline) throw lastError;
          return attempt();
        }),
      )
      .then(this.fulfil, this.fail);
  }
}
