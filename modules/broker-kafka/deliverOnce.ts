import type { AckMode, EventHandler, Message } from '../../src/index.js';
import { DeliveredEvent, runHandler, type Settlement } from '../../src/broker/delivery.js';

/** What one delivery of an event came to. */
export interface Delivery {
  /** How the handler settled it while it ran; undefined when a manual handler returned without settling. */
  settlement: Settlement | undefined;
  /** The last error the handler threw, for the dead-letter reason. */
  error: string | undefined;
}

export interface DeliverOnceOptions {
  topic: string;
  handler: EventHandler;
  ackMode: AckMode;
  /** An ack, whenever it comes: the event is done. Its promise delays ack()'s (on-receipt waits for the commit). */
  onAck: () => void | Promise<void>;
  /** Called for a nack that comes after the handler returned (manual mode only). */
  onLateSettlement: (settlement: Settlement) => void;
  onHandlerError: (error: unknown) => void;
}

/**
 * Runs the handler once, through the core's runHandler so the ack modes mean what they mean on every broker, and
 * reports how it settled. An ack takes effect at once (the offset may be committed while the handler still runs,
 * which is what on-receipt means); a nack is acted on when the handler has returned, by the lane.
 */
export async function deliverOnce(message: Message, attempt: number, options: DeliverOnceOptions): Promise<Delivery> {
  const delivery: Delivery = { settlement: undefined, error: undefined };
  let returned = false;
  const event = new DeliveredEvent(options.topic, message, attempt, (settlement) => {
    if (!returned) delivery.settlement = settlement;
    if (settlement === 'ack') return options.onAck();
    if (returned) options.onLateSettlement(settlement);
  });
  await runHandler(options.handler, event, options.ackMode, (error) => {
    delivery.error = error instanceof Error ? error.message : String(error);
    options.onHandlerError(error);
  });
  returned = true;
  return delivery;
}
