import type { Logger } from '../../src/index.js';
import { importPackage } from '../../src/plugins/packages.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import type { EtcdModule } from './connection.js';
import { EtcdRegistry, type EtcdRegistryOptions } from './EtcdRegistry.js';

/** The `etcd3` package, imported the way the plugin loader imports it for create(). */
const etcd3 = (await importPackage('etcd3', process.cwd())) as EtcdModule;

/** Test helper: an EtcdRegistry built the way the plugin's create() builds it. */
export function testRegistry(address: string, options: Partial<EtcdRegistryOptions> = {}, logger: Logger = silentLogger): EtcdRegistry {
  return new EtcdRegistry(
    etcd3,
    {
      addresses: [address],
      prefix: '/tsmicro-test/registry/',
      username: '',
      password: '',
      caFile: '',
      certFile: '',
      keyFile: '',
      dialTimeoutMs: 3000,
      requestTimeoutMs: 3000,
      reconnectMaxDelayMs: 1000,
      ...options,
    },
    logger,
  );
}
