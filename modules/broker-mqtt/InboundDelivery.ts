import type { AckMode, EventHandler, Logger, Message } from '../../src/index.js';
import { DeliveredEvent, runHandler, type Settlement } from '../../src/broker/delivery.js';

/** PUBACK reason codes (MQTT v5 §3.4.2.1). */
export const PUBACK_SUCCESS = 0x00;
/** "The receiver does not accept the publication": the broker discards the event, as for a success. */
export const PUBACK_REJECTED = 0x83;

export interface DeliveryPolicy {
  ack: AckMode;
  /** Handler runs of one event in this process (counting a broker redelivery as the second) before it is dropped. */
  maxAttempts: number;
  /** Wait before running a nacked event again, times the attempt number. */
  redeliveryDelayMs: number;
  /** Longest time one event may hold its subscription before it is given up (all local attempts included). */
  ackTimeoutMs: number;
}

/**
 * One received event, run through `runHandler` (so ack modes mean what they mean on every broker) until it is
 * settled; then `release` is called once with the PUBACK reason code to send.
 *
 * MQTT cannot hand a message back to the broker on a live connection: a PUBACK with any reason code completes
 * it, and the broker only resends an unacknowledged message when a persistent session reconnects. So a nack
 * with requeue is honoured here, in the receiving process: the handler runs again, with `attempt` + 1, after a
 * delay, while the PUBACK is withheld (a crash meanwhile leaves the event unacknowledged in the broker). After
 * `maxAttempts`, or when `ackTimeoutMs` is spent, the event is dropped with PUBACK 0x83 and an error log: MQTT
 * has no dead-letter queue.
 */
export class InboundDelivery {
  readonly #deadline: number;

  constructor(
    private readonly topic: string,
    private readonly message: Message,
    private readonly firstAttempt: number,
    private readonly handler: EventHandler,
    private readonly policy: DeliveryPolicy,
    private readonly logger: Logger,
    /** Handler runs still going (an on-receipt handler, or one that outlived its ack timeout), for draining. */
    private readonly running: Set<Promise<void>>,
  ) {
    this.#deadline = Date.now() + policy.ackTimeoutMs;
  }

  /** Resolves with the PUBACK reason code once the event is settled or given up. */
  async run(): Promise<number> {
    for (let attempt = this.firstAttempt; ; attempt++) {
      const outcome = await this.#attempt(attempt);
      if (outcome === 'ack') return PUBACK_SUCCESS;
      // The subscriber (or the server's decoding/validation) already logged why it refused the event.
      if (outcome === 'drop') return PUBACK_REJECTED;
      const delay = this.policy.redeliveryDelayMs * (attempt - this.firstAttempt + 1);
      const why = outcome === 'timeout' ? `not settled within the ack timeout (${this.policy.ackTimeoutMs} ms)` : `nacked on attempt ${attempt} of ${this.policy.maxAttempts}`;
      if (outcome === 'timeout' || attempt >= this.policy.maxAttempts || Date.now() + delay >= this.#deadline) {
        this.logger.error('mqtt broker: dropping event', { topic: this.topic, eventId: this.message.headers['micro-event-id'], attempts: attempt, reason: why });
        return PUBACK_REJECTED;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  #attempt(attempt: number): Promise<Settlement | 'timeout'> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), Math.max(0, this.#deadline - Date.now()));
      const event = new DeliveredEvent(this.topic, this.message, attempt, (settlement) => {
        clearTimeout(timer);
        resolve(settlement);
      });
      const run = runHandler(this.handler, event, this.policy.ack, (error) =>
        this.logger.warn('broker: subscriber failed', { topic: this.topic, attempt, error: (error as Error)?.message ?? String(error) }),
      ).finally(() => this.running.delete(run));
      this.running.add(run);
    });
  }
}
