import { randomUUID } from 'node:crypto';
import type { Broker, BrokerEvent, Subscription } from '../broker/Broker.js';
import type { Codec, CodecSet } from '../codec/Codec.js';
import { CodecError } from '../codec/Codec.js';
import { runInContext } from '../context/Context.js';
import { MicroError, toMicroError } from '../errors.js';
import type { Logger } from '../logger/Logger.js';
import type { Endpoint, Registry, Service } from '../registry/Registry.js';
import { Headers } from '../transport/headers.js';
import type { Listener, Message, Socket, Transport } from '../transport/Transport.js';
import { advertisedAddress } from './advertise.js';
import { ServerCallContext } from './callContext.js';

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
import { EventCallContext } from './EventCallContext.js';
import { InFlight } from './InFlight.js';
import { Registrar } from './Registrar.js';
import type { HandlerRegistration, Server, ServerOptions, SubscriberRegistration } from './Server.js';
import { wrapHandler, type HandlerFunction, type HandlerWrapper } from './HandlerWrapper.js';

export interface RpcServerDependencies {
  registry: Registry;
  transport: Transport;
  broker: Broker;
  codec: Codec;
  codecs: CodecSet;
  logger: Logger;
  /** Run around every handler and subscriber, outermost first. */
  wrappers?: readonly HandlerWrapper[];
}

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

const HEALTH_ENDPOINT = 'Debug.Health';

/**
 * The default server. Requests arrive on transport sockets, many at a time per socket; each is decoded with the
 * codec its content-type names, validated, run inside its call context, and answered with the same id.
 */
export class RpcServer implements Server {
  readonly id: string;
  readonly options: Readonly<ServerOptions>;
  readonly #deps: RpcServerDependencies;
  readonly #logger: Logger;
  readonly #handlers = new Map<string, HandlerRegistration>();
  readonly #subscribers: SubscriberRegistration[] = [];
  readonly #subscriptions: Subscription[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #inFlight = new InFlight();
  readonly #startedAt = Date.now();
  #listener: Listener | undefined;
  #registrar: Registrar | undefined;
  #address: string | undefined;
  #state: State = 'new';

