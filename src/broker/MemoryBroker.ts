import type { Logger } from '../logger/Logger.js';
import { silentLogger } from '../logger/PinoLogger.js';
import type { Message } from '../transport/Transport.js';
import type { Broker, EventHandler, PublishOptions, SubscribeOptions, Subscription } from './Broker.js';
import { LocalDispatcher } from './LocalDispatcher.js';
import { SubscriberTable, type LocalSubscription } from './SubscriberTable.js';

export interface MemoryBrokerOptions {
  /** Deliveries of one event before a nacked event is dropped (logged as an error). */
  maxAttempts?: number;
  /** Wait before a nacked event is delivered again; grows with each attempt. */
  redeliveryDelayMs?: number;
  logger?: Logger;
}

/**
 * A broker within one process: single-process use and the test fake. Brokers built on one table see each
 * other's subscriptions. A nacked event is redelivered (to another member of its queue group when there is one)
 * up to `maxAttempts` times. Nothing survives the process.
 */
export class MemoryBroker implements Broker {
  readonly name = 'memory';
  readonly #table: SubscriberTable;
  readonly #own = new Set<LocalSubscription>();
  readonly #dispatcher: LocalDispatcher;
  #connected = false;

  constructor(table: SubscriberTable = new SubscriberTable(), options: MemoryBrokerOptions = {}) {
    this.#table = table;
    const logger = options.logger ?? silentLogger;
    this.#dispatcher = new LocalDispatcher(table, { maxAttempts: options.maxAttempts ?? 5, redeliveryDelayMs: options.redeliveryDelayMs ?? 25 }, logger);
  }

  async connect(): Promise<void> {
    this.#connected = true;
  }

  async disconnect(): Promise<void> {
    for (const subscription of [...this.#own]) this.#table.remove(subscription);
    this.#own.clear();
    this.#connected = false;
  }

  async publish(topic: string, message: Message, _options?: PublishOptions): Promise<void> {
    if (!this.#connected) throw new Error(`memory broker: publish to "${topic}" before connect()`);
    const copy: Message = { headers: { ...message.headers }, body: message.body };
    for (const target of this.#table.targets(topic)) this.#dispatcher.dispatch(target, topic, copy);
  }

  async subscribe(topic: string, handler: EventHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    if (!this.#connected) throw new Error(`memory broker: subscribe to "${topic}" before connect()`);
    const local = this.#table.add(topic, handler, options);
    this.#own.add(local);
    return {
      topic,
      options: local.options,
      unsubscribe: async () => {
        this.#table.remove(local);
        this.#own.delete(local);
      },
    };
  }
}
