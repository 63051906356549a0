import { randomUUID } from 'node:crypto';
import { MicroError } from '../errors.js';
import type { Logger } from '../logger/Logger.js';
import type { RegistryCache } from '../registry/cache/RegistryCache.js';
import type { Node, Service } from '../registry/Registry.js';
import { ConnectionPool } from '../transport/ConnectionPool.js';
import { Headers } from '../transport/headers.js';
import type { Listener, Message, Socket, Transport } from '../transport/Transport.js';
import type { Broker, EventHandler, PublishOptions, SubscribeOptions, Subscription } from './Broker.js';
import { DeliveryBatcher } from './DeliveryBatcher.js';
import { batchSubscriber, countTargets, subscriberTargets } from './directTargets.js';
import { BATCH_HEADER, BATCH_METADATA, BATCH_VERSION, BatchItem, decodeBatch, encodeBatchReply } from './eventBatch.js';
import { LocalDispatcher } from './LocalDispatcher.js';
import { SubscriberTable, type LocalSubscription } from './SubscriberTable.js';

export interface DirectBrokerOptions {
  /** Where this process listens for events, e.g. `127.0.0.1:0`. */
  address: string;
  registerTtlMs: number;
  registerIntervalMs: number;
  /** How long a publish waits for a subscriber process to accept an event. */
  deliveryTimeoutMs: number;
  /** Deliveries of a nacked event (within the subscriber's process) before it is dropped. */
  maxAttempts: number;
  redeliveryDelayMs: number;
  drainTimeoutMs: number;
}

export interface DirectBrokerDependencies {
  registry: RegistryCache;
  transport: Transport;
  logger: Logger;
}

const ERROR_ID = 'tsmicro.broker';
/**
 * A batch leaves once it holds this many events, even within a tick: the subscriber starts on it while the
 * publisher prepares the next, instead of the two processes taking turns.
 */
const BATCH_MAX_EVENTS = 64;
/** Bytes of events in one batch; bigger events travel alone (up to the transport's message limit). */
const BATCH_MAX_BYTES = 256 * 1024;
const accepted = (): true => true;
/** Subscriptions are registry services named `tsmicro.broker.<topic>`; one node per subscription. */
export const BROKER_SERVICE_PREFIX = 'tsmicro.broker.';

/**
 * The zero-dependency default broker. Each subscription is advertised in the registry; a publisher looks the
 * topic up and sends the event over the transport to every broadcast subscriber and to one member of each queue
 * group, trying another member when one cannot be reached. Publish resolves when each target process has
 * accepted the event; the subscriber's process then runs the handler under its ack mode and redelivers a nacked
 * event locally. Events live in memory only: one accepted by a process that then dies is lost.
 * Events published in the same tick towards one process travel as one batch with one reply (DeliveryBatcher,
 * eventBatch.ts); each publish still resolves only once its own event was accepted, and a subscription that
 * advertises no batch support (an older process) gets one request per event.
 */
export class DirectBroker implements Broker {
  readonly name = 'direct';
  readonly #deps: DirectBrokerDependencies;
  readonly #options: DirectBrokerOptions;
  readonly #id = randomUUID();
  readonly #table = new SubscriberTable();
  readonly #own = new Map<number, LocalSubscription>();
  readonly #dispatcher: LocalDispatcher;
  readonly #sockets = new Set<Socket>();
  readonly #turns = new Map<string, number>();
  #pool: ConnectionPool | undefined;
  #batcher: DeliveryBatcher | undefined;
  #listener: Listener | undefined;
  #listening: Promise<Listener> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #connecting: Promise<void> | undefined;

  constructor(deps: DirectBrokerDependencies, options: DirectBrokerOptions) {
    this.#deps = deps;
    this.#options = options;
    this.#dispatcher = new LocalDispatcher(this.#table, { maxAttempts: options.maxAttempts, redeliveryDelayMs: options.redeliveryDelayMs }, deps.logger);
  }

  get address(): string | undefined {
    return this.#listener?.address;
  }