  constructor(options: ServerOptions, deps: RpcServerDependencies) {
    this.options = Object.freeze({ ...options });
    this.id = `${options.name}-${randomUUID()}`;
    this.#deps = deps;
    this.#logger = deps.logger.child({ service: options.name, node: this.id });
    this.handle({
      endpoint: HEALTH_ENDPOINT,
      invoke: () => ({ status: 'ok', service: this.options.name, version: this.options.version, node: this.id, uptimeMs: Date.now() - this.#startedAt }),
      description: { name: HEALTH_ENDPOINT, request: null, response: { name: 'HealthReply', type: 'HealthReply', values: [{ name: 'status', type: 'string' }] }, metadata: { internal: 'true', idempotent: 'true' } },
    });
  }

  get address(): string | undefined {
    return this.#address;
  }

  handle(registration: HandlerRegistration): void {
    if (this.#state !== 'new') throw new Error(`server ${this.options.name}: handlers must be added before start()`);
    const invoke = this.#wrap(registration.invoke, registration.endpoint, 'rpc');
    this.#handlers.set(registration.endpoint, { ...registration, invoke });
  }

  subscribe(registration: SubscriberRegistration): void {
    if (this.#state !== 'new') throw new Error(`server ${this.options.name}: subscribers must be added before start()`);
    const invoke = this.#wrap(registration.invoke as HandlerFunction, registration.topic, 'event') as SubscriberRegistration['invoke'];
    this.#subscribers.push({ ...registration, invoke });
  }

  /** Wrappers are applied once, when an endpoint is added, so a request pays only for the calls themselves. */
  #wrap(invoke: HandlerFunction, endpoint: string, kind: 'rpc' | 'event'): HandlerFunction {
    const wrappers = this.#deps.wrappers ?? [];
    return wrappers.length === 0 ? invoke : wrapHandler(invoke, wrappers, { service: this.options.name, endpoint, kind });
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`server ${this.options.name} was already started`);
    this.#state = 'starting';
    try {
      this.#registrar = new Registrar(this.#deps.registry, () => this.#serviceEntry(), { ttlMs: this.options.registerTtlMs, intervalMs: this.options.registerIntervalMs }, this.#logger);
      this.#listener = await this.#deps.transport.listen(this.options.address);
      this.#listener.accept((socket) => this.#serve(socket));
      this.#address = this.options.advertise || advertisedAddress(this.#listener.address);
      for (const subscriber of this.#subscribers) this.#subscriptions.push(await this.#subscribeOne(subscriber));
      await this.#registrar.start();
      this.#state = 'running';
      this.#logger.info('service started', { address: this.#address, transport: this.#deps.transport.name, registry: this.#deps.registry.name, broker: this.#deps.broker.name });
    } catch (error) {
      await this.#shutdown(false);
      throw error;
    }
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping' || this.#state === 'new') return;
    await this.#shutdown(true);
  }

  async #shutdown(deregister: boolean): Promise<void> {
    this.#state = 'stopping';
    if (deregister) await this.#registrar?.stop();
    await Promise.all(this.#subscriptions.splice(0).map((subscription) => subscription.unsubscribe().catch(() => undefined)));
    await this.#listener?.close();
    const drained = await this.#inFlight.drain(this.options.drainTimeoutMs);
    if (!drained) this.#logger.warn('drain timed out; closing with work in progress', { inFlight: this.#inFlight.count, drainTimeoutMs: this.options.drainTimeoutMs });
    await Promise.all([...this.#sockets].map((socket) => socket.close()));
    this.#state = 'stopped';
    if (deregister) this.#logger.info('service stopped');
  }

  #serviceEntry(): Service {
    const endpoints: Endpoint[] = [...this.#handlers.values()].map((handler) => handler.description);
    for (const subscriber of this.#subscribers) endpoints.push(subscriber.description);
    const node = {
      id: this.id,
      address: this.#address!,
      metadata: { transport: this.#deps.transport.name, broker: this.#deps.broker.name, registry: this.#deps.registry.name, server: 'rpc', protocol: 'tsmicro', codec: this.#deps.codec.name },
    };
    return { name: this.options.name, version: this.options.version, metadata: { ...this.options.metadata }, endpoints, nodes: [node] };
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket);
    socket.receive({
      message: (message) => this.#dispatch(socket, message),
      close: (error) => {
        this.#sockets.delete(socket);
        if (error) this.#logger.debug('connection closed with error', { remote: socket.remote, error: error.message });
      },
    });
  }

  #dispatch(socket: Socket, message: Message): void {
    const headers = message.headers;
    const id = headers[Headers.id];
    if (id === undefined) return this.#reply(socket, undefined, MicroError.badRequest(this.options.name, 'request has no micro-id header'));
    if (this.#state !== 'running') {
      // Refused before any handler ran: the client may safely send it to another node.
      return this.#reply(socket, id, MicroError.unavailable(this.options.name, `service ${this.options.name} on ${this.#address} is shutting down`), true);
    }
    const endpoint = headers[Headers.endpoint] ?? '';
    const service = headers[Headers.service];
    if (service !== undefined && service !== this.options.name) {
      return this.#reply(socket, id, MicroError.notFound(this.options.name, `${this.#address} serves "${this.options.name}", not "${service}" (stale registry entry?)`));
    }
    const handler = this.#handlers.get(endpoint);
    if (!handler) {
      const known = [...this.#handlers.keys()].join(', ');
      return this.#reply(socket, id, MicroError.notFound(this.options.name, `unknown endpoint "${endpoint}" of service "${this.options.name}"; it has: ${known}`));
    }
    const contentType = headers[Headers.contentType];
    const codec = contentType === undefined || contentType === this.#deps.codec.contentType ? this.#deps.codec : this.#deps.codecs.forContentType(contentType);
    if (!codec) {
      return this.#reply(socket, id, new MicroError(this.options.name, 415, `unsupported content-type "${contentType}"; ${this.options.name} reads ${this.#deps.codecs.contentTypes.join(', ')}`));
    }
    this.#inFlight.begin();
    this.#run(socket, id, handler, codec, message);
  }

  /**
   * Decode, validate, run, reply; every failure becomes an error reply. A handler without validation that
   * answers synchronously is served without a promise: most of a small call's cost is bookkeeping like that.
   */
  #run(socket: Socket, id: string, handler: HandlerRegistration, codec: Codec, message: Message): void {
    const timeout = Number(message.headers[Headers.timeout]);
    const deadline = Number.isFinite(timeout) && timeout > 0 ? Date.now() + timeout : Infinity;
    const context = new ServerCallContext(this.options.name, handler.endpoint, message.headers, deadline);
    let reply: unknown;
    try {
      const request = this.#decodeRequest(handler, codec, message);
      const prepared = handler.prepare ? handler.prepare(request) : request;
      reply = isThenable(prepared)
        ? Promise.resolve(prepared).then((valid) => runInContext(context, handler.invoke, valid, context))
        : runInContext(context, handler.invoke, prepared, context);
    } catch (error) {
      this.#fail(socket, id, handler, error);
      return;
    }
    if (!isThenable(reply)) {
      this.#answer(socket, id, handler, codec, reply);
      return;
    }
    reply.then(
      (value) => this.#answer(socket, id, handler, codec, value),
      (error: unknown) => this.#fail(socket, id, handler, error),
    );
  }

  #decodeRequest(handler: HandlerRegistration, codec: Codec, message: Message): unknown {
    try {
      return codec.decode(message.body);
    } catch (error) {
      throw MicroError.badRequest(this.options.name, `request body for ${handler.endpoint} is not valid ${codec.contentType}: ${(error as CodecError).message}`);
    }
  }

  #answer(socket: Socket, id: string, handler: HandlerRegistration, codec: Codec, value: unknown): void {
    let body: Uint8Array;
    try {
      body = codec.encode(value);
    } catch (error) {
      this.#fail(socket, id, handler, error);
      return;
    }
    this.#send(socket, { headers: { [Headers.id]: id, [Headers.contentType]: codec.contentType }, body }, handler.endpoint);
    this.#inFlight.end();
  }

  #fail(socket: Socket, id: string, handler: HandlerRegistration, error: unknown): void {
    const microError = toMicroError(error, this.options.name);
    if (microError.code >= 500) this.#logger.error('handler failed', { endpoint: handler.endpoint, error: (error as Error)?.stack ?? String(error) });
    this.#reply(socket, id, microError);
    this.#inFlight.end();
  }

  #reply(socket: Socket, id: string | undefined, error: MicroError, unhandled = false): void {
    const headers: Record<string, string> = { [Headers.error]: error.toWire() };
    if (id !== undefined) headers[Headers.id] = id;
    if (unhandled) headers[Headers.unhandled] = 'true';
    this.#send(socket, { headers, body: new Uint8Array(0) }, 'error');
  }

  #send(socket: Socket, message: Message, what: string): void {
    try {
      socket.send(message);
    } catch (error) {
      const kind = (error as { kind?: string }).kind;
      if (kind === 'too_large') {
        // The reply cannot go; the caller still deserves an answer instead of a timeout.
        const tooLarge = MicroError.internal(this.options.name, `reply of ${what} is too large for the transport: ${(error as Error).message}`);
        this.#logger.error('reply too large', { endpoint: what, error: (error as Error).message });
        this.#send(socket, { headers: { [Headers.id]: message.headers[Headers.id]!, [Headers.error]: tooLarge.toWire() }, body: new Uint8Array(0) }, 'error');
      } else {
        this.#logger.debug('reply dropped: connection gone', { remote: socket.remote, endpoint: what });
      }
    }
  }

  async #subscribeOne(subscriber: SubscriberRegistration): Promise<Subscription> {
    const handler = async (event: BrokerEvent): Promise<void> => {
      const codec = this.#deps.codecs.forContentType(event.message.headers[Headers.contentType]) ?? this.#deps.codec;
      let payload: unknown;
      try {
        payload = codec.decode(event.message.body);
        if (subscriber.prepare) payload = await subscriber.prepare(payload);
      } catch (error) {
        // Redelivering cannot fix a malformed or invalid event: drop it (or dead-letter, where the broker can).
        this.#logger.error('event rejected', { topic: subscriber.topic, queue: subscriber.queue, attempt: event.attempt, error: error instanceof CodecError ? `not valid ${codec.contentType}: ${error.message}` : (error as Error).message });
        await event.nack({ requeue: false });
        return;
      }
      this.#inFlight.begin();
      try {
        const context = new EventCallContext(this.options.name, subscriber.topic, event);
        const done = runInContext(context, subscriber.invoke, payload, context);
        if (isThenable(done)) await done;
      } finally {
        this.#inFlight.end();
      }
    };
    return this.#deps.broker.subscribe(subscriber.topic, handler, { queue: subscriber.queue, ack: subscriber.ack });
  }
}
