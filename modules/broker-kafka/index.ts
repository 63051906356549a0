import { ContainerModule, CORE_VERSION, definePlugin, Tokens } from '../../src/index.js';
import { ACKS, KAFKA_BROKER_DEFAULTS as D, KafkaBroker, type Acks } from './KafkaBroker.js';
import { kafkaLibrary } from './kafkaLibrary.js';
import { START_FROM, type StartFrom } from './startOffsets.js';

export interface KafkaBrokerPluginOptions {
  clientId: string;
  topicPrefix: string;
  groupPrefix: string;
  instanceId: string;
  acks: Acks;
  idempotent: boolean;
  publishTimeout: number;
  startFrom: StartFrom;
  deadLetterTopic: string;
  maxAttempts: number;
  redeliveryDelay: number;
  prefetch: number;
  sessionTimeout: number;
  heartbeatInterval: number;
  rebalanceTimeout: number;
  connectTimeout: number;
  autoCreateTopics: boolean;
}

const env = (name: string): string => `MICRO_BROKER_KAFKA_${name}`;

/**
 * `broker: kafka`: events through Apache Kafka (4.x, KRaft; 3.5 and later) with @platformatic/kafka, which the
 * plugin loader imports only when this plugin is chosen. `broker.address` lists bootstrap brokers (host:port,
 * comma separated; 127.0.0.1:9092 when empty). Semantics in README.md.
 */
export default definePlugin<KafkaBrokerPluginOptions>({
  name: 'kafka',
  kind: 'broker',
  description: 'Apache Kafka: a topic per event topic, a consumer group per queue, commits after the handler succeeds, retries then a dead-letter topic',
  provides: ['Broker'],
  core: `^${CORE_VERSION}`,
  packages: [{ name: '@platformatic/kafka', range: '^2.12.1' }],
  options: {
    clientId: { doc: 'Client id the broker sees (quotas, logs)', format: String, default: D.clientId, env: env('CLIENT_ID') },
    topicPrefix: { doc: 'Prefix of every Kafka topic (the event topic follows; names Kafka refuses are mapped, see README)', format: String, default: D.topicPrefix, env: env('TOPIC_PREFIX') },
    groupPrefix: { doc: 'Prefix of every consumer group id (queue groups are named by the queue)', format: String, default: D.groupPrefix, env: env('GROUP_PREFIX') },
    instanceId: { doc: 'Stable identity of this process for the groups of subscriptions without a queue, so they resume after a restart ("" generates one per subscription, deleted when it ends)', format: String, default: D.instanceId, env: env('INSTANCE_ID') },
    acks: { doc: 'When a publish counts as done: all (every in-sync replica) or leader', format: [...ACKS], default: D.acks, env: env('ACKS') },
    idempotent: { doc: 'Idempotent producer: a resent record is written once and in order (one request in flight per connection); needs acks all', format: Boolean, default: D.idempotent, env: env('IDEMPOTENT') },
    publishTimeout: { doc: 'How long a publish keeps trying while Kafka does not acknowledge it, before it fails with 503', format: 'duration', default: D.publishTimeoutMs, env: env('PUBLISH_TIMEOUT') },
    startFrom: { doc: 'Where a group with no committed offset starts: latest (what is published after subscribe() was called) or earliest (all the topic retains)', format: [...START_FROM], default: D.startFrom, env: env('START_FROM') },
    deadLetterTopic: { doc: 'Topic for events that failed maxAttempts times, were rejected, or could not be read; {topic} is the Kafka topic', format: String, default: D.deadLetterTopic, env: env('DEAD_LETTER_TOPIC') },
    maxAttempts: { doc: 'Deliveries of an event whose handler keeps failing, before it is dead-lettered', format: 'positive-int', default: D.maxAttempts, env: env('MAX_ATTEMPTS') },
    redeliveryDelay: { doc: 'Wait before a failed event is delivered again, times its attempt number (its partition waits too)', format: 'duration', default: D.redeliveryDelayMs, env: env('REDELIVERY_DELAY') },
    prefetch: { doc: 'Records a subscription holds fetched but not yet handled before it pauses fetching', format: 'positive-int', default: D.prefetch, env: env('PREFETCH') },
    sessionTimeout: { doc: 'A member that stops heartbeating is removed from its group after this, and its partitions go to the others (the broker allows 6s to 30m by default)', format: 'duration', default: D.sessionTimeoutMs, env: env('SESSION_TIMEOUT') },
    heartbeatInterval: { doc: 'Heartbeat period; also how soon a member notices a rebalance (keep it under a third of sessionTimeout)', format: 'duration', default: D.heartbeatIntervalMs, env: env('HEARTBEAT_INTERVAL') },
    rebalanceTimeout: { doc: 'How long a rebalance waits for members to rejoin (at least sessionTimeout)', format: 'duration', default: D.rebalanceTimeoutMs, env: env('REBALANCE_TIMEOUT') },
    connectTimeout: { doc: 'Timeout of one connection attempt', format: 'duration', default: D.connectTimeoutMs, env: env('CONNECT_TIMEOUT') },
    autoCreateTopics: { doc: 'Ask the broker to create missing topics (it must allow it: auto.create.topics.enable)', format: Boolean, default: D.autoCreateTopics, env: env('AUTO_CREATE_TOPICS') },
  },
  create: ({ options, addresses, config, packages }) => {
    // Fails at boot, with the reason, rather than at the first publish.
    const library = kafkaLibrary(packages['@platformatic/kafka']);
    if (!/^\S+$/.test(options.clientId)) throw new TypeError('broker option clientId must be non-empty and without spaces');
    if (options.idempotent && options.acks !== 'all') throw new TypeError('broker option idempotent needs acks "all" (or set idempotent false)');
    if (options.rebalanceTimeout < options.sessionTimeout) throw new TypeError('broker option rebalanceTimeout must be at least sessionTimeout');
    if (options.heartbeatInterval >= options.sessionTimeout) throw new TypeError('broker option heartbeatInterval must be shorter than sessionTimeout');
    return new ContainerModule(({ rebind }) => {
      rebind(Tokens.Broker)
        .toDynamicValue(
          (context) =>
            new KafkaBroker(
              library,
              {
                brokers: addresses.map((address) => address.trim()).filter(Boolean),
                clientId: options.clientId,
                topicPrefix: options.topicPrefix,
                groupPrefix: options.groupPrefix,
                instanceId: options.instanceId,
                acks: options.acks,
                idempotent: options.idempotent,
                publishTimeoutMs: options.publishTimeout,
                startFrom: options.startFrom,
                deadLetterTopic: options.deadLetterTopic,
                maxAttempts: options.maxAttempts,
                redeliveryDelayMs: options.redeliveryDelay,
                prefetch: options.prefetch,
                sessionTimeoutMs: options.sessionTimeout,
                heartbeatIntervalMs: options.heartbeatInterval,
                rebalanceTimeoutMs: options.rebalanceTimeout,
                connectTimeoutMs: options.connectTimeout,
                autoCreateTopics: options.autoCreateTopics,
                drainTimeoutMs: config.server.drainTimeout,
              },
              context.get(Tokens.Logger).child({ component: 'broker' }),
            ),
        )
        .inSingletonScope();
    });
  },
});
