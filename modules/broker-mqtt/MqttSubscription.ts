import type { IConnackPacket, IPublishPacket, MqttClient } from 'mqtt';
import type { EventHandler, Logger, SubscribeOptions, Subscription } from '../../src/index.js';
import { clientOptions, closeClient, openClient, watchConnection, type ConnectionSettings, type MqttModule } from './connection.js';
import { InboundDelivery, PUBACK_REJECTED, type DeliveryPolicy } from './InboundDelivery.js';
import { bodyOf, headersOf } from './messages.js';

export interface SubscriptionSpec {
  topic: string;
  options: Readonly<SubscribeOptions>;
  /** The MQTT topic name events arrive on, and the filter subscribed to (`$share/<queue>/…` for a queue). */
  mqttTopic: string;
  filter: string;
  clientId: string;
  /** 0: clean session; otherwise the persistent session's expiry in seconds. */
  sessionExpirySeconds: number;
  policy: DeliveryPolicy;
  drainTimeoutMs: number;
}

type PubackCallback = (error: Error | number, code?: number) => void;

/**
 * One subscription on a connection of its own. MQTT.js handles the packets of a connection one at a time and
 * MQTT requires PUBACKs in the order the messages arrived, so while an event awaits its ack nothing else arrives
 * on that connection: a connection per subscription keeps a slow handler from stalling the others, and keeps
 * a handler that publishes (and awaits its PUBACK on the publishing connection) from deadlocking.
 */
export class MqttSubscription implements Subscription {
  readonly topic: string;
  readonly options: Readonly<SubscribeOptions>;
  #client: MqttClient | undefined;
  /** Bumped when the connection drops: an ack for a message of an earlier connection must not be sent on a new one. */
  #generation = 0;
  #closing = false;
  #closed: Promise<void> | undefined;
  #resubscribeTimer: NodeJS.Timeout | undefined;
  /** Events holding the connection until they are settled (at most one for QoS 1), for draining. */
  readonly #held = new Set<Promise<unknown>>();
  readonly #running = new Set<Promise<void>>();
  readonly #logger: Logger;

  constructor(
    private readonly mqtt: MqttModule,
    private readonly settings: ConnectionSettings,
    private readonly spec: SubscriptionSpec,
    private readonly handler: EventHandler,
    logger: Logger,
    private readonly onClosed: (subscription: MqttSubscription) => void,
  ) {
    this.topic = spec.topic;
    this.options = spec.options;
    this.#logger = logger.child({ topic: spec.topic, queue: spec.options.queue, mqttClientId: spec.clientId });
  }

  /** Connects and subscribes; rejects when the broker cannot be reached or refuses the subscription. */
  async open(): Promise<void> {
    const options = clientOptions(this.settings, {
      clientId: this.spec.clientId,
      sessionExpirySeconds: this.spec.sessionExpirySeconds,
      customHandleAcks: (_topic, _payload, packet, callback) => this.#receive(packet as IPublishPacket, callback),
    });
    const { client } = await openClient(this.mqtt, options, `subscription to "${this.topic}"`, (client) => {
      watchConnection(client, this.#logger, {});
      // QoS 0 messages (a raw publisher may send them) have nothing to acknowledge and never reach customHandleAcks.
      client.on('message', (_topic, _payload, packet) => {
        if (packet.qos === 0) this.#deliver(packet, () => undefined);
      });
      client.on('close', () => this.#generation++);
    });
    this.#client = client;
    client.on('connect', (connack) => void this.#afterReconnect(connack));
    try {
      await this.#subscribe(client);
    } catch (error) {
      client.end(true);
      throw error;
    }
  }

  unsubscribe(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #subscribe(client: MqttClient): Promise<void> {
    const granted = await client.subscribeAsync(this.spec.filter, { qos: 1 });
    const code = granted[0]?.qos ?? 0x80;
    if (code >= 0x80) throw new Error(`mqtt broker: the broker refused the subscription to ${this.spec.filter} (reason code 0x${code.toString(16)})`);
  }

  /**
   * After a reconnect, the broker still has the subscription only if it kept the session. Otherwise (a clean
   * session, an expired one, a broker restarted without persistence) subscribe again, and keep trying while
   * the broker refuses: a subscription must not stay silently dead.
   */
  async #afterReconnect(connack: IConnackPacket): Promise<void> {
    clearTimeout(this.#resubscribeTimer);
    if (this.#closing || connack.sessionPresent || !this.#client) return;
    try {
      await this.#subscribe(this.#client);
      this.#logger.info('mqtt subscription restored after reconnect', { filter: this.spec.filter });
    } catch (error) {
      this.#logger.error('mqtt re-subscription failed; retrying', { filter: this.spec.filter, error: (error as Error).message });
      this.#resubscribeTimer = setTimeout(() => void this.#afterReconnect(connack), 2000);
      this.#resubscribeTimer.unref();
    }
  }

  #receive(packet: IPublishPacket, callback: PubackCallback): void {
    // Closing a persistent session: leave the message unacknowledged; the broker resends it when the session
    // is next connected. (A clean session has already unsubscribed, so little can still arrive.)
    if (this.#closing && this.spec.sessionExpirySeconds > 0) return;
    const generation = this.#generation;
    this.#deliver(packet, (code) => {
      if (generation === this.#generation) return callback(code);
      // Its packet id belongs to the old connection: a PUBACK now could acknowledge another message.
      const fate = this.spec.sessionExpirySeconds > 0 ? 'the broker sends it again on the resumed session' : 'a clean session lost it with the connection';
      this.#logger.warn(`mqtt connection dropped before the event was settled; ${fate}`, { eventId: packet.properties?.userProperties?.['micro-event-id'] });
    });
  }

  #deliver(packet: IPublishPacket, release: (code: number) => void): void {
    if (packet.topic !== this.spec.mqttTopic) {
      // Only possible with a session left over from something else; never hand it to this handler.
      this.#logger.warn('mqtt event on an unexpected topic dropped', { mqttTopic: packet.topic });
      release(PUBACK_REJECTED);
      return;
    }
    const message = { headers: headersOf(packet), body: bodyOf(packet.payload) };
    // A DUP publish is the broker resending an unacknowledged event (a persistent session reconnected).
    const delivery = new InboundDelivery(this.topic, message, packet.dup ? 2 : 1, this.handler, this.spec.policy, this.#logger, this.#running);
    const held = delivery.run().then(release, (error: Error) => {
      this.#logger.error('mqtt delivery failed', { error: error.message });
      release(PUBACK_REJECTED);
    });
    const tracked = held.finally(() => this.#held.delete(tracked));
    this.#held.add(tracked);
  }

  async #close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#resubscribeTimer);
    const client = this.#client;
    if (!client) return;
    // A clean session unsubscribes so nothing more arrives while draining. A persistent session keeps its
    // subscription: events published while this process is away wait in the broker (that is the point of it).
    if (this.spec.sessionExpirySeconds === 0 && client.connected) {
      await client.unsubscribeAsync(this.spec.filter).catch((error: Error) => this.#logger.debug('mqtt unsubscribe failed', { error: error.message }));
    }
    await this.#drain();
    await closeClient(client, this.spec.drainTimeoutMs);
    this.onClosed(this);
  }

  /** Waits for held events and running handlers, at most the drain timeout. */
  async #drain(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.spec.drainTimeoutMs)));
    const idle = (async () => {
      while (this.#held.size > 0 || this.#running.size > 0) await Promise.allSettled([...this.#held, ...this.#running]);
    })();
    await Promise.race([idle, timeout]);
    clearTimeout(timer);
  }
}
