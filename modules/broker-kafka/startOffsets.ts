import type { Logger } from '../../src/index.js';
import type { KafkaConsumer } from './kafkaLibrary.js';

/** Where a consumer group with no committed offset for a partition starts reading it. */
export type StartFrom = 'latest' | 'earliest';
export const START_FROM: readonly StartFrom[] = ['latest', 'earliest'];

/** ListOffsets' special timestamps. */
const EARLIEST = -2n;

/** The end of each partition (the offset the next record will get), by partition. */
export async function endOffsets(consumer: KafkaConsumer, topic: string): Promise<Map<number, bigint>> {
  const offsets = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
  return new Map(offsets.map((offset, partition) => [partition, offset] as const));
}

async function earliestOffsets(consumer: KafkaConsumer, topic: string, partitions: number[]): Promise<Map<number, bigint>> {
  const offsets = (await consumer.listOffsets({ topics: [topic], partitions: { [topic]: partitions }, timestamp: EARLIEST })).get(topic) ?? [];
  return new Map(partitions.map((partition) => [partition, offsets[partition] ?? 0n] as const));
}

export interface StartPositions {
  topic: string;
  groupId: string;
  startFrom: StartFrom;
  /** The end offsets when subscribe() was called (startFrom 'latest'); partitions added later start at their beginning. */
  subscribedAt: Map<number, bigint> | undefined;
}

/**
 * The group's committed offset of each assigned partition. A partition the group has never committed is given
 * its start position (`startFrom`) and that position is committed at once, before any record is read: from then
 * on the group's position is in Kafka, not in this process, so a member that takes the partition over later
 * (this one dead, or a rebalance) resumes there instead of choosing a start of its own and skipping what was
 * published in between. This is what makes `latest` mean "everything published after subscribe() was called".
 */
export async function startPositions(consumer: KafkaConsumer, assigned: number[], positions: StartPositions, logger: Logger): Promise<Map<number, bigint>> {
  const { topic } = positions;
  const committed = (await consumer.listCommittedOffsets({ topics: [{ topic, partitions: assigned }] })).get(topic) ?? [];
  const result = new Map<number, bigint>();
  const missing: number[] = [];
  for (const partition of assigned) {
    const offset = committed[partition];
    if (offset !== undefined && offset >= 0n) result.set(partition, offset);
    else missing.push(partition);
  }
  if (missing.length === 0) return result;
  const known = positions.startFrom === 'latest' ? (positions.subscribedAt ?? new Map<number, bigint>()) : new Map<number, bigint>();
  const unknown = missing.filter((partition) => !known.has(partition));
  const earliest = unknown.length > 0 ? await earliestOffsets(consumer, topic, unknown) : new Map<number, bigint>();
  const starts = missing.map((partition) => ({ topic, partition, offset: known.get(partition) ?? earliest.get(partition) ?? 0n, leaderEpoch: -1 }));
  await consumer.commit({ offsets: starts });
  for (const start of starts) result.set(start.partition, start.offset);
  logger.info('broker: consumer group starts reading new partitions', { topic, group: positions.groupId, startFrom: positions.startFrom, partitions: starts.map((start) => `${start.partition}@${start.offset}`).join(',') });
  return result;
}
