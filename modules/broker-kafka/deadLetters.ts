import type { Logger } from '../../src/index.js';
import type { KafkaRecord } from './kafkaLibrary.js';
import { describeError, kafkaErrorStatus } from './describeError.js';
import type { RecordToProduce } from './records.js';

/** Headers a dead-lettered record carries besides its own, so an operator can see why and re-publish it. */
export const DeadLetterHeaders = {
  reason: 'micro-dead-reason',
  topic: 'micro-dead-topic',
  partition: 'micro-dead-partition',
  offset: 'micro-dead-offset',
  group: 'micro-dead-group',
  attempts: 'micro-dead-attempts',
  at: 'micro-dead-at',
  /** Present when the dead letter was too large for Kafka and was written without the original value. */
  valueDropped: 'micro-dead-value-dropped',
} as const;

export interface DeadLetter {
  reason: string;
  group: string;
  /** Deliveries made in this process before giving up (0 for a record that could not be read). */
  attempts: number;
}

/**
 * The dead-letter copy of a record: the same key, value and headers byte for byte (an unreadable record must
 * stay inspectable), plus the `micro-dead-*` headers.
 */
export function deadLetterRecord(deadLetterTopic: string, record: KafkaRecord, letter: DeadLetter): RecordToProduce {
  const headers = new Map<Buffer, Buffer>();
  for (const [name, value] of record.headerEntries) headers.set(name ?? Buffer.alloc(0), value ?? (null as unknown as Buffer));
  const add = (name: string, value: string) => headers.set(Buffer.from(name), Buffer.from(value));
  add(DeadLetterHeaders.reason, letter.reason);
  add(DeadLetterHeaders.topic, record.topic);
  add(DeadLetterHeaders.partition, String(record.partition));
  add(DeadLetterHeaders.offset, String(record.offset));
  add(DeadLetterHeaders.group, letter.group);
  add(DeadLetterHeaders.attempts, String(letter.attempts));
  add(DeadLetterHeaders.at, new Date().toISOString());
  return { topic: deadLetterTopic, value: record.value ?? (null as unknown as Buffer), headers, ...(record.key ? { key: record.key } : {}) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * Writes a dead letter, trying again (backoff up to 5 s) until Kafka acknowledges it or, after a failure,
 * `abandoned()` says the record is no longer ours (partition revoked, subscription stopped). The caller commits the
 * record's offset only after this resolves true, so a record is never skipped without its dead-letter copy: at
 * worst, after an abandoned attempt, the partition's next owner dead-letters it again. A dead letter too large for
 * Kafka (the original was near the limit, our headers pushed it over) would block its partition for good: it is
 * written without its value instead, marked so; the original stays in its topic at `micro-dead-offset`.
 */
export async function writeDeadLetter(produce: (record: RecordToProduce) => Promise<void>, record: RecordToProduce, abandoned: () => boolean, logger: Logger): Promise<boolean> {
  let letter = record;
  for (let failures = 0; ; failures++) {
    try {
      await produce(letter);
      return true;
    } catch (error) {
      if (abandoned()) return false;
      if (kafkaErrorStatus(error) === 413 && letter.value !== undefined && letter.value !== null && letter.value.length > 0) {
        letter = { ...letter, value: Buffer.alloc(0), headers: new Map([...letter.headers, [Buffer.from(DeadLetterHeaders.valueDropped), Buffer.from(describeError(error))]]) };
        logger.error('broker: dead letter too large for Kafka; writing it without its value', { deadLetterTopic: record.topic, error: describeError(error) });
        continue;
      }
      // Every tenth failure is logged again: a dead-letter topic that cannot be written holds its partition.
      if (failures % 10 === 0) logger.error('broker: writing a dead letter failed; its partition waits, retrying', { deadLetterTopic: record.topic, failures: failures + 1, error: describeError(error) });
      await sleep(Math.min(250 * 2 ** failures, 5000));
      if (abandoned()) return false;
    }
  }
}
