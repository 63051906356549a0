import { ContainerModule, CORE_VERSION, definePlugin, Tokens } from '../../src/index.js';
import { connectionOptionsSchema, natsSettings, type NatsConnectionOptions } from '../shared/nats/connectionOptions.js';
import { NatsConnector, type NatsModule } from '../shared/nats/natsConnection.js';
import { NatsTransport } from './NatsTransport.js';

export interface NatsTransportPluginOptions extends NatsConnectionOptions {
  subjectPrefix: string;
  idleTimeout: number;
}

export const NATS_PACKAGE = { name: '@nats-io/transport-node', range: '^3.4.0' };

/**
 * `transport: nats`: RPC over NATS subjects instead of TCP ports. Servers listen on a subject (registered in the
 * registry as their address); clients need no network route to them, only to NATS.
 */
export default definePlugin<NatsTransportPluginOptions>({
  name: 'nats',
  kind: 'transport',
  description: 'Request/reply over NATS subjects; transport.address lists the NATS servers',
  provides: ['Transport'],
  core: `^${CORE_VERSION}`,
  packages: [NATS_PACKAGE],
  options: {
    subjectPrefix: { doc: 'Prefix of the subject a server listens on when its address is host:port (the default)', format: String, default: 'tsmicro.rpc', env: 'MICRO_TRANSPORT_NATS_SUBJECT_PREFIX' },
    idleTimeout: { doc: 'An accepted connection with no traffic for this long is closed', format: 'duration', default: 600_000, env: 'MICRO_TRANSPORT_NATS_IDLE_TIMEOUT' },
    ...connectionOptionsSchema('transport'),
  },
  create: ({ options, addresses, config, packages }) =>
    new ContainerModule(({ rebind }) => {
      rebind(Tokens.Transport)
        .toDynamicValue((context) => {
          const nats = packages[NATS_PACKAGE.name] as NatsModule;
          const logger = context.get(Tokens.Logger).child({ component: 'transport' });
          return new NatsTransport({
            nats,
            connector: new NatsConnector(nats, natsSettings(options, addresses, config), logger),
            logger,
            maxMessageSize: config.transport.maxMessageSize,
            dialTimeoutMs: config.transport.dialTimeout,
            subjectPrefix: options.subjectPrefix,
            idleTimeoutMs: options.idleTimeout,
          });
        })
        .inSingletonScope();
    }),
});
