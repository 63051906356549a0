import type { PluginDefinition, PluginKind } from '../PluginDefinition.js';
import { directBrokerPlugin, memoryBrokerPlugin } from './broker.js';
import { fileRegistryPlugin, memoryRegistryPlugin } from './registry.js';
import { jsonCodecPlugin, memoryTransportPlugin, msgpackCodecPlugin, registrySelectorPlugin, tcpTransportPlugin } from './transportCodecSelector.js';

/** Plugins that ship inside the core: the defaults (so their options are configurable) and the in-memory ones. */
export const BUILTIN_PLUGINS: readonly PluginDefinition<never>[] = [
  fileRegistryPlugin,
  memoryRegistryPlugin,
  directBrokerPlugin,
  memoryBrokerPlugin,
  tcpTransportPlugin,
  memoryTransportPlugin,
  jsonCodecPlugin,
  msgpackCodecPlugin,
  registrySelectorPlugin,
] as PluginDefinition<never>[];

export function builtinPlugin(kind: PluginKind, name: string): PluginDefinition<never> | undefined {
  return BUILTIN_PLUGINS.find((plugin) => plugin.kind === kind && plugin.name === name);
}
