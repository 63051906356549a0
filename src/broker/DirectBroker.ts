import { randomUUID } from 'node:crypto';
import { MicroError } from '../errors.js';
import type { Logger } from '../logger/Logger.js';
import type { RegistryCache } from '../registry/cache/RegistryCache.js';
import type { Node, Service } from '../registry/Registry.js';
import { ConnectionPool } from '../transport/ConnectionPool.js';
import { Headers } from '../transport/headers.js';
import type { Listener, Message, Socket, Transport } from '../transport/Transport.js';
import type { Broker, EventHandler, PublishOptions, SubscribeOptions, Subscription } from './Broker.js';
import { subscriberTargets } from './directTargets.js';
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
/** Subscriptions are registry services named `tsmicro.broker.<topic>`; one node per subscription. */
export const BROKER_SERVICE_PREFIX = 'tsmicro.broker.';

/**
 * The zero-dependency default broker. Each subscription is advertised in the registry; a publisher looks the
 * topic up and sends the event over the transport to every broadcast subscriber and to one member of each queue
 * group, trying another member when one cannot be reached. Publish resolves when each target process has
 * accepted the event; the subscriber's process then runs the handler under its ack mode and redelivers a nacked
 * event locally. Events live in memory only: one accepted by a process that then dies is lost.
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
    this.#pool = new ConnectionPool(this.#deps.transport, { size: 2, streamsPerConnection: 256, idleMs: 60_000, dialTimeoutMs: this.#options.deliveryTimeoutMs });
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
    const tried = await this.#publishTo(topic, message, await this.#deps.registry.getService(name));
    if (tried.delivered || tried.targets === 0) return;
    // Every target failed: the cached entries may be stale (a subscriber just left). Look again, once.
    this.#deps.registry.invalidate(name);
    const retried = await this.#publishTo(topic, message, await this.#deps.registry.getService(name));
    if (retried.delivered || retried.targets === 0) return;
    throw MicroError.unavailable(ERROR_ID, `no subscriber of "${topic}" could be reached (${retried.targets} tried)`);
  }

  async #publishTo(topic: string, message: Message, services: readonly Service[]): Promise<{ targets: number; delivered: boolean }> {
    const { broadcast, groups } = subscriberTargets(services);
    const deliveries: Promise<boolean>[] = broadcast.map((node) => this.#deliverToOne(topic, message, [node]));
    for (const [queue, members] of groups) deliveries.push(this.#deliverToOne(topic, message, this.#rotate(topic, queue, members)));
    const outcomes = await Promise.all(deliveries);
    return { targets: outcomes.length, delivered: outcomes.some(Boolean) };
  }

  #entry(local: LocalSubscription): Service {
    return {
      name: BROKER_SERVICE_PREFIX + local.topic,
      version: 'direct',
      metadata: {},
      endpoints: [],
      nodes: [{ id: `${this.#id}-${local.id}`, address: this.#listener!.address, metadata: { topic: local.topic, queue: local.options.queue ?? '', subscriber: String(local.id), broker: 'direct' } }],
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

  /** Members of a queue group starting from this publisher's next turn, so groups share the load. */
  #rotate(topic: string, queue: string, members: Node[]): Node[] {
    const key = `${topic}\u0000${queue}`;
    const turn = this.#turns.get(key) ?? Math.floor(Math.random() * members.length);
    this.#turns.set(key, turn + 1);
    const start = turn % members.length;
    return [...members.slice(start), ...members.slice(0, start)];
  }

  /** Tries the candidates in order until one accepts; false when none did. */
  async #deliverToOne(topic: string, message: Message, candidates: Node[]): Promise<boolean> {
    for (const node of candidates) {
      const headers = { ...message.headers, [Headers.topic]: topic, [Headers.subscriber]: node.metadata.subscriber ?? '' };
      try {
        const channel = await this.#pool!.get(node.address, ERROR_ID);
        await channel.request({ headers, body: message.body }, this.#options.deliveryTimeoutMs, ERROR_ID, `delivery of "${topic}" to ${node.address}`);
        return true;
      } catch (error) {
        if (MicroError.is(error) && error.code === 413) throw error;
        this.#deps.logger.warn('broker: delivery failed', { topic, node: node.id, address: node.address, error: (error as Error).message });
      }
    }
    return false;
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
    const id = message.headers[Headers.id] ?? '';
    const topic = message.headers[Headers.topic] ?? '';
    const local = this.#own.get(Number(message.headers[Headers.subscriber]));
    const reply: Record<string, string> = { [Headers.id]: id };
    if (!local || local.topic !== topic) {
      // A stale registry entry: the publisher will try another member of the group.
      reply[Headers.error] = MicroError.notFound(ERROR_ID, `no subscription for "${topic}" here any more`).toWire();
    } else {
      // Copied without the delivery's own headers; `delete` would turn the object into a slow dictionary.
      const headers: Record<string, string> = {};
      for (const key in message.headers) if (key !== Headers.id && key !== Headers.subscriber) headers[key] = message.headers[key]!;
      this.#dispatcher.dispatch(local, topic, { headers, body: message.body });
    }
    try {
      socket.send({ headers: reply, body: new Uint8Array(0) });
    } catch {
      // The publisher has gone; it will report the delivery as failed.
    }
  }
}
