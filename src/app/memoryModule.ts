import { ContainerModule } from '#inversify';
import { MemoryBroker } from '../broker/MemoryBroker.js';
import { SubscriberTable } from '../broker/SubscriberTable.js';
import { MemoryRegistry, MemoryRegistryStore } from '../registry/MemoryRegistry.js';
import { MemoryTransport, MemoryTransportNetwork } from '../transport/MemoryTransport.js';
import { Tokens } from '../tokens.js';

/**
 * The shared state of in-memory plugins. Apps built with one world find and call each other inside one
 * process; apps with different worlds are isolated.
 */
export class MemoryWorld {
  readonly registry = new MemoryRegistryStore();
  readonly transport = new MemoryTransportNetwork();
  readonly broker = new SubscriberTable();
}

/** The world of plugins chosen by config (`registry: memory`): every app of the process shares it. */
export const sharedMemoryWorld = new MemoryWorld();

/** Rebinds Registry, Transport and Broker to in-memory implementations on `world`. */
export function memoryModule(world: MemoryWorld = new MemoryWorld()): ContainerModule {
  return new ContainerModule(({ rebind }) => {
    rebind(Tokens.Registry)
      .toDynamicValue(() => new MemoryRegistry(world.registry))
      .inSingletonScope();
    rebind(Tokens.Transport)
      .toDynamicValue((context) => new MemoryTransport(world.transport, context.get(Tokens.Config).transport.maxMessageSize))
      .inSingletonScope();
    rebind(Tokens.Broker)
      .toDynamicValue((context) => new MemoryBroker(world.broker, { logger: context.get(Tokens.Logger).child({ component: 'broker' }) }))
      .inSingletonScope();
  });
}
