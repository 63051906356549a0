import type { BrokerEvent } from '../broker/Broker.js';
import type { Metadata } from '../context/Context.js';
import { metadataFromHeaders } from './callContext.js';
import type { EventContext } from './Server.js';

/** The context a subscriber method runs in: no deadline (events wait for nobody), and the event's settlement. */
export class EventCallContext implements EventContext {
  readonly deadline = Infinity;
  #signal: AbortSignal | undefined;
  #metadata: Readonly<Metadata> | undefined;

  constructor(
    readonly service: string,
    readonly topic: string,
    private readonly event: BrokerEvent,
  ) {}

  /** Taken from the event's headers when first read: most subscribers never look. */
  get metadata(): Readonly<Metadata> {
    this.#metadata ??= metadataFromHeaders(this.event.message.headers);
    return this.#metadata;
  }

  get endpoint(): string {
    return this.topic;
  }

  /** The publisher's id for the event (`micro-event-id`), for dropping duplicates under at-least-once delivery. */
  get eventId(): string | undefined {
    return this.event.message.headers['micro-event-id'];
  }

  get attempt(): number {
    return this.event.attempt;
  }

  get signal(): AbortSignal {
    this.#signal ??= new AbortController().signal;
    return this.#signal;
  }

  ack(): Promise<void> {
    return this.event.ack();
  }

  nack(options?: { requeue?: boolean }): Promise<void> {
    return this.event.nack(options);
  }
}
