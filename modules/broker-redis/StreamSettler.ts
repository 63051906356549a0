import type { Logger } from '../../src/index.js';
import type { RedisConnection } from '../shared/redis/redisConnection.js';

export interface SettlerOptions {
  claimIdleMs: number;
  redeliveryDelayMs: number;
  /** Cap of the dead-letter stream (MAXLEN ~); 0 for none. */
  maxLen: number;
}

interface PendingAcks {
  ids: string[];
  waiting: { resolve(): void; reject(error: Error): void }[];
}

/**
 * What happens to a stream entry once a delivery ends, for one consumer of one group:
 * - ack: XACK, one command for all the entries acked in the same tick (XACK takes many ids), each ack resolving
 *   when that command has returned;
 * - requeue: the entry stays pending, and XCLAIM … IDLE makes it look idle for almost `claimIdle`, so that
 *   after `redeliveryDelay × attempt` any member's next claim pass (XAUTOCLAIM) takes it, this one included;
 *   JUSTID keeps the delivery counter, which the claim then raises: it is the attempt number;
 * - dead-letter: XADD to the topic's dead-letter stream, with why, and XACK, in one transaction.
 * Every call waits (up to the command timeout) for a lost connection; if that fails the entry stays pending
 * and is claimed again after `claimIdle`: at least once, never lost.
 */
export class StreamSettler {
  #acks: PendingAcks | undefined;

  constructor(
    private readonly commands: RedisConnection,
    private readonly stream: string,
    private readonly deadLetterStream: string,
    private readonly group: string,
    private readonly consumer: string,
    private readonly options: SettlerOptions,
    private readonly logger: Logger,
  ) {}

  ack(id: string): Promise<void> {
    let acks = this.#acks;
    if (!acks) {
      acks = { ids: [], waiting: [] };
      this.#acks = acks;
      setImmediate(this.#sendAcks, acks);
    }
    const pending = acks;
    pending.ids.push(id);
    return new Promise<void>((resolve, reject) => pending.waiting.push({ resolve, reject }));
  }

  readonly #sendAcks = (acks: PendingAcks): void => {
    if (this.#acks === acks) this.#acks = undefined;
    this.commands
      .ready()
      .then((client) => client.xack(this.stream, this.group, ...acks.ids))
      .then(
        () => {
          for (const one of acks.waiting) one.resolve();
        },
        (error: Error) => {
          for (const one of acks.waiting) one.reject(error);
        },
      );
  };

  async requeue(id: string, attempt: number): Promise<void> {
    const delay = this.options.redeliveryDelayMs * attempt;
    const idle = Math.max(0, this.options.claimIdleMs - delay);
    const client = await this.commands.ready();
    await client.call('XCLAIM', this.stream, this.group, this.consumer, 0, id, 'IDLE', idle, 'JUSTID');
  }

  async deadLetter(id: string, fields: readonly Buffer[] | null, reason: string, deliveries: number): Promise<void> {
    const client = await this.commands.ready();
    const cap = this.options.maxLen > 0 ? ['MAXLEN', '~', this.options.maxLen] : [];
    const record = ['dead.reason', reason, 'dead.group', this.group, 'dead.id', id, 'dead.deliveries', String(deliveries), 'dead.consumer', this.consumer, 'dead.at', new Date().toISOString()];
    const results = await client
      .multi()
      .call('XADD', this.deadLetterStream, ...cap, '*', ...record, ...(fields ?? []))
      .xack(this.stream, this.group, id)
      .exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw failed?.[0] ?? new Error('dead-letter transaction aborted');
    this.logger.error('broker: event moved to the dead-letter stream', { stream: this.stream, group: this.group, id, reason, deliveries, deadLetter: this.deadLetterStream });
  }
}
