import type { Logger } from '../logger/Logger.js';
import type { Message } from '../transport/Transport.js';
import { DeliveredEvent, runHandler, type Settlement } from './delivery.js';
import type { LocalSubscription, SubscriberTable } from './SubscriberTable.js';

export interface DispatchOptions {
  /** Deliveries of one event before a nacked event is dropped (logged as an error). */
  maxAttempts: number;
  /** Wait before a nacked event is delivered again, multiplied by the attempt number. */
  redeliveryDelayMs: number;
}

/**
 * Runs in-process handlers for events that have reached this process, with redelivery of nacked events (to
 * another member of the queue group when there is one) and a count of handlers still running, so a broker can
 * drain before it disconnects.
 */
export class LocalDispatcher {
  #running = 0;
  #idle: (() => void)[] = [];
  #queue: { target: LocalSubscription; topic: string; message: Message; attempt: number }[] = [];

  constructor(
    private readonly table: SubscriberTable,
    private readonly options: DispatchOptions,
    private readonly logger: Logger,
  ) {}

  get running(): number {
    return this.#running;
  }

  dispatch(target: LocalSubscription, topic: string, message: Message, attempt = 1, delayMs = 0): void {
    if (delayMs > 0) {
      setTimeout(() => this.#run(target, topic, message, attempt), delayMs).unref();
      return;
    }
    // Handlers run on a later turn (after the delivery is acknowledged), all those of one turn from one
    // setImmediate: a burst of events costs one timer, not one each.
    this.#queue.push({ target, topic, message, attempt });
    if (this.#queue.length === 1) setImmediate(this.#drainQueue);
  }

  readonly #drainQueue = (): void => {
    const queued = this.#queue;
    this.#queue = [];
    for (const { target, topic, message, attempt } of queued) this.#run(target, topic, message, attempt);
  };

  /** Resolves when no handler is running, or after `timeoutMs`, whichever comes first. */
  drain(timeoutMs: number): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.#idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #run(target: LocalSubscription, topic: string, message: Message, attempt: number): void {
    // A redelivery whose subscriber has left goes to another member of its group, if any remain.
    const subscriber = target.active ? target : this.table.replacement(target);
    if (!subscriber) return;
    const event = new DeliveredEvent(topic, message, attempt, (settlement) => this.#settled(settlement, subscriber, topic, message, attempt));
    this.#running++;
    void runHandler(subscriber.handler, event, subscriber.options.ack ?? 'on-success', (error) =>
      this.logger.warn('broker: subscriber failed', { topic, attempt, error: (error as Error)?.message ?? String(error) }),
    ).then(this.#finished, this.#finished);
  }

  /** One shared callback (not a closure and a `finally` per event): runHandler never rejects, but either way counts. */
  readonly #finished = (): void => {
    if (--this.#running === 0) for (const wake of this.#idle.splice(0)) wake();
  };

  #settled(settlement: Settlement, subscriber: LocalSubscription, topic: string, message: Message, attempt: number): void {
    if (settlement !== 'requeue') return;
    if (attempt >= this.options.maxAttempts) {
      this.logger.error('broker: dropping event after its last attempt', { topic, attempts: attempt, queue: subscriber.options.queue });
      return;
    }
    const next = subscriber.options.queue ? (this.table.next(subscriber) ?? subscriber) : subscriber;
    this.dispatch(next, topic, message, attempt + 1, this.options.redeliveryDelayMs * attempt);
  }
}
