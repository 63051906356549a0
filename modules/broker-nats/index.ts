import { ContainerModule, CORE_VERSION, definePlugin, Tokens, type PluginDefinition } from '../../src/index.js';
import { missingPackage } from '../../src/pluginKit.js';
import type { JetStreamModule } from './jetstream/JetStreamEngine.js';
import { NatsBroker } from './NatsBroker.js';
import { connectionOptionsSchema, natsSettings, type NatsConnectionOptions } from '../shared/nats/connectionOptions.js';
import { NatsConnector, type NatsModule } from '../shared/nats/natsConnection.js';

export interface NatsBrokerPluginOptions extends NatsConnectionOptions {
  jetstream: boolean;
  subjectPrefix: string;
  wire: 'frame' | 'headers';
  stream: string;
  startFrom: 'new' | 'all';
  maxAttempts: number;
  redeliveryDelay: number;
  ackWait: number;
  maxInFlight: number;
  inactiveThreshold: number;
  maxAge: number;
  publishTimeout: number;
}

// JetStream's client is needed only with `jetstream: true`; core-mode users need not install it.
const PACKAGES = { nats: { name: '@nats-io/transport-node', range: '^3.4.0' }, jetstream: { name: '@nats-io/jetstream', range: '^3.4.0', optional: true } };
const env = (name: string) => `MICRO_BROKER_NATS_${name}`;

/**
 * `broker: nats`: core NATS (at most once, go-micro's NATS broker), or JetStream with `jetstream: true`
 * (events stored before publish resolves, redelivered until acked).
 */
const plugin = definePlugin<NatsBrokerPluginOptions>({
  name: 'nats',
  kind: 'broker',
  description: 'Core NATS subjects and queue groups, or JetStream streams and durable consumers; broker.address lists the NATS servers',
  provides: ['Broker'],
  core: `^${CORE_VERSION}`,
  packages: [PACKAGES.nats, PACKAGES.jetstream],
  options: {
    jetstream: { doc: 'Store events in JetStream (at least once) instead of core NATS (at most once)', format: Boolean, default: false, env: env('JETSTREAM') },
    subjectPrefix: { doc: 'Prepended to every topic (<prefix>.<topic>); JetStream mode uses tsmicro.events when empty', format: String, default: '', env: env('SUBJECT_PREFIX') },
    wire: {
      doc: 'Core mode: publish events as binary frames (tsmicro subscribers only), or with NATS headers (readable by plain NATS clients and tsmicro before frames); subscribers read both',
      format: ['frame', 'headers'],
      default: 'frame',
      env: env('WIRE'),
    },
    stream: { doc: 'JetStream: the stream that stores the events of <prefix>.>', format: String, default: 'TSMICRO_EVENTS', env: env('STREAM') },
    startFrom: { doc: 'JetStream: where a new subscription (a new queue group) starts: new events only, or all the stream holds', format: ['new', 'all'], default: 'new', env: env('START_FROM') },
    maxAttempts: { doc: 'Deliveries of a nacked event before it is dropped (JetStream: terminated and logged as a dead letter)', format: 'positive-int', default: 5, env: env('MAX_ATTEMPTS') },
    redeliveryDelay: { doc: 'Wait before a nacked event comes back, times the attempt number', format: 'duration', default: 100, env: env('REDELIVERY_DELAY') },
    ackWait: { doc: 'JetStream: an event not acked this long after delivery (its subscriber died) is redelivered', format: 'duration', default: 30_000, env: env('ACK_WAIT') },
    maxInFlight: { doc: 'JetStream: events a subscription handles at once', format: 'positive-int', default: 32, env: env('MAX_IN_FLIGHT') },
    inactiveThreshold: { doc: 'JetStream: a broadcast subscription whose process died is removed by the server after this long', format: 'duration', default: 300_000, env: env('INACTIVE_THRESHOLD') },
    maxAge: { doc: 'JetStream: how long the stream keeps events (0: no limit)', format: 'duration', default: 86_400_000, env: env('MAX_AGE') },
    publishTimeout: { doc: 'How long publish waits for NATS (JetStream: the stream) to confirm an event', format: 'duration', default: 5000, env: env('PUBLISH_TIMEOUT') },
    ...connectionOptionsSchema('broker'),
  },
  create: ({ options, addresses, config, packages }) => {
    if (options.jetstream && !packages[PACKAGES.jetstream.name]) throw missingPackage(plugin as PluginDefinition<unknown>, 'jetstream', PACKAGES.jetstream);
    return new ContainerModule(({ rebind }) => {
      rebind(Tokens.Broker)
        .toDynamicValue((context) => {
          const nats = packages[PACKAGES.nats.name] as NatsModule;
          const logger = context.get(Tokens.Logger).child({ component: 'broker' });
          return new NatsBroker({
            nats,
            jetstream: packages[PACKAGES.jetstream.name] as JetStreamModule | undefined,
            connector: new NatsConnector(nats, natsSettings(options, addresses, config), logger),
            logger,
            useJetStream: options.jetstream,
            subjectPrefix: options.subjectPrefix,
            wire: options.wire,
            stream: options.stream,
            startFrom: options.startFrom,
            maxAttempts: options.maxAttempts,
            redeliveryDelayMs: options.redeliveryDelay,
            ackWaitMs: options.ackWait,
            maxInFlight: options.maxInFlight,
            inactiveThresholdMs: options.inactiveThreshold,
            maxAgeMs: options.maxAge,
            publishTimeoutMs: options.publishTimeout,
            drainTimeoutMs: config.server.drainTimeout,
          });
        })
        .inSingletonScope();
    });
  },
});

export default plugin;
