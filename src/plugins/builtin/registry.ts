import { ContainerModule } from '#inversify';
import { fileRegistry, type FileRegistryPluginOptions } from '../../app/factories.js';
import { sharedMemoryWorld } from '../../app/memoryModule.js';
import { MemoryRegistry } from '../../registry/MemoryRegistry.js';
import { Tokens } from '../../tokens.js';
import { CORE_VERSION } from '../../version.js';
import { definePlugin } from '../PluginDefinition.js';

export const fileRegistryPlugin = definePlugin<FileRegistryPluginOptions>({
  name: 'file',
  kind: 'registry',
  description: 'Entries in a directory shared by the processes of one machine (the default); registry.address is the directory',
  provides: ['Registry'],
  core: CORE_VERSION,
  options: {
    pollInterval: { doc: 'How often watchers rescan for expired entries', format: 'duration', default: 500, env: 'MICRO_REGISTRY_FILE_POLL_INTERVAL' },
  },
  create: ({ options, config }) =>
    new ContainerModule(({ rebind }) => {
      rebind(Tokens.Registry)
        .toDynamicValue((context) => fileRegistry(context, config, options))
        .inSingletonScope();
    }),
});

export const memoryRegistryPlugin = definePlugin({
  name: 'memory',
  kind: 'registry',
  description: 'In process memory, shared by the apps of one process',
  provides: ['Registry'],
  core: CORE_VERSION,
  create: () =>
    new ContainerModule(({ rebind }) => {
      rebind(Tokens.Registry)
        .toDynamicValue(() => new MemoryRegistry(sharedMemoryWorld.registry))
        .inSingletonScope();
    }),
});
