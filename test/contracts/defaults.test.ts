import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from '@jest/globals';
import { DirectBroker, FileRegistry, RegistryCache, TcpTransport } from '../../src/index.js';
import { silentLogger as silent } from '../../src/logger/PinoLogger.js';
import { runBrokerContract } from './brokerContract.js';
import { runRegistryContract } from './registryContract.js';
import { runTransportContract } from './transportContract.js';

const directory = mkdtempSync(join(tmpdir(), 'tsmicro-contract-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

runRegistryContract('file', { create: () => new FileRegistry({ directory: join(directory, 'registry'), pollIntervalMs: 200 }), ttlMs: 1000, expiryGraceMs: 3000 });

runTransportContract('tcp', { create: () => new TcpTransport({ maxMessageSize: 1024 * 1024 }), deadAddress: '127.0.0.1:1' });

runBrokerContract('direct (file registry + tcp)', {
  create: () => {
    const registry = new FileRegistry({ directory: join(directory, 'broker'), pollIntervalMs: 200 });
    return new DirectBroker(
      { registry: new RegistryCache(registry), transport: new TcpTransport(), logger: silent },
      { address: '127.0.0.1:0', registerTtlMs: 10_000, registerIntervalMs: 3000, deliveryTimeoutMs: 2000, maxAttempts: 5, redeliveryDelayMs: 10, drainTimeoutMs: 1000 },
    );
  },
  subscribeSettleMs: 150,
  redelivers: true,
  quietMs: 300,
});
