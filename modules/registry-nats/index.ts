import { ContainerModule, CORE_VERSION, definePlugin, Tokens } from '../../src/index.js';
import { connectionOptionsSchema, natsSettings, type NatsConnectionOptions } from '../shared/nats/connectionOptions.js';
import { NatsConnector, type NatsModule } from '../shared/nats/natsConnection.js';
import { NatsRegistry } from './NatsRegistry.js';

export interface NatsRegistryPluginOptions extends NatsConnectionOptions {
  prefix: string;
  queryTimeout: number;
  querySettle: number;
}

const NATS_PACKAGE = { name: '@nats-io/transport-node', range: '^3.4.0' };

/**
 * `registry: nats`: discovery over NATS subjects with no store, as go-micro's NATS registry: processes answer
 * queries for their own nodes and announce changes to watchers.
 */
export default definePlugin<NatsRegistryPluginOptions>({
  name: 'nats',
  kind: 'registry',
  description: 'Nodes announced and queried over NATS subjects (no store); registry.address lists the NATS servers',
  provides: ['Registry'],
  core: `^${CORE_VERSION}`,
  packages: [NATS_PACKAGE],
  options: {
    prefix: { doc: 'Subject prefix: queries go to <prefix>.query, announcements to <prefix>.watch', format: String, default: 'tsmicro.registry', env: 'MICRO_REGISTRY_NATS_PREFIX' },
    queryTimeout: { doc: 'Longest a lookup waits for the other processes to answer', format: 'duration', default: 1000, env: 'MICRO_REGISTRY_NATS_QUERY_TIMEOUT' },
    querySettle: { doc: 'After every known process answered, how long a lookup waits for unknown ones', format: 'duration', default: 50, env: 'MICRO_REGISTRY_NATS_QUERY_SETTLE' },
    ...connectionOptionsSchema('registry'),
  },
  create: ({ options, addresses, config, packages }) =>
    new ContainerModule(({ rebind }) => {
      rebind(Tokens.Registry)
        .toDynamicValue((context) => {
          const nats = packages[NATS_PACKAGE.name] as NatsModule;
          const logger = context.get(Tokens.Logger).child({ component: 'registry' });
          return new NatsRegistry({
            nats,
            connector: new NatsConnector(nats, natsSettings(options, addresses, config), logger),
            logger,
            prefix: options.prefix,
            queryTimeoutMs: options.queryTimeout,
            querySettleMs: options.querySettle,
            confirmTimeoutMs: options.connectTimeout,
          });
        })
        .inSingletonScope();
    }),
});
