import { ContainerModule, CORE_VERSION, definePlugin, Tokens } from '../../src/index.js';
import type { MqttModule } from './connection.js';
import { MqttBroker } from './MqttBroker.js';

export interface MqttBrokerPluginOptions {
  topicPrefix: string;
  clientId: string;
  sessionExpiry: number;
  keepalive: number;
  connectTimeout: number;
  publishTimeout: number;
  ackTimeout: number;
  maxAttempts: number;
  redeliveryDelay: number;
  username: string;
  password: string;
}

/**
 * `broker: mqtt`: events through an MQTT v5 broker (tested with mosquitto 2.0). `broker.address` lists the
 * brokers (`host:port` or `mqtt[s]://host:port`, comma-separated; 127.0.0.1:1883 when empty). The `mqtt` package
 * is imported by the plugin loader only when this plugin is chosen.
 */
export default definePlugin<MqttBrokerPluginOptions>({
  name: 'mqtt',
  kind: 'broker',
  description: 'MQTT v5 broker (mosquitto, EMQX, HiveMQ…): QoS 1, shared subscriptions for queue groups, optional persistent sessions',
  provides: ['Broker'],
  core: `^${CORE_VERSION}`,
  packages: [{ name: 'mqtt', range: '^5.16.0' }],
  options: {
    topicPrefix: { doc: 'Prefix of every MQTT topic; "/" in a topic is an MQTT level, "+", "#" and "%" are escaped', format: String, default: 'tsmicro/', env: 'MICRO_BROKER_MQTT_TOPIC_PREFIX' },
    clientId: { doc: 'Base client id, unique per process; when set, subscriptions use persistent sessions (events wait while the process is away)', format: String, default: '', env: 'MICRO_BROKER_MQTT_CLIENT_ID' },
    sessionExpiry: { doc: 'How long the broker keeps a persistent session after its connection ends (whole seconds)', format: 'duration', default: 3_600_000, env: 'MICRO_BROKER_MQTT_SESSION_EXPIRY' },
    keepalive: { doc: 'MQTT keepalive; must be at least twice ackTimeout', format: 'duration', default: 60_000, env: 'MICRO_BROKER_MQTT_KEEPALIVE' },
    connectTimeout: { doc: 'How long connecting (connect(), subscribe()) waits for the broker', format: 'duration', default: 10_000, env: 'MICRO_BROKER_MQTT_CONNECT_TIMEOUT' },
    publishTimeout: { doc: 'How long a publish waits for the PUBACK, reconnection included, before it fails', format: 'duration', default: 10_000, env: 'MICRO_BROKER_MQTT_PUBLISH_TIMEOUT' },
    ackTimeout: { doc: 'Longest an event may wait for its ack (handler runs and redeliveries included) before it is dropped', format: 'duration', default: 20_000, env: 'MICRO_BROKER_MQTT_ACK_TIMEOUT' },
    maxAttempts: { doc: 'Handler runs of a nacked event in the receiving process before it is dropped', format: 'positive-int', default: 5, env: 'MICRO_BROKER_MQTT_MAX_ATTEMPTS' },
    redeliveryDelay: { doc: 'Wait before a nacked event runs again, times the attempt number', format: 'duration', default: 100, env: 'MICRO_BROKER_MQTT_REDELIVERY_DELAY' },
    username: { doc: 'MQTT username', format: String, default: '', env: 'MICRO_BROKER_MQTT_USERNAME' },
    password: { doc: 'MQTT password', format: String, default: '', env: 'MICRO_BROKER_MQTT_PASSWORD', sensitive: true },
  },
  create: ({ options, addresses, config, packages }) =>
    new ContainerModule(({ rebind }) => {
      rebind(Tokens.Broker)
        .toDynamicValue(
          (context) =>
            new MqttBroker(
              packages['mqtt'] as MqttModule,
              {
                addresses,
                topicPrefix: options.topicPrefix,
                clientId: options.clientId,
                sessionExpiryMs: options.sessionExpiry,
                keepaliveMs: options.keepalive,
                connectTimeoutMs: options.connectTimeout,
                publishTimeoutMs: options.publishTimeout,
                ackTimeoutMs: options.ackTimeout,
                maxAttempts: options.maxAttempts,
                redeliveryDelayMs: options.redeliveryDelay,
                drainTimeoutMs: config.server.drainTimeout,
                username: options.username,
                password: options.password,
              },
              context.get(Tokens.Logger).child({ component: 'broker' }),
            ),
        )
        .inSingletonScope();
    }),
});
