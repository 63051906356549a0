import { ContainerModule, CORE_VERSION, definePlugin, Tokens } from '../../src/index.js';
import { amqpUrls } from '../shared/amqp/addresses.js';
import { amqpLibrary } from '../shared/amqp/AmqpConnection.js';
import { RabbitTransport } from './RabbitTransport.js';

export interface RabbitTransportPluginOptions {
  connectTimeout: number;
  heartbeat: number;
  reconnectMaxDelay: number;
  queuePrefix: string;
  peerCheckInterval: number;
}

/** How long an accepted socket may stay silent before the server assumes its client died. */
const IDLE_SOCKET_MS = 30 * 60_000;

/**
 * `transport: rabbitmq`: RPC through RabbitMQ. A server listens on a queue of its own (registered as its address);
 * clients send to it and get answers through direct reply-to. `transport.address` lists the RabbitMQ servers
 * (amqp:// URLs or host:port, comma separated; amqp://guest:guest@127.0.0.1:5672 when empty).
 */
export default definePlugin<RabbitTransportPluginOptions>({
  name: 'rabbitmq',
  kind: 'transport',
  description: 'RPC through RabbitMQ: a queue per server, answers by direct reply-to; reconnects by itself',
  provides: ['Transport'],
  core: `^${CORE_VERSION}`,
  packages: [{ name: 'amqplib', range: '^2.3.1' }],
  options: {
    connectTimeout: { doc: 'How long listen() waits for RabbitMQ, and one connection attempt may take', format: 'duration', default: 10_000, env: 'MICRO_TRANSPORT_RABBITMQ_CONNECT_TIMEOUT' },
    heartbeat: { doc: 'AMQP heartbeat: a server that stops answering is noticed after about twice this', format: 'duration', default: 10_000, env: 'MICRO_TRANSPORT_RABBITMQ_HEARTBEAT' },
    reconnectMaxDelay: { doc: 'Longest wait between reconnection attempts (the wait doubles from 100ms)', format: 'duration', default: 5000, env: 'MICRO_TRANSPORT_RABBITMQ_RECONNECT_MAX_DELAY' },
    queuePrefix: { doc: 'Start of the queue names servers get when they do not name their own', format: String, default: 'tsmicro.', env: 'MICRO_TRANSPORT_RABBITMQ_QUEUE_PREFIX' },
    peerCheckInterval: { doc: 'How often clients check that the servers they talk to still have a queue (0: never)', format: 'duration', default: 5000, env: 'MICRO_TRANSPORT_RABBITMQ_PEER_CHECK_INTERVAL' },
  },
  create: ({ options, addresses, config, packages }) => {
    // Both fail at boot, with the reason, rather than at the first call.
    const library = amqpLibrary(packages['amqplib']);
    const urls = amqpUrls(addresses);
    return new ContainerModule(({ rebind }) => {
      rebind(Tokens.Transport)
        .toDynamicValue(
          (context) =>
            new RabbitTransport(library, {
              urls,
              maxMessageSize: config.transport.maxMessageSize,
              dialTimeoutMs: config.transport.dialTimeout,
              connectTimeoutMs: options.connectTimeout,
              queuePrefix: options.queuePrefix,
              peerCheckIntervalMs: options.peerCheckInterval,
              heartbeatSeconds: Math.max(1, Math.round(options.heartbeat / 1000)),
              reconnectInitialMs: 100,
              reconnectMaxMs: options.reconnectMaxDelay,
              idleSocketMs: IDLE_SOCKET_MS,
              logger: context.get(Tokens.Logger).child({ component: 'transport' }),
            }),
        )
        .inSingletonScope();
    });
  },
});
