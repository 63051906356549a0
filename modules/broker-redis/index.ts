import { ContainerModule, CORE_VERSION, definePlugin, Tokens } from '../../src/index.js';
import { REDIS_BROKER_DEFAULTS, RedisBroker } from './RedisBroker.js';
import { START_FROM, type StartFrom } from './StreamConsumer.js';

export interface RedisBrokerPluginOptions {
  prefix: string;
  maxLen: number;
  startFrom: StartFrom;
  claimIdle: number;
  claimInterval: number;
  maxDeliveries: number;
  redeliveryDelay: number;
  prefetch: number;
  commandTimeout: number;
}

const D = REDIS_BROKER_DEFAULTS;

/**
 * `broker: redis`: pub/sub for broadcast subscriptions (at most once), streams with consumer groups for queue
 * subscriptions (at least once, dead-letter stream). `broker.address` is `host:port` or a `redis://` URL
 * (127.0.0.1:6379 by default). ioredis is imported by the plugin loader only when this plugin is chosen.
 */
export default definePlugin<RedisBrokerPluginOptions>({
  name: 'redis',
  kind: 'broker',
  description: 'Redis pub/sub for broadcast subscriptions, Redis Streams consumer groups for queue subscriptions; broker.address is host:port or a redis:// URL',
  provides: ['Broker'],
  core: `^${CORE_VERSION}`,
  packages: [{ name: 'ioredis', range: '^6.0.0' }],
  options: {
    prefix: { doc: 'Prefix of every channel and stream the broker uses', format: String, default: D.prefix, env: 'MICRO_BROKER_REDIS_PREFIX' },
    maxLen: { doc: 'Approximate cap of each topic stream (XADD MAXLEN ~), and of the dead-letter streams; 0 for none', format: 'non-negative-int', default: D.maxLen, env: 'MICRO_BROKER_REDIS_MAX_LEN' },
    startFrom: { doc: 'Where a new queue group starts reading: new (events published from now on) or beginning (everything the stream retains)', format: [...START_FROM], default: D.startFrom, env: 'MICRO_BROKER_REDIS_START_FROM' },
    claimIdle: { doc: 'How long an event stays pending on one consumer before another member may take it over; longer than any handler runs', format: 'duration', default: D.claimIdleMs, env: 'MICRO_BROKER_REDIS_CLAIM_IDLE' },
    claimInterval: { doc: 'How often each queue consumer looks for pending events to take over (XAUTOCLAIM)', format: 'duration', default: D.claimIntervalMs, env: 'MICRO_BROKER_REDIS_CLAIM_INTERVAL' },
    maxDeliveries: { doc: 'Deliveries of an event before it is moved to the dead-letter stream', format: 'positive-int', default: D.maxDeliveries, env: 'MICRO_BROKER_REDIS_MAX_DELIVERIES' },
    redeliveryDelay: { doc: 'Wait before a nacked event is delivered again, times the attempt number', format: 'duration', default: D.redeliveryDelayMs, env: 'MICRO_BROKER_REDIS_REDELIVERY_DELAY' },
    prefetch: { doc: 'Events one queue subscription handles at once', format: 'positive-int', default: D.prefetch, env: 'MICRO_BROKER_REDIS_PREFETCH' },
    commandTimeout: { doc: 'How long a publish or ack waits for a lost connection to come back, and for its reply', format: 'duration', default: D.commandTimeoutMs, env: 'MICRO_BROKER_REDIS_COMMAND_TIMEOUT' },
  },
  create: ({ options, addresses, config, packages }) =>
    new ContainerModule(({ rebind }) => {
      rebind(Tokens.Broker)
        .toDynamicValue(
          (context) =>
            new RedisBroker(
              packages['ioredis'],
              {
                address: addresses[0],
                prefix: options.prefix,
                maxLen: options.maxLen,
                startFrom: options.startFrom,
                claimIdleMs: options.claimIdle,
                claimIntervalMs: options.claimInterval,
                maxDeliveries: options.maxDeliveries,
                redeliveryDelayMs: options.redeliveryDelay,
                prefetch: options.prefetch,
                commandTimeoutMs: options.commandTimeout,
                drainTimeoutMs: config.server.drainTimeout,
              },
              context.get(Tokens.Logger).child({ component: 'broker' }),
            ),
        )
        .inSingletonScope();
    }),
});
