import { ContainerModule, CORE_VERSION, definePlugin, Tokens } from '../../src/index.js';
import { KEYSPACE_MODES, type KeyspaceMode } from './keyspaceEvents.js';
import { REDIS_REGISTRY_DEFAULTS, RedisRegistry } from './RedisRegistry.js';

export interface RedisRegistryPluginOptions {
  prefix: string;
  keyspaceEvents: KeyspaceMode;
  pollInterval: number;
  resyncInterval: number;
  commandTimeout: number;
}

/**
 * `registry: redis`: node entries as Redis keys expiring with the register TTL, watched through a changes channel
 * and keyspace notifications. `registry.address` is `host:port` or a `redis://` URL (127.0.0.1:6379 by default).
 * ioredis is imported by the plugin loader only when this plugin is chosen.
 */
export default definePlugin<RedisRegistryPluginOptions>({
  name: 'redis',
  kind: 'registry',
  description: 'Node entries in Redis with TTLs; watches through a changes channel and keyspace notifications; registry.address is host:port or a redis:// URL',
  provides: ['Registry'],
  core: `^${CORE_VERSION}`,
  packages: [{ name: 'ioredis', range: '^6.0.0' }],
  options: {
    prefix: { doc: 'Prefix of every key and channel the registry uses', format: String, default: REDIS_REGISTRY_DEFAULTS.prefix, env: 'MICRO_REGISTRY_REDIS_PREFIX' },
    keyspaceEvents: {
      doc: 'Expiry notifications: configure (enable them with CONFIG SET when allowed), existing (use them only if the server has them on), off (poll)',
      format: [...KEYSPACE_MODES],
      default: REDIS_REGISTRY_DEFAULTS.keyspaceEvents,
      env: 'MICRO_REGISTRY_REDIS_KEYSPACE_EVENTS',
    },
    pollInterval: { doc: 'How often watchers rescan for expired nodes when keyspace notifications are unavailable', format: 'duration', default: REDIS_REGISTRY_DEFAULTS.pollIntervalMs, env: 'MICRO_REGISTRY_REDIS_POLL_INTERVAL' },
    resyncInterval: { doc: 'How often watchers rescan anyway when keyspace notifications work (a safety net)', format: 'duration', default: REDIS_REGISTRY_DEFAULTS.resyncIntervalMs, env: 'MICRO_REGISTRY_REDIS_RESYNC_INTERVAL' },
    commandTimeout: { doc: 'How long a registry call waits for a lost connection to come back, and for its reply', format: 'duration', default: REDIS_REGISTRY_DEFAULTS.commandTimeoutMs, env: 'MICRO_REGISTRY_REDIS_COMMAND_TIMEOUT' },
  },
  create: ({ options, addresses, packages }) =>
    new ContainerModule(({ rebind }) => {
      rebind(Tokens.Registry)
        .toDynamicValue(
          (context) =>
            new RedisRegistry(
              packages['ioredis'],
              {
                address: addresses[0],
                prefix: options.prefix,
                keyspaceEvents: options.keyspaceEvents,
                pollIntervalMs: options.pollInterval,
                resyncIntervalMs: options.resyncInterval,
                commandTimeoutMs: options.commandTimeout,
              },
              context.get(Tokens.Logger).child({ component: 'registry' }),
            ),
        )
        .inSingletonScope();
    }),
});
