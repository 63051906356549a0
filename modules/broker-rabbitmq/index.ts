import { ContainerModule, CORE_VERSION, definePlugin, Tokens } from '../../src/index.js';
import { amqpUrls } from '../shared/amqp/addresses.js';
import { amqpLibrary } from '../shared/amqp/AmqpConnection.js';
import { RabbitBroker } from './RabbitBroker.js';

export interface RabbitBrokerPluginOptions {
  exchange: string;
  prefetch: number;
  maxAttempts: number;
  redeliveryDelay: number;
  deadLetterExchange: string;
  deadLetterQueue: string;
  queueExpiry: number;
  publishTimeout: number;
  connectTimeout: number;
  heartbeat: number;
  reconnectMaxDelay: number;
}

const env = (name: string): string => `MICRO_BROKER_RABBITMQ_${name}`;

/**
 * `broker: rabbitmq`: events through a RabbitMQ topic exchange, durable queues for queue groups, publisher
 * confirms, redelivery with a bounded number of attempts and an optional dead-letter exchange. `broker.address`
 * lists the RabbitMQ servers (amqp:// URLs or host:port, comma separated; amqp://guest:guest@127.0.0.1:5672 when
 * empty). See the README for the semantics.
 */
export default definePlugin<RabbitBrokerPluginOptions>({
  name: 'rabbitmq',
  kind: 'broker',
  description: 'Events through a RabbitMQ topic exchange: durable queue groups, publisher confirms, dead-lettering; reconnects by itself',
  provides: ['Broker'],
  core: `^${CORE_VERSION}`,
  packages: [{ name: 'amqplib', range: '^2.3.1' }],
  options: {
    exchange: { doc: 'The topic exchange events are published to', format: String, default: 'tsmicro', env: env('EXCHANGE') },
    prefetch: { doc: 'Events a subscription handles at once (unacknowledged deliveries per consumer)', format: 'positive-int', default: 10, env: env('PREFETCH') },
    maxAttempts: { doc: 'Deliveries of an event whose handler keeps failing, before it is dead-lettered or dropped', format: 'positive-int', default: 5, env: env('MAX_ATTEMPTS') },
    redeliveryDelay: { doc: 'Wait before a failed event is queued again, times its attempt number', format: 'duration', default: 100, env: env('REDELIVERY_DELAY') },
    deadLetterExchange: { doc: 'Exchange that rejected events go to ("" drops them)', format: String, default: '', env: env('DEAD_LETTER_EXCHANGE') },
    deadLetterQueue: { doc: 'Durable queue bound to the dead-letter exchange for every topic ("" for none)', format: String, default: '', env: env('DEAD_LETTER_QUEUE') },
    queueExpiry: { doc: 'Queue-group queues unused this long are deleted by RabbitMQ (0: never)', format: 'duration', default: 0, env: env('QUEUE_EXPIRY') },
    publishTimeout: { doc: 'How long a publish keeps trying, across reconnections, before it fails', format: 'duration', default: 30_000, env: env('PUBLISH_TIMEOUT') },
    connectTimeout: { doc: 'How long connect() and subscribe() wait for RabbitMQ', format: 'duration', default: 10_000, env: env('CONNECT_TIMEOUT') },
    heartbeat: { doc: 'AMQP heartbeat: a server that stops answering is noticed after about twice this', format: 'duration', default: 10_000, env: env('HEARTBEAT') },
    reconnectMaxDelay: { doc: 'Longest wait between reconnection attempts (the wait doubles from 100ms)', format: 'duration', default: 5000, env: env('RECONNECT_MAX_DELAY') },
  },
  create: ({ options, addresses, config, packages }) => {
    // Both fail at boot, with the reason, rather than at the first publish.
    const library = amqpLibrary(packages['amqplib']);
    const urls = amqpUrls(addresses);
    if (options.deadLetterQueue && !options.deadLetterExchange) throw new TypeError('broker option deadLetterQueue needs deadLetterExchange to be set');
    return new ContainerModule(({ rebind }) => {
      rebind(Tokens.Broker)
        .toDynamicValue(
          (context) =>
            new RabbitBroker(library, {
              urls,
              exchange: options.exchange,
              deadLetterExchange: options.deadLetterExchange,
              deadLetterQueue: options.deadLetterQueue,
              queueExpiryMs: options.queueExpiry,
              prefetch: options.prefetch,
              maxAttempts: options.maxAttempts,
              redeliveryDelayMs: options.redeliveryDelay,
              publishTimeoutMs: options.publishTimeout,
              connectTimeoutMs: options.connectTimeout,
              heartbeatSeconds: Math.max(1, Math.round(options.heartbeat / 1000)),
              reconnectInitialMs: 100,
              reconnectMaxMs: options.reconnectMaxDelay,
              drainTimeoutMs: config.server.drainTimeout,
              logger: context.get(Tokens.Logger).child({ component: 'broker' }),
            }),
        )
        .inSingletonScope();
    });
  },
});
