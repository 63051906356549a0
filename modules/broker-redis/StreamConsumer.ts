import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { AckMode, EventHandler, Logger } from '../../src/index.js';
import { DeliveredEvent, runHandler, type Settlement } from '../../src/broker/delivery.js';
import { decodeStreamFields } from './envelope.js';
import type { RedisConnection } from '../shared/redis/redisConnection.js';
import { StreamSettler } from './StreamSettler.js';
import { autoClaimReply, deliveryCount, readGroupEntries, type StreamEntry } from './streamReplies.js';

export type StartFrom = 'new' | 'beginning';
export const START_FROM: readonly StartFrom[] = ['new', 'beginning'];

export interface StreamConsumerOptions {
  startFrom: StartFrom;
  claimIdleMs: number;
  claimIntervalMs: number;
  maxDeliveries: number;
  redeliveryDelayMs: number;
  /** Entries handled at once by this consumer. */
  prefetch: number;
  maxLen: number;
}

export interface StreamTarget {
  topic: string;
  stream: string;
  deadLetter: string;
  group: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());
const isNoGroup = (error: unknown) => String((error as Error)?.message).startsWith('NOGROUP');

/**
 * One queue subscription: a consumer of the topic stream's group named after the queue, with its own blocking
 * connection. It reads new entries (XREADGROUP >), and every `claimInterval` claims entries other members (or
 * itself) left pending longer than `claimIdle` — a dead process's, or nacked ones (see StreamSettler). Each entry
 * runs through runHandler under the subscription's ack mode; up to `prefetch` run at once.
 */
export class StreamConsumer {
  readonly consumer = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #settler: StreamSettler;
  readonly #inFlight = new Set<string>();
  #slotFreed: (() => void) | undefined;
  #closing = false;
  #loop: Promise<void> | undefined;
  #nextClaimAt = 0;
  #claimCursor = '0-0';

  constructor(
    private readonly commands: RedisConnection,
    private readonly blocking: RedisConnection,
    private readonly target: StreamTarget,
    private readonly handler: EventHandler,
    private readonly ackMode: AckMode,
    private readonly options: StreamConsumerOptions,
    private readonly logger: Logger,
  ) {
    this.#settler = new StreamSettler(commands, target.stream, target.deadLetter, target.group, this.consumer, options, logger);
  }

  /** Resolves once the group exists: an event published afterwards reaches the group. */
  async start(): Promise<void> {
    await this.#ensureGroup();
    this.#loop = this.#run();
  }

  /** Stops reading, waits up to `drainMs` for handlers, and leaves the group if nothing is pending on this consumer. */
  async stop(drainMs: number): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#slotFreed?.();
    this.blocking.abort(); // interrupts the blocking read at once
    await this.#loop;
    const deadline = Date.now() + drainMs;
    while (this.#inFlight.size > 0 && Date.now() < deadline) await sleep(20);
    await this.#leaveGroup().catch(() => undefined);
  }

