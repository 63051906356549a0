import { ContainerModule, CORE_VERSION, definePlugin, Tokens } from '../../src/index.js';
import { REDIS_TRANSPORT_DEFAULTS, RedisTransport } from './RedisTransport.js';

export interface RedisTransportPluginOptions {
  prefix: string;
  idleTimeout: number;
  commandTimeout: number;
}

/**
 * `transport: redis`: RPC over Redis pub/sub channels instead of TCP ports. Servers listen on a channel (registered
 * as their address); clients need a route to Redis, not to the server. `transport.address` is `host:port` or a
 * `redis://` URL (127.0.0.1:6379 by default). ioredis is imported by the plugin loader only when this plugin is chosen.
 */
export default definePlugin<RedisTransportPluginOptions>({
  name: 'redis',
  kind: 'transport',
  description: 'Request/reply over Redis pub/sub channels; transport.address is host:port or a redis:// URL',
  provides: ['Transport'],
  core: `^${CORE_VERSION}`,
  packages: [{ name: 'ioredis', range: '^6.0.0' }],
  options: {
    prefix: { doc: 'Prefix of every channel the transport uses; a server whose address is host:port listens on <prefix><unique id>', format: String, default: REDIS_TRANSPORT_DEFAULTS.prefix, env: 'MICRO_TRANSPORT_REDIS_PREFIX' },
    idleTimeout: { doc: 'An accepted connection with no traffic for this long is closed', format: 'duration', default: REDIS_TRANSPORT_DEFAULTS.idleTimeoutMs, env: 'MICRO_TRANSPORT_REDIS_IDLE_TIMEOUT' },
    commandTimeout: { doc: 'How long opening the connections waits for Redis, and a PUBLISH for its reply', format: 'duration', default: REDIS_TRANSPORT_DEFAULTS.commandTimeoutMs, env: 'MICRO_TRANSPORT_REDIS_COMMAND_TIMEOUT' },
  },
  create: ({ options, addresses, config, packages }) =>
    new ContainerModule(({ rebind }) => {
      rebind(Tokens.Transport)
        .toDynamicValue(
          (context) =>
            new RedisTransport(
              packages['ioredis'],
              {
                address: addresses[0],
                prefix: options.prefix,
                idleTimeoutMs: options.idleTimeout,
                commandTimeoutMs: options.commandTimeout,
                maxMessageSize: config.transport.maxMessageSize,
                dialTimeoutMs: config.transport.dialTimeout,
              },
              context.get(Tokens.Logger).child({ component: 'transport' }),
            ),
        )
        .inSingletonScope();
    }),
});
