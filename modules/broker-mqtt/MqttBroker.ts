import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { MicroError, type Broker, type EventHandler, type Logger, type Message, type PublishOptions, type SubscribeOptions, type Subscription } from '../../src/index.js';
import { ACK_MODES } from '../../src/broker/Broker.js';
import { clientOptions, closeClient, openClient, parseAddress, watchConnection, type MqttModule } from './connection.js';
import { publishOptions } from './messages.js';
import { MqttSubscription } from './MqttSubscription.js';
import { checkTopicPrefix, mqttTopic, sessionClientId, subscriptionFilter } from './topics.js';

export interface MqttBrokerOptions {
  /** `host:port` or `mqtt[s]://host:port`, tried in turn; defaults to 127.0.0.1:1883. */
  addresses: readonly string[];
  /** Put before every topic: `tsmicro/` turns topic `orders.placed` into MQTT topic `tsmicro/orders.placed`. */
  topicPrefix: string;
  /** Base of the client ids. Empty: random ids and clean sessions. Set: persistent sessions (durable subscriptions). */
  clientId: string;
  /** How long the broker keeps a persistent session (and queues its events) after its connection ends. */
  sessionExpiryMs: number;
  keepaliveMs: number;
  connectTimeoutMs: number;
  /** How long a publish waits for the broker's PUBACK, reconnection included, before it fails. */
  publishTimeoutMs: number;
  ackTimeoutMs: number;
  maxAttempts: number;
  redeliveryDelayMs: number;
  /** How long unsubscribe/disconnect wait for handlers in progress. */
  drainTimeoutMs: number;
  username: string;
  password: string;
}

export const MQTT_DEFAULT_ADDRESS = '127.0.0.1:1883';
const ERROR_ID = 'tsmicro.broker';

/**
 * Broker `mqtt`: MQTT v5 through MQTT.js. Events are QoS 1 publishes (publish resolves on the broker's PUBACK),
 * headers travel as user properties; a subscription without a queue subscribes to the topic, a queue group uses a
 * shared subscription `$share/<queue>/<topic>` so the broker gives each event to one member. One connection
 * publishes; each subscription has its own (see MqttSubscription for why). MQTT.js reconnects by itself;
 * subscriptions are re-established when the broker lost them. See README.md for ack, redelivery and durability.
 */
export class MqttBroker implements Broker {
  readonly name = 'mqtt';
  readonly #mqtt: MqttModule;
  readonly #options: MqttBrokerOptions;
  readonly #logger: Logger;
  readonly #subscriptions = new Set<MqttSubscription>();
  /** Per filter, the occurrence numbers in use: part of a persistent session's client id (see sessionClientId). */
  readonly #occurrences = new Map<string, Set<number>>();
  #connecting: Promise<MqttClient> | undefined;
  /** Publishes awaiting their PUBACK, so disconnect() can fail what is still pending instead of leaving it hanging. */
  readonly #pending = new Set<(error: Error) => void>();

