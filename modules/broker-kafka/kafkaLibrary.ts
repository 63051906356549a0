import type * as Kafka from '@platformatic/kafka';

/**
 * The parts of @platformatic/kafka this plugin uses, as types only: the package is optional, so nothing in this
 * module imports it at run time. The plugin loader imports it (only when `broker: kafka` is chosen) and hands the
 * namespace in; tests pass the namespace they import themselves.
 */
export type KafkaLibrary = Pick<typeof Kafka, 'Producer' | 'Consumer' | 'Admin' | 'compatibilityPartitioner'>;
export type KafkaProducer = Kafka.Producer;
export type KafkaConsumer = Kafka.Consumer;
export type KafkaAdmin = Kafka.Admin;
/** A record as the consumer stream yields it (no deserializers: key, value and headers are raw bytes). */
export type KafkaRecord = Kafka.Message;
export type KafkaStream = Kafka.MessagesStream<Buffer, Buffer, Buffer, Buffer>;
export type KafkaAssigner = Kafka.GroupPartitionsAssigner;
export type KafkaClusterMetadata = Kafka.ClusterMetadata;
export type KafkaMemberSubscription = Kafka.ExtendedGroupProtocolSubscription;
export type KafkaGroupAssignment = Kafka.GroupAssignment;

/** Checks that `namespace` really is the package, so a broken install fails at boot with a sentence. */
export function kafkaLibrary(namespace: unknown): KafkaLibrary {
  const candidate = namespace as Partial<KafkaLibrary> | undefined;
  for (const name of ['Producer', 'Consumer', 'Admin', 'compatibilityPartitioner'] as const) {
    if (typeof candidate?.[name] !== 'function') throw new TypeError(`kafka broker: the @platformatic/kafka package has no ${name} export; install @platformatic/kafka@^2.12.1`);
  }
  return candidate as KafkaLibrary;
}
