import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ProjectDir } from './projectDir.js';

/**
 * Projects for plugin-loading tests live under test-artifacts/ inside the repository, so the plugin files they
 * hold resolve `inversify` the way an installed plugin would. Plugins import tsmicro from the compiled dist/,
 * as a third-party plugin imports the published package.
 */
export function pluginProject(): ProjectDir {
  return new ProjectDir(join(process.cwd(), 'test-artifacts'));
}

const TSMICRO = pathToFileURL(join(process.cwd(), 'dist', 'src', 'index.js')).href;

export interface FixturePlugin {
  name: string;
  kind?: string;
  core?: string;
  provides?: string[];
  packages?: { name: string; range: string; optional?: boolean }[];
  /** `export default` something other than a plugin. */
  notAPlugin?: boolean;
}

/** A registry plugin whose registry reports `name` as its name, so a test can see which binding won. */
export function registryPluginSource(plugin: FixturePlugin): string {
  if (plugin.notAPlugin) return `export default { name: ${JSON.stringify(plugin.name)} };\n`;
  return `import { ContainerModule } from 'inversify';
import { definePlugin, MemoryRegistry } from '${TSMICRO}';

class NamedRegistry extends MemoryRegistry {
  constructor(name) {
    super();
    this.name = name;
  }
}

export default definePlugin({
  name: ${JSON.stringify(plugin.name)},
  kind: ${JSON.stringify(plugin.kind ?? 'registry')},
  description: 'test fixture',
  provides: ${JSON.stringify(plugin.provides ?? ['Registry'])},
  core: ${JSON.stringify(plugin.core ?? '^0.1.0')},
  packages: ${JSON.stringify(plugin.packages ?? [])},
  options: { label: { doc: 'name the registry reports', format: String, default: ${JSON.stringify(plugin.name)} } },
  create: ({ options }) =>
    new ContainerModule(({ rebind }) => {
      rebind(Symbol.for('tsmicro.Registry')).toConstantValue(new NamedRegistry(options.label));
    }),
});
`;
}

/** A wrapper plugin that tags every reply handled with its `label` option, to see list plugins load with options. */
export function wrapperPluginSource(name: string): string {
  return `import { ContainerModule } from 'inversify';
import { definePlugin } from '${TSMICRO}';

export default definePlugin({
  name: ${JSON.stringify(name)},
  kind: 'wrapper',
  description: 'test fixture',
  provides: ['HandlerWrapper'],
  core: '^0.1.0',
  options: { label: { doc: 'added to replies', format: String, default: 'none' } },
  create: ({ options }) =>
    new ContainerModule(({ bind }) => {
      bind(Symbol.for('tsmicro.HandlerWrapper')).toConstantValue((next) => async (payload, context) => ({ reply: await next(payload, context), label: options.label }));
    }),
});
`;
}