  constructor(mqtt: MqttModule, options: MqttBrokerOptions, logger: Logger) {
    checkTopicPrefix(options.topicPrefix);
    // While an event awaits its ack, MQTT.js processes no packet of that connection, PINGRESP included; a wait
    // longer than half the keepalive could make MQTT.js give the connection up as dead.
    if (options.ackTimeoutMs * 2 > options.keepaliveMs) {
      throw new RangeError(`mqtt broker: ackTimeout (${options.ackTimeoutMs} ms) must be at most half the keepalive (${options.keepaliveMs} ms); raise keepalive to allow slower handlers`);
    }
    this.#mqtt = mqtt;
    this.#options = { ...options, addresses: options.addresses.length > 0 ? options.addresses : [MQTT_DEFAULT_ADDRESS] };
    // A malformed address is a config error: say so when the app is built, not at the first publish.
    for (const address of this.#options.addresses) parseAddress(address);
    this.#logger = logger;
  }

  get persistent(): boolean {
    return this.#options.clientId !== '';
  }

  async connect(): Promise<void> {
    await this.#publisherClient();
  }

  #publisherClient(): Promise<MqttClient> {
    this.#connecting ??= this.#openPublisher().catch((error: unknown) => {
      this.#connecting = undefined;
      throw error;
    });
    return this.#connecting;
  }

  async #openPublisher(): Promise<MqttClient> {
    // The publisher never needs a persistent session: unacknowledged publishes live in MQTT.js's memory and are
    // resent after a reconnect, and nothing is ever delivered to it.
    const clientId = this.persistent ? `${this.#options.clientId}-pub` : `tsmicro-${randomUUID()}`;
    const { client } = await openClient(this.#mqtt, clientOptions(this.#options, { clientId, sessionExpirySeconds: 0 }), 'publisher', (client) =>
      watchConnection(client, this.#logger, { mqttClientId: clientId }),
    );
    return client;
  }

  async disconnect(): Promise<void> {
    const connecting = this.#connecting;
    this.#connecting = undefined;
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.unsubscribe()));
    const publisher = await connecting?.catch(() => undefined);
    // In-flight publishes get up to the drain timeout to be acknowledged; whatever is left then has failed.
    if (publisher) await closeClient(publisher, this.#options.drainTimeoutMs);
    for (const fail of [...this.#pending]) fail(MicroError.unavailable(ERROR_ID, 'mqtt broker: disconnected before the broker acknowledged the publish'));
  }

  async publish(topic: string, message: Message, _options?: PublishOptions): Promise<void> {
    const name = mqttTopic(this.#options.topicPrefix, topic);
    const client = await this.#publisherClient();
    await new Promise<void>((resolve, reject) => {
      const settle = (error?: Error): void => {
        if (!this.#pending.delete(settle)) return;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const acknowledged = (error?: Error): void => settle(error ? MicroError.unavailable(ERROR_ID, `mqtt broker: publish to "${topic}" failed: ${error.message}`) : undefined);
      const timer = setTimeout(() => {
        settle(MicroError.unavailable(ERROR_ID, `mqtt broker: publish to "${topic}" not acknowledged within ${this.#options.publishTimeoutMs} ms${client.connected ? '' : ' (not connected to the broker)'}`));
        this.#withdraw(client, acknowledged);
      }, this.#options.publishTimeoutMs);
      this.#pending.add(settle);
      client.publish(name, Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength), publishOptions(message), acknowledged);
    });
  }

  /**
   * Takes a timed-out publish out of MQTT.js's resend queue: the caller was told it failed, so it must not go out
   * after a reconnect. If it was already written to the broker, the broker may still deliver it (that is at least
   * once, never a silent loss).
   */
  #withdraw(client: MqttClient, callback: (error?: Error) => void): void {
    try {
      const queued = Object.entries(client.outgoing).find(([, entry]) => entry.cb === callback);
      if (queued) client.removeOutgoingMessage(Number(queued[0]));
    } catch (error) {
      // MQTT.js throws once its stores are closed (the client has ended): nothing is left to resend then.
      this.#logger.debug('mqtt broker: could not withdraw a timed-out publish', { error: (error as Error).message });
    }
  }

  async subscribe(topic: string, handler: EventHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    const ack = options.ack ?? 'on-success';
    if (!ACK_MODES.includes(ack)) throw new TypeError(`mqtt broker: unknown ack mode "${ack}"`);
    const filter = subscriptionFilter(this.#options.topicPrefix, topic, options.queue);
    await this.connect();
    const occurrence = this.#takeOccurrence(filter);
    const subscription = new MqttSubscription(
      this.#mqtt,
      this.#options,
      {
        topic,
        options: Object.freeze({ ...options }),
        mqttTopic: mqttTopic(this.#options.topicPrefix, topic),
        filter,
        clientId: this.persistent ? sessionClientId(this.#options.clientId, filter, occurrence) : `tsmicro-${randomUUID()}`,
        sessionExpirySeconds: this.persistent ? Math.max(1, Math.ceil(this.#options.sessionExpiryMs / 1000)) : 0,
        policy: { ack, maxAttempts: this.#options.maxAttempts, redeliveryDelayMs: this.#options.redeliveryDelayMs, ackTimeoutMs: this.#options.ackTimeoutMs },
        drainTimeoutMs: this.#options.drainTimeoutMs,
      },
      handler,
      this.#logger,
      (closed) => {
        this.#subscriptions.delete(closed);
        this.#occurrences.get(filter)?.delete(occurrence);
      },
    );
    try {
      await subscription.open();
    } catch (error) {
      this.#occurrences.get(filter)?.delete(occurrence);
      throw error;
    }
    this.#subscriptions.add(subscription);
    return subscription;
  }

  /**
   * The lowest occurrence number of `filter` not in use, so the n-th subscription to one filter gets the same
   * persistent session each time the process starts, and a re-subscription gets back the session it left.
   */
  #takeOccurrence(filter: string): number {
    const used = this.#occurrences.get(filter) ?? new Set<number>();
    this.#occurrences.set(filter, used);
    let occurrence = 0;
    while (used.has(occurrence)) occurrence++;
    used.add(occurrence);
    return occurrence;
  }
}
