import { ContainerModule, CORE_VERSION, definePlugin, Tokens } from '../../src/index.js';
import type { EtcdModule } from './connection.js';
import { ETCD_DEFAULT_PREFIX, EtcdRegistry } from './EtcdRegistry.js';

export interface EtcdRegistryPluginOptions {
  prefix: string;
  username: string;
  password: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  dialTimeout: number;
  requestTimeout: number;
  reconnectMaxDelay: number;
}

/**
 * `registry: etcd`: service discovery in etcd v3 (tested with etcd 3.4). `registry.address` lists the cluster's
 * client URLs (`host:port` or `http(s)://host:port`, comma-separated; 127.0.0.1:2379 when empty). The `etcd3`
 * package is imported by the plugin loader only when this plugin is chosen.
 */
export default definePlugin<EtcdRegistryPluginOptions>({
  name: 'etcd',
  kind: 'registry',
  description: 'etcd v3: one key per node on a lease with the register TTL, prefix watches',
  provides: ['Registry'],
  core: `^${CORE_VERSION}`,
  packages: [{ name: 'etcd3', range: '^1.1.2' }],
  options: {
    prefix: { doc: 'Key prefix of the registry (must end with "/")', format: String, default: ETCD_DEFAULT_PREFIX, env: 'MICRO_REGISTRY_ETCD_PREFIX' },
    username: { doc: 'etcd user (etcd authentication)', format: String, default: '', env: 'MICRO_REGISTRY_ETCD_USERNAME' },
    password: { doc: 'etcd password', format: String, default: '', env: 'MICRO_REGISTRY_ETCD_PASSWORD', sensitive: true },
    caFile: { doc: 'PEM CA file; when set, bare host:port addresses use https', format: String, default: '', env: 'MICRO_REGISTRY_ETCD_CA_FILE' },
    certFile: { doc: 'PEM client certificate file (mutual TLS)', format: String, default: '', env: 'MICRO_REGISTRY_ETCD_CERT_FILE' },
    keyFile: { doc: 'PEM client key file (mutual TLS)', format: String, default: '', env: 'MICRO_REGISTRY_ETCD_KEY_FILE' },
    dialTimeout: { doc: 'How long connecting to etcd may take', format: 'duration', default: 5000, env: 'MICRO_REGISTRY_ETCD_DIAL_TIMEOUT' },
    requestTimeout: { doc: 'Deadline of each etcd request (reads, writes, lease renewals)', format: 'duration', default: 5000, env: 'MICRO_REGISTRY_ETCD_REQUEST_TIMEOUT' },
    reconnectMaxDelay: { doc: 'Longest wait between attempts to reconnect a broken watch or connection', format: 'duration', default: 2000, env: 'MICRO_REGISTRY_ETCD_RECONNECT_MAX_DELAY' },
  },
  create: ({ options, addresses, packages }) =>
    new ContainerModule(({ rebind }) => {
      rebind(Tokens.Registry)
        .toDynamicValue(
          (context) =>
            new EtcdRegistry(
              packages['etcd3'] as EtcdModule,
              {
                addresses,
                prefix: options.prefix,
                username: options.username,
                password: options.password,
                caFile: options.caFile,
                certFile: options.certFile,
                keyFile: options.keyFile,
                dialTimeoutMs: options.dialTimeout,
                requestTimeoutMs: options.requestTimeout,
                reconnectMaxDelayMs: options.reconnectMaxDelay,
              },
              context.get(Tokens.Logger).child({ component: 'registry' }),
            ),
        )
        .inSingletonScope();
    }),
});
