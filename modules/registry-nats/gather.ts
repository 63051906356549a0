import type { Msg, NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../../src/index.js';
import { parseReply, type WireEntry } from './wire.js';

export interface GatherOptions {
  /** Longest the query waits for answers. */
  timeoutMs: number;
  /** Once every expected owner has answered (or when none are known), how long to wait for more. */
  settleMs: number;
  /**
   * Owners that should answer, undefined when not known yet. Asked again as replies come and when the settle
   * time is up, so an owner announced while the query runs is waited for too.
   */
  expected: () => ReadonlySet<string> | undefined;
  logger: Logger;
}

export interface Gathered {
  entries: WireEntry[];
  /** Owners whose last reply part arrived, with the time each vouched for. */
  replied: Map<string, number>;
}

type StoppableIterable = AsyncIterable<Msg> & { stop?: () => void };

/**
 * Publishes one query and collects the owners' replies (nats.js requestMany) until every expected owner has
 * answered and nobody else spoke for `settleMs`, or `timeoutMs` passes. When the owners are not known yet it
 * waits for a first answer, then settles. A malformed reply is logged and skipped.
 */
export async function gather(connection: NatsConnection, subject: string, query: string, options: GatherOptions): Promise<Gathered> {
  const gathered: Gathered = { entries: [], replied: new Map() };
  const replies = (await connection.requestMany(subject, query, { strategy: 'timer', maxWait: options.timeoutMs })) as StoppableIterable;
  let settle: NodeJS.Timeout | undefined;
  const everyoneAnswered = () => {
    const expected = options.expected();
    return !expected || [...expected].every((owner) => gathered.replied.has(owner));
  };
  const armSettle = () => {
    clearTimeout(settle);
    if (!everyoneAnswered() || !replies.stop) return;
    settle = setTimeout(() => {
      // An owner may have announced itself meanwhile: then its answer is worth waiting for.
      if (everyoneAnswered()) replies.stop!();
    }, options.settleMs);
  };
  // With the owners known and none expected, only a newcomer can answer: give it the settle time, no more.
  if (options.expected()?.size === 0) armSettle();
  try {
    for await (const message of replies) {
      if (message.headers?.status === '503') break;
      try {
        const reply = parseReply(message.data);
        gathered.entries.push(...reply.entries);
        if (reply.last) gathered.replied.set(reply.owner, reply.ttlMs);
      } catch (error) {
        options.logger.warn('nats registry: ignored a malformed query reply', { error: (error as Error).message });
      }
      armSettle();
    }
  } catch (error) {
    // No responders is a normal answer (nobody owns anything); anything else is a failed query.
    if (!/no responders/i.test((error as Error).message)) throw error;
  } finally {
    clearTimeout(settle);
  }
  return gathered;
}
