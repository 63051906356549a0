import { ContainerModule } from '#inversify';
import { registrySelector, tcpTransport } from '../../app/factories.js';
import { sharedMemoryWorld } from '../../app/memoryModule.js';
import { MemoryTransport } from '../../transport/MemoryTransport.js';
import { Tokens } from '../../tokens.js';
import { CORE_VERSION } from '../../version.js';
import { definePlugin, type PluginDefinition } from '../PluginDefinition.js';

export const tcpTransportPlugin = definePlugin({
  name: 'tcp',
  kind: 'transport',
  description: 'Length-prefixed frames over TCP, many requests per connection (the default)',
  provides: ['Transport'],
  core: CORE_VERSION,
  create: ({ config }) =>
    new ContainerModule(({ rebind }) => {
      rebind(Tokens.Transport)
        .toDynamicValue((context) => tcpTransport(context, config))
        .inSingletonScope();
    }),
});

export const memoryTransportPlugin = definePlugin({
  name: 'memory',
  kind: 'transport',
  description: 'In process memory, shared by the apps of one process',
  provides: ['Transport'],
  core: CORE_VERSION,
  create: ({ config }) =>
    new ContainerModule(({ rebind }) => {
      rebind(Tokens.Transport)
        .toDynamicValue(() => new MemoryTransport(sharedMemoryWorld.transport, config.transport.maxMessageSize))
        .inSingletonScope();
    }),
});

function codecPlugin(name: string, contentType: string, description: string): PluginDefinition {
  return definePlugin({
    name,
    kind: 'codec',
    description,
    provides: ['Codec'],
    core: CORE_VERSION,
    create: () =>
      new ContainerModule(({ rebind }) => {
        rebind(Tokens.Codec)
          .toDynamicValue((context) => context.get(Tokens.Codecs).forContentType(contentType)!)
          .inSingletonScope();
      }),
  });
}

export const jsonCodecPlugin = codecPlugin('json', 'application/json', 'JSON (the default)');
export const msgpackCodecPlugin = codecPlugin('msgpack', 'application/msgpack', 'MessagePack');

export const registrySelectorPlugin = definePlugin({
  name: 'registry',
  kind: 'selector',
  description: 'Nodes from the cached registry, random or round-robin (selector.strategy), avoiding failing nodes (the default)',
  provides: ['Selector'],
  core: CORE_VERSION,
  create: ({ config }) =>
    new ContainerModule(({ rebind }) => {
      rebind(Tokens.Selector)
        .toDynamicValue((context) => registrySelector(context, config))
        .inSingletonScope();
    }),
});