  connect(): Promise<void> {
    this.#connecting ??= this.#connect().catch((error: unknown) => {
      this.#connecting = undefined;
      throw error;
    });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    const pool = new ConnectionPool(this.#deps.transport, { size: 2, streamsPerConnection: 256, idleMs: 60_000, dialTimeoutMs: this.#options.deliveryTimeoutMs });
    this.#pool = pool;
    this.#batcher = new DeliveryBatcher((address) => pool.get(address, ERROR_ID), {
      maxEvents: BATCH_MAX_EVENTS,
      maxBytes: BATCH_MAX_BYTES,
      maxMessageSize: this.#deps.transport.maxMessageSize,
      timeoutMs: this.#options.deliveryTimeoutMs,
      errorId: ERROR_ID,
    });
    this.#heartbeat = setInterval(() => void this.#renewAll(), this.#options.registerIntervalMs);
    this.#heartbeat.unref();
  }

  /** Only a process that subscribes needs a listener; a pure publisher opens no port. */
  #listen(): Promise<Listener> {
    this.#listening ??= this.#deps.transport.listen(this.#options.address).then(
      (listener) => {
        listener.accept((socket) => this.#serve(socket));
        this.#listener = listener;
        return listener;
      },
      (error: unknown) => {
        this.#listening = undefined;
        throw error;
      },
    );
    return this.#listening;
  }

  async disconnect(): Promise<void> {
    if (!this.#connecting) return;
    await this.#connecting.catch(() => undefined);
    this.#connecting = undefined;
    // Events published just before disconnect go out now; their replies can arrive while the rest shuts down.
    this.#batcher?.flush();
    clearInterval(this.#heartbeat);
    await Promise.all([...this.#own.values()].map((subscription) => this.#remove(subscription)));
    await this.#listener?.close();
    this.#listener = undefined;
    this.#listening = undefined;
    await this.#dispatcher.drain(this.#options.drainTimeoutMs);
    await Promise.all([...this.#sockets].map((socket) => socket.close()));
    await this.#pool?.close();
  }

  async subscribe(topic: string, handler: EventHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    await this.connect();
    await this.#listen();
    const local = this.#table.add(topic, handler, options);
    this.#own.set(local.id, local);
    try {
      await this.#deps.registry.registry.register(this.#entry(local), { ttlMs: this.#options.registerTtlMs });
    } catch (error) {
      this.#table.remove(local);
      this.#own.delete(local.id);
      throw error;
    }
    return { topic, options: local.options, unsubscribe: () => this.#remove(local) };
  }

  async publish(topic: string, message: Message, _options?: PublishOptions): Promise<void> {
    // Connected already (the usual case): no await, which would cost a turn of the microtask queue per event.
    if (this.#connecting === undefined || this.#pool === undefined) await this.connect();
    const name = BROKER_SERVICE_PREFIX + topic;
    const registry = this.#deps.registry;
    if (await this.#publishTo(topic, message, registry.cached(name) ?? (await registry.getService(name)))) return;
    // Every target failed: the cached entries may be stale (a subscriber just left). Look again, once.
    registry.invalidate(name);
    const services = await registry.getService(name);
    if (await this.#publishTo(topic, message, services)) return;
    throw MicroError.unavailable(ERROR_ID, `no subscriber of "${topic}" could be reached (${countTargets(services)} tried)`);
  }

  /** True when some target accepted the event, or there was none; false when every target failed. */
  #publishTo(topic: string, message: Message, services: readonly Service[]): Promise<boolean> | boolean {
    const { broadcast, groups } = subscriberTargets(services);
    const total = broadcast.length + groups.size;
    if (total === 0) return true;
    // One target (the usual case): its delivery is the answer, without a Promise.all around it.
    if (total === 1 && broadcast.length === 1) return this.#deliverToOne(topic, message, broadcast, 0, 0);
    const deliveries: Promise<boolean>[] = broadcast.map((node) => this.#deliverToOne(topic, message, [node], 0, 0));
    for (const [queue, members] of groups) deliveries.push(this.#deliverToOne(topic, message, members, this.#turn(topic, queue, members.length), 0));
    if (deliveries.length === 1) return deliveries[0]!;
    return Promise.all(deliveries).then((outcomes) => outcomes.includes(true));
  }

  #entry(local: LocalSubscription): Service {
    return {
      name: BROKER_SERVICE_PREFIX + local.topic,
      version: 'direct',
      metadata: {},
      endpoints: [],
      nodes: [{ id: `${this.#id}-${local.id}`, address: this.#listener!.address, metadata: { topic: local.topic, queue: local.options.queue ?? '', subscriber: String(local.id), broker: 'direct', [BATCH_METADATA]: BATCH_VERSION } }],
    };
  }

  async #remove(local: LocalSubscription): Promise<void> {
    if (!this.#own.delete(local.id)) return;
    this.#table.remove(local);
    await this.#deps.registry.registry.deregister(this.#entry(local)).catch((error: Error) =>
      this.#deps.logger.warn('broker: deregistering a subscription failed; it expires with its TTL', { topic: local.topic, error: error.message }),
    );
  }

  async #renewAll(): Promise<void> {
    for (const local of this.#own.values()) {
      await this.#deps.registry.registry.register(this.#entry(local), { ttlMs: this.#options.registerTtlMs }).catch((error: Error) =>
        this.#deps.logger.warn('broker: renewing a subscription failed', { topic: local.topic, error: error.message }),
      );
    }
  }

  /** Where this publisher starts in a queue group's member list for its next event, so groups share the load. */
  #turn(topic: string, queue: string, members: number): number {
    const key = `${topic}\u0000${queue}`;
    const turn = this.#turns.get(key) ?? Math.floor(Math.random() * members);
    this.#turns.set(key, turn + 1);
    return turn % members;
  }

  /** Tries the candidates in order from `start` (wrapping round) until one accepts; false when none did. */
  #deliverToOne(topic: string, message: Message, candidates: readonly Node[], start: number, tried: number): Promise<boolean> {
    const node = candidates[(start + tried) % candidates.length]!;
    return this.#deliver(topic, message, node).then(accepted, (error: unknown) => {
      if (MicroError.is(error) && error.code === 413) throw error;
      this.#deps.logger.warn('broker: delivery failed', { topic, node: node.id, address: node.address, error: (error as Error).message });
      return tried + 1 < candidates.length ? this.#deliverToOne(topic, message, candidates, start, tried + 1) : false;
    });
  }

  /** One event to one subscription: in a batch where its process takes them, else as a request of its own. */
  #deliver(topic: string, message: Message, node: Node): Promise<unknown> {
    const subscriber = batchSubscriber(node);
    if (subscriber === undefined) return this.#deliverSingle(topic, message, node);
    let item: BatchItem;
    try {
      item = new BatchItem(subscriber, topic, message);
    } catch (error) {
      return Promise.reject(MicroError.tooLarge(ERROR_ID, (error as Error).message));
    }
    return this.#batcher!.deliver(node.address, item);
  }

  /** A subscriber process that does not advertise batches (an older tsmicro): one request per event. */
  async #deliverSingle(topic: string, message: Message, node: Node): Promise<void> {
    const headers = { ...message.headers, [Headers.topic]: topic, [Headers.subscriber]: node.metadata.subscriber ?? '' };
    const channel = await this.#pool!.get(node.address, ERROR_ID);
    await channel.request({ headers, body: message.body }, this.#options.deliveryTimeoutMs, ERROR_ID, `delivery of "${topic}" to ${node.address}`);
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket);
    socket.receive({
      message: (message) => this.#accept(socket, message),
      close: () => this.#sockets.delete(socket),
    });
  }

  /** Accepts an event for a local subscription and answers at once; the handler runs afterwards. */
  #accept(socket: Socket, message: Message): void {
    const batch = message.headers[BATCH_HEADER];
    if (batch !== undefined) {
      this.#acceptBatch(socket, message, batch);
      return;
    }
    const id = message.headers[Headers.id] ?? '';
    const topic = message.headers[Headers.topic] ?? '';
    const local = this.#own.get(Number(message.headers[Headers.subscriber]));
    const reply: Record<string, string> = { [Headers.id]: id };
    if (!local || local.topic !== topic) {
      // A stale registry entry: the publisher will try another member of the group.
      reply[Headers.error] = staleSubscription(topic).toWire();
    } else {
      // Copied without the delivery's own headers; `delete` would turn the object into a slow dictionary.
      const headers: Record<string, string> = {};
      for (const key in message.headers) if (key !== Headers.id && key !== Headers.subscriber) headers[key] = message.headers[key]!;
      this.#dispatcher.dispatch(local, topic, { headers, body: message.body });
    }
    this.#reply(socket, { headers: reply, body: EMPTY });
  }

  /**
   * Accepts a batch: every event for a subscription this process still has is queued for its handler, and one
   * reply names the events that were refused (stale subscriptions), so only their publishes fail. A batch that
   * does not decode is refused whole, before any of its events runs.
   */
  #acceptBatch(socket: Socket, message: Message, count: string): void {
    const id = message.headers[Headers.id] ?? '';
    const size = Number(count);
    let items;
    try {
      if (!Number.isSafeInteger(size) || size < 1) throw new Error(`malformed event batch: count "${count}"`);
      const body = message.body;
      items = decodeBatch(Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.length), size);
    } catch (error) {
      this.#reply(socket, { headers: { [Headers.id]: id, [Headers.error]: MicroError.badRequest(ERROR_ID, (error as Error).message).toWire() }, body: EMPTY });
      return;
    }
    const failures: [number, string][] = [];
    for (let index = 0; index < items.length; index++) {
      const item = items[index]!;
      const local = this.#own.get(item.subscriber);
      if (local && local.topic === item.topic) this.#dispatcher.dispatch(local, item.topic, item.message);
      else failures.push([index, staleSubscription(item.topic).toWire()]);
    }
    this.#reply(socket, { headers: { [Headers.id]: id }, body: encodeBatchReply(failures) });
  }

  #reply(socket: Socket, reply: Message): void {
    try {
      socket.send(reply);
    } catch {
      // The publisher has gone; it will report the delivery as failed.
    }
  }
}

const EMPTY = new Uint8Array(0);

/** A stale registry entry: the publisher tries another member of the group, or reports the event undelivered. */
function staleSubscription(topic: string): MicroError {
  return MicroError.notFound(ERROR_ID, `no subscription for "${topic}" here any more`);
}
