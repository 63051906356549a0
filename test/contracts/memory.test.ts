import { MemoryBroker, MemoryRegistry, MemoryRegistryStore, MemoryTransport, MemoryTransportNetwork, SubscriberTable } from '../../src/index.js';
import { runBrokerContract } from './brokerContract.js';
import { runRegistryContract } from './registryContract.js';
import { runTransportContract } from './transportContract.js';

const store = new MemoryRegistryStore();
runRegistryContract('memory', { create: () => new MemoryRegistry(store), ttlMs: 600, expiryGraceMs: 1500 });

const network = new MemoryTransportNetwork();
runTransportContract('memory', { create: () => new MemoryTransport(network, 256 * 1024), deadAddress: 'memory:nobody' });

const table = new SubscriberTable();
runBrokerContract('memory', { create: () => new MemoryBroker(table, { redeliveryDelayMs: 5 }), redelivers: true, quietMs: 150 });