  async #ensureGroup(): Promise<void> {
    const client = await this.commands.ready();
    try {
      await client.call('XGROUP', 'CREATE', this.target.stream, this.target.group, this.options.startFrom === 'new' ? '$' : '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).startsWith('BUSYGROUP')) throw error;
    }
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#closing) {
      try {
        await this.#slot();
        if (this.#closing) break;
        if (Date.now() >= this.#nextClaimAt) {
          this.#nextClaimAt = Date.now() + this.options.claimIntervalMs;
          await this.#claim();
        }
        if (this.#free() > 0) await this.#read();
        failures = 0;
      } catch (error) {
        if (this.#closing) break;
        failures++;
        if (isNoGroup(error)) {
          // The stream or group is gone (deleted, or a server restarted without persistence): start it again.
          this.logger.warn('broker: consumer group missing; creating it again', { ...this.#where(), error: (error as Error).message });
          await this.#ensureGroup().catch(() => undefined);
        } else if (failures === 1) {
          this.logger.warn('broker: reading the stream failed; retrying', { ...this.#where(), error: (error as Error).message });
        }
        await sleep(Math.min(50 * 2 ** failures, 2000));
      }
    }
  }

  #free(): number {
    return this.options.prefetch - this.#inFlight.size;
  }

  /** Waits until a handler slot is free. */
  async #slot(): Promise<void> {
    while (this.#free() <= 0 && !this.#closing) await new Promise<void>((resolve) => (this.#slotFreed = resolve));
  }

  async #read(): Promise<void> {
    const client = await this.blocking.ready();
    const block = Math.max(10, Math.min(this.options.claimIntervalMs, this.#nextClaimAt - Date.now()));
    const { group, stream } = this.target;
    const reply = await client.callBuffer('XREADGROUP', 'GROUP', group, this.consumer, 'COUNT', this.#free(), 'BLOCK', block, 'STREAMS', stream, '>');
    for (const entry of readGroupEntries(reply)) this.#deliver(entry, 1);
  }

  async #claim(): Promise<void> {
    const client = await this.commands.ready();
    const { group, stream } = this.target;
    const reply = autoClaimReply(await client.callBuffer('XAUTOCLAIM', stream, group, this.consumer, this.options.claimIdleMs, this.#claimCursor, 'COUNT', this.#free()));
    this.#claimCursor = reply.cursor;
    if (reply.deleted.length > 0) {
      this.logger.error('broker: pending events were trimmed from the stream before being handled (raise maxLen)', { ...this.#where(), ids: reply.deleted });
    }
    const entries = reply.entries.filter((entry) => !this.#inFlight.has(entry.id));
    const counts = await Promise.all(entries.map(async (entry) => deliveryCount(await client.call('XPENDING', stream, group, entry.id, entry.id, 1))));
    entries.forEach((entry, i) => {
      const attempt = counts[i];
      if (attempt === undefined) return; // acked by its previous owner in the meantime
      if (attempt > this.options.maxDeliveries) {
        void this.#deadLetter(entry, `not acked after ${attempt - 1} deliveries`, attempt - 1);
      } else {
        this.#deliver(entry, attempt);
      }
    });
  }

  #deliver(entry: StreamEntry, attempt: number): void {
    let message;
    try {
      message = decodeStreamFields(entry.fields);
    } catch (error) {
      void this.#deadLetter(entry, `malformed entry: ${(error as Error).message}`, attempt);
      return;
    }
    this.#inFlight.add(entry.id);
    const event = new DeliveredEvent(this.target.topic, message, attempt, (settlement) => this.#settle(settlement, entry, attempt));
    void runHandler(this.handler, event, this.ackMode, (error) =>
      this.logger.warn('broker: subscriber failed', { ...this.#where(), id: entry.id, attempt, error: (error as Error)?.message ?? String(error) }),
    ).finally(() => {
      this.#inFlight.delete(entry.id);
      this.#slotFreed?.();
    });
  }

  async #settle(settlement: Settlement, entry: StreamEntry, attempt: number): Promise<void> {
    if (settlement === 'ack') return this.#settler.ack(entry.id);
    if (settlement === 'drop') return this.#settler.deadLetter(entry.id, entry.fields, 'rejected by the subscriber (nack without requeue)', attempt);
    if (attempt >= this.options.maxDeliveries) return this.#settler.deadLetter(entry.id, entry.fields, `nacked on its last allowed delivery (${attempt})`, attempt);
    return this.#settler.requeue(entry.id, attempt);
  }

  async #deadLetter(entry: StreamEntry, reason: string, deliveries: number): Promise<void> {
    try {
      await this.#settler.deadLetter(entry.id, entry.fields, reason, deliveries);
    } catch (error) {
      // Still pending: the next claim after claimIdle tries again.
      this.logger.error('broker: dead-lettering failed; the entry stays pending', { ...this.#where(), id: entry.id, reason, error: (error as Error).message });
    }
  }

  /** A consumer that holds nothing is removed from the group, so XINFO shows live members only. */
  async #leaveGroup(): Promise<void> {
    const client = await this.commands.ready(1000);
    const { group, stream } = this.target;
    const pending = (await client.call('XPENDING', stream, group, '-', '+', 1, this.consumer)) as unknown[];
    if (pending.length === 0) await client.call('XGROUP', 'DELCONSUMER', stream, group, this.consumer);
  }

  #where(): Record<string, string> {
    return { topic: this.target.topic, group: this.target.group, consumer: this.consumer };
  }
}
