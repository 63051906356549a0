import { ContainerModule, CORE_VERSION, definePlugin, Tokens } from '../../src/index.js';
import { ConsulClient } from './ConsulClient.js';
import { ConsulRegistry } from './ConsulRegistry.js';

export interface ConsulPluginOptions {
  httpAddr: string;
  token: string;
  datacenter: string;
  tls: boolean;
  caFile: string;
  certFile: string;
  keyFile: string;
  insecureSkipVerify: boolean;
  allowStale: boolean;
  watchWait: number;
  timeout: number;
}

/**
 * `registry: consul`: the Consul agent HTTP API, with go-micro's tag encoding. It talks HTTP(S) with Node's own
 * client, so it needs no npm package. Env names follow Consul's CLI where Consul has one.
 */
export default definePlugin<ConsulPluginOptions>({
  name: 'consul',
  kind: 'registry',
  description: 'Consul agent: TTL checks, health queries, blocking-query watches; go-micro compatible tags',
  provides: ['Registry'],
  core: `^${CORE_VERSION}`,
  options: {
    httpAddr: { doc: 'Agent address when registry.address is empty', format: String, default: '127.0.0.1:8500', env: 'CONSUL_HTTP_ADDR' },
    token: { doc: 'ACL token', format: String, default: '', env: 'CONSUL_HTTP_TOKEN', sensitive: true },
    datacenter: { doc: 'Datacenter to query and register in (the agent’s own when empty)', format: String, default: '', env: 'MICRO_REGISTRY_CONSUL_DATACENTER' },
    tls: { doc: 'Use HTTPS', format: Boolean, default: false, env: 'CONSUL_HTTP_SSL' },
    caFile: { doc: 'CA certificate (PEM) to verify the agent with', format: String, default: '', env: 'CONSUL_CACERT' },
    certFile: { doc: 'Client certificate (PEM), for mutual TLS', format: String, default: '', env: 'CONSUL_CLIENT_CERT' },
    keyFile: { doc: 'Client key (PEM), for mutual TLS', format: String, default: '', env: 'CONSUL_CLIENT_KEY' },
    insecureSkipVerify: { doc: 'Do not verify the agent certificate (testing only)', format: Boolean, default: false, env: 'MICRO_REGISTRY_CONSUL_INSECURE' },
    allowStale: { doc: 'Read from any server, possibly slightly behind (go-micro default)', format: Boolean, default: true, env: 'MICRO_REGISTRY_CONSUL_ALLOW_STALE' },
    watchWait: { doc: 'How long a blocking query waits before it is repeated', format: 'duration', default: 60_000, env: 'MICRO_REGISTRY_CONSUL_WATCH_WAIT' },
    timeout: { doc: 'Timeout of ordinary requests', format: 'duration', default: 5000, env: 'MICRO_REGISTRY_CONSUL_TIMEOUT' },
  },
  create: ({ options, addresses }) =>
    new ContainerModule(({ rebind }) => {
      rebind(Tokens.Registry)
        .toDynamicValue((context) => {
          const client = new ConsulClient({ ...options, address: addresses[0] ?? options.httpAddr, timeoutMs: options.timeout });
          return new ConsulRegistry(client, { allowStale: options.allowStale, watchWaitMs: options.watchWait }, context.get(Tokens.Logger).child({ component: 'registry', registry: 'consul' }));
        })
        .inSingletonScope();
    }),
});
