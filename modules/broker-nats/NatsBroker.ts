import type { Broker, EventHandler, Logger, Message, PublishOptions, SubscribeOptions, Subscription } from '../../src/index.js';
import { CoreEngine } from './CoreEngine.js';
import type { DeliveryEngine } from './eventWire.js';
import { JetStreamEngine, type JetStreamModule, type JetStreamSettings } from './jetstream/JetStreamEngine.js';
import type { NatsConnector, NatsModule } from '../shared/nats/natsConnection.js';
import { DEFAULT_JETSTREAM_PREFIX, Subjects } from './subjects.js';

export interface NatsBrokerOptions extends JetStreamSettings {
  nats: NatsModule;
  /** Needed in JetStream mode only. */
  jetstream?: JetStreamModule;
  connector: NatsConnector;
  logger: Logger;
  /** JetStream (stored, at least once) instead of core NATS (at most once). */
  useJetStream: boolean;
  /** Prepended to topics; JetStream mode uses DEFAULT_JETSTREAM_PREFIX when empty. */
  subjectPrefix: string;
  /** Core mode: publish events as binary frames (default) or with NATS headers; both are read either way. */
  wire?: 'frame' | 'headers';
  /** How long disconnect waits for running handlers. */
  drainTimeoutMs: number;
}

/**
 * `broker: nats`. Core NATS by default (at most once, like go-micro's NATS broker); JetStream with
 * `jetstream: true` (stored before publish resolves, at least once). Both keep the contract's semantics:
 * broadcast without a queue, one member per queue group, ack modes through runHandler.
 */
export class NatsBroker implements Broker {
  readonly name = 'nats';
  readonly #options: NatsBrokerOptions;
  readonly #subjects: Subjects;
  #engine: Promise<DeliveryEngine> | undefined;
  /** The engine once connected, so a publish does not wait a turn for a promise already settled. */
  #ready: DeliveryEngine | undefined;

  constructor(options: NatsBrokerOptions) {
    if (options.useJetStream && !options.jetstream) throw new Error('nats broker: JetStream mode needs the @nats-io/jetstream package');
    this.#options = options;
    this.#subjects = new Subjects(options.subjectPrefix || (options.useJetStream ? DEFAULT_JETSTREAM_PREFIX : ''));
  }

  get mode(): 'core' | 'jetstream' {
    return this.#options.useJetStream ? 'jetstream' : 'core';
  }

  async connect(): Promise<void> {
    await this.#connect();
  }

  async disconnect(): Promise<void> {
    const engine = this.#engine;
    if (!engine) return;
    this.#engine = undefined;
    this.#ready = undefined;
    const ready = await engine.catch(() => undefined);
    await ready?.close(this.#options.drainTimeoutMs);
    await this.#options.connector.release();
  }

  publish(topic: string, message: Message, _options?: PublishOptions): Promise<void> {
    // Engines' publish never throws, it rejects: no async wrapper (and its extra turn) needed.
    const ready = this.#ready;
    return ready ? ready.publish(topic, message) : this.#connect().then((engine) => engine.publish(topic, message));
  }

  async subscribe(topic: string, handler: EventHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    return (await this.#connect()).subscribe(topic, handler, options);
  }

  #connect(): Promise<DeliveryEngine> {
    if (this.#engine) return this.#engine;
    const engine = this.#start().then(
      (started) => {
        // Only if no disconnect came in between.
        if (this.#engine === engine) this.#ready = started;
        return started;
      },
      async (error: unknown) => {
        if (this.#engine === engine) this.#engine = undefined;
        await this.#options.connector.release();
        throw error;
      },
    );
    this.#engine = engine;
    return engine;
  }

  async #start(): Promise<DeliveryEngine> {
    const link = await this.#options.connector.acquire();
    if (!this.#options.useJetStream) return new CoreEngine({ ...this.#options, wire: this.#options.wire ?? 'frame', link, subjects: this.#subjects });
    return JetStreamEngine.create({ ...this.#options, jetstream: this.#options.jetstream!, link, subjects: this.#subjects });
  }
}
