import * as kafka from '@platformatic/kafka';
import type { BrokerEvent, Logger, SubscribeOptions } from '../../src/index.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { uniqueName } from '../../test/helpers/eventually.js';
import { KafkaBroker, type KafkaBrokerOptions } from './KafkaBroker.js';

/** Timings for tests: a dead member is noticed after 6 s (the broker's minimum session), rebalances within ~1 s. */
export const FAST_GROUPS: Partial<KafkaBrokerOptions> = {
  sessionTimeoutMs: 6000,
  heartbeatIntervalMs: 300,
  rebalanceTimeoutMs: 6000,
  redeliveryDelayMs: 50,
  drainTimeoutMs: 2000,
};

export function testBroker(address: string, options: Partial<KafkaBrokerOptions> = {}, logger: Logger = silentLogger): KafkaBroker {
  return new KafkaBroker(kafka, { brokers: [address], ...FAST_GROUPS, ...options }, logger);
}

export interface RawRecord {
  key: string | undefined;
  value: Buffer | undefined;
  headers: Record<string, string>;
  partition: number;
  offset: bigint;
}

/** Every record a topic holds now, read with a throwaway group from the beginning (for checking dead letters). */
export async function readTopic(address: string, topic: string, atLeast = 1, timeoutMs = 10_000): Promise<RawRecord[]> {
  const consumer = new kafka.Consumer({ clientId: 'tsmicro-test', groupId: `reader-${process.pid}-${Date.now()}-${Math.random()}`, bootstrapBrokers: [address], autocommit: false, autocreateTopics: true, maxWaitTime: 200 });
  const records: RawRecord[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 200 });
    const deadline = Date.now() + timeoutMs;
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => Date.now() > deadline && done(), 50);
      const done = () => {
        clearInterval(timer);
        resolve();
      };
      stream.on('error', reject);
      stream.on('data', (record: kafka.Message) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of record.headerEntries) headers[name.toString()] = value?.toString() ?? '<null>';
        records.push({ key: record.key?.toString(), value: record.value, headers, partition: record.partition, offset: record.offset });
        if (records.length >= atLeast) setTimeout(done, 200);
      });
    });
    await stream.close();
  } finally {
    await consumer.close(true).catch(() => undefined);
  }
  return records;
}

/** Produces a record exactly as given (raw bytes), as another Kafka tool would. */
export async function produceRaw(address: string, topic: string, record: { key?: Buffer; value?: Buffer | null; headers?: [Buffer, Buffer | null][]; partition?: number }): Promise<void> {
  const producer = new kafka.Producer({ clientId: 'tsmicro-test', bootstrapBrokers: [address], autocreateTopics: true });
  try {
    const headers = new Map<Buffer, Buffer>((record.headers ?? []) as [Buffer, Buffer][]);
    await producer.send({ messages: [{ topic, value: record.value as Buffer, headers, ...(record.key ? { key: record.key } : {}), ...(record.partition === undefined ? {} : { partition: record.partition }) }] });
  } finally {
    await producer.close();
  }
}

export const text = (event: BrokerEvent): string => Buffer.from(event.message.body).toString();
export const message = (body: string, headers: Record<string, string> = {}) => ({ headers: { 'x-test': 'yes', ...headers }, body: Buffer.from(body) });

/**
 * What a test file against one Kafka needs: brokers in groups of the file's own (a unique group prefix), closed by
 * `cleanup()` (afterEach), and the groups' committed offsets through an admin client (closed by `close()`).
 */
export function kafkaTestKit(address: string) {
  const groupPrefix = `${uniqueName('kafka-test')}.`;
  const brokers: KafkaBroker[] = [];
  const admin = new kafka.Admin({ clientId: 'tsmicro-test', bootstrapBrokers: [address] });
  return {
    groupPrefix,
    admin,
    open: async (options: Partial<KafkaBrokerOptions> = {}, logger: Logger = captureLogger()): Promise<KafkaBroker> => {
      const broker = testBroker(address, { groupPrefix, ...options }, logger);
      brokers.push(broker);
      await broker.connect();
      return broker;
    },
    cleanup: () => Promise.all(brokers.splice(0).map((broker) => broker.disconnect())),
    close: () => admin.close(),
    /** The group's committed offsets of a topic, by partition. */
    committedOffsets: async (group: string, topic: string): Promise<bigint[]> => {
      const [offsets] = await admin.listConsumerGroupOffsets({ groups: [group] });
      return (offsets?.topics.find((entry) => entry.name === topic)?.partitions ?? []).sort((a, b) => a.partitionIndex - b.partitionIndex).map((partition) => partition.committedOffset);
    },
    /** Subscribes a handler that records each delivery, then runs `onEvent` (which may throw or settle). */
    subscribeRecording: async (broker: KafkaBroker, topic: string, options: SubscribeOptions, onEvent?: (event: BrokerEvent) => Promise<void> | void) => {
      const got: BrokerEvent[] = [];
      const subscription = await broker.subscribe(topic, async (event) => {
        got.push(event);
        await onEvent?.(event);
      }, options);
      return { got, bodies: () => got.map(text), subscription };
    },
  };
}
