import type { ConsumerConfig } from '@nats-io/jetstream';

const NANOS_PER_MS = 1_000_000;

export interface ConsumerSpec {
  stream: string;
  /** The durable name: shared by a queue group, unique for a broadcast subscription. */
  name: string;
  /** The subject (or wildcard) it delivers. */
  subject: string;
  /** true: a queue group's consumer, kept when members leave; false: one subscription's, deleted with it. */
  shared: boolean;
  startFrom: 'new' | 'all';
  ackWaitMs: number;
  maxAttempts: number;
  /** A broadcast consumer whose process died is removed by the server after this long without pulls. */
  inactiveThresholdMs: number;
}

/**
 * Where a consumer created again starts: after a stream sequence (where its predecessor had got to), or from
 * the start of a stream that was itself created anew (everything in it is new to the subscription).
 */
export type Resume = { after: number } | 'stream-start';

/**
 * The JetStream config of a subscription's consumer. Both kinds are durable, so they survive a restart of the
 * server with its store; explicit acks, so a nack or a crash means redelivery, up to maxAttempts deliveries.
 */
export function consumerConfig(spec: ConsumerSpec, resume?: Resume): Partial<ConsumerConfig> {
  const config: Partial<ConsumerConfig> = {
    durable_name: spec.name,
    filter_subject: spec.subject,
    ack_policy: 'explicit',
    ack_wait: spec.ackWaitMs * NANOS_PER_MS,
    max_deliver: spec.maxAttempts,
    replay_policy: 'instant',
    deliver_policy: spec.startFrom === 'all' ? 'all' : 'new',
  };
  if (resume === 'stream-start') config.deliver_policy = 'all';
  else if (resume && resume.after > 0) {
    config.deliver_policy = 'by_start_sequence';
    config.opt_start_seq = resume.after + 1;
  }
  if (!spec.shared) config.inactive_threshold = spec.inactiveThresholdMs * NANOS_PER_MS;
  return config;
}
