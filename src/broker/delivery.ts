import type { AckMode, BrokerEvent, EventHandler } from './Broker.js';
import type { Message } from '../transport/Transport.js';

export type Settlement = 'ack' | 'requeue' | 'drop';

/**
 * A delivered event whose ack/nack is reported once to the broker through `settle`. Settling twice is a no-op,
 * so a handler that acks and then throws does not also nack.
 */
export class DeliveredEvent implements BrokerEvent {
  #settled: Settlement | undefined;

  constructor(
    readonly topic: string,
    readonly message: Message,
    readonly attempt: number,
    private readonly settle: (settlement: Settlement) => void | Promise<void>,
  ) {}

  get settled(): Settlement | undefined {
    return this.#settled;
  }

  ack(): Promise<void> {
    return this.#settle('ack');
  }

  nack(options: { requeue?: boolean } = {}): Promise<void> {
    return this.#settle(options.requeue === false ? 'drop' : 'requeue');
  }

  /** Not async: a broker whose settling is synchronous (the in-process ones) costs no promise per event. */
  #settle(settlement: Settlement): Promise<void> {
    if (this.#settled) return SETTLED;
    this.#settled = settlement;
    try {
      const done = this.settle(settlement);
      return isThenable(done) ? Promise.resolve(done) : SETTLED;
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }
}

const SETTLED: Promise<void> = Promise.resolve();

function isThenable(value: unknown): value is Promise<void> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}

/**
 * Runs a handler under an ack mode; every broker delivers through this, so the modes mean the same everywhere.
 * Handler errors go to `onError` (to be logged) and never escape: one bad event must not stop a subscription.
 */
export async function runHandler(handler: EventHandler, event: DeliveredEvent, mode: AckMode, onError: (error: unknown) => void): Promise<void> {
  try {
    if (mode === 'on-receipt') await event.ack();
    // A synchronous handler's result is not awaited: that would cost a turn of the microtask queue per event.
    const handled = handler(event);
    if (isThenable(handled)) await handled;
    if (mode === 'on-success') await event.ack();
  } catch (error) {
    onError(error);
    try {
      await event.nack({ requeue: true });
    } catch (settleError) {
      onError(settleError);
    }
  }
}
