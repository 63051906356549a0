import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ContainerModule, inject } from 'inversify';
import { Handler, MemoryRegistry, Service, Tokens, type Registry } from '../../src/index.js';
import { TestApps } from '../helpers/apps.js';
import { pluginProject, registryPluginSource, wrapperPluginSource } from '../helpers/pluginFixtures.js';
import type { ProjectDir } from '../helpers/projectDir.js';

/** Decorated at import time, long before any config says which registry to use. */
@Service({ name: 'inspector' })
class Inspector {
  constructor(@inject(Tokens.Registry) readonly registry: Registry) {}

  @Handler()
  async registryName(): Promise<string> {
    return this.registry.name;
  }
}

describe('plugin modules chosen by config', () => {
  const apps = new TestApps();
  let project: ProjectDir;
  beforeEach(() => {
    project = pluginProject();
  });
  afterEach(async () => {
    await apps.stopAll();
    project.remove();
  });

  const create = (config: object, extra: { modules?: ContainerModule[]; env?: NodeJS.ProcessEnv } = {}) =>
    apps.create({ memory: false, services: [Inspector], config, modules: extra.modules, sources: { cwd: project.path, env: extra.env ?? {}, argv: [] } });

  it('loads one from modules/ by name', async () => {
    const app = await create({ selector: 'static' });
    expect(app.get(Tokens.Selector).name).toBe('static');
    expect(app.loaded.plugins.find((plugin) => plugin.kind === 'selector')!.origin).toBe('modules/selector-static');
  });

  it('loads one from a path, and a decorated class sees the token it rebinds', async () => {
    project.write('plugins/tagged.mjs', registryPluginSource({ name: 'tagged' }));
    const app = await create({ registry: { plugin: './plugins/tagged.mjs', options: { label: 'from-path' } } });
    expect(app.get(Inspector).registry.name).toBe('from-path');
    expect(app.get(Tokens.Registry)).toBe(app.get(Inspector).registry);
    expect(app.loaded.plugins[0]!.origin).toBe(`${project.path}/plugins/tagged.mjs`);
  });

  it('loads one from an installed package, by its short name', async () => {
    project.write('node_modules/tsmicro-registry-packaged/package.json', { name: 'tsmicro-registry-packaged', type: 'module', exports: { '.': { import: './index.js' } } });
    project.write('node_modules/tsmicro-registry-packaged/index.js', registryPluginSource({ name: 'packaged' }));
    const app = await create({}, { env: { MICRO_REGISTRY: 'packaged' } });
    expect(app.get(Inspector).registry.name).toBe('packaged');
    expect(app.loaded.plugins[0]!.origin).toBe('package tsmicro-registry-packaged');
  });

  it('lets a module passed in code win over the plugin config chose', async () => {
    project.write('plugins/tagged.mjs', registryPluginSource({ name: 'tagged' }));
    const mine = new MemoryRegistry();
    const fromCode = new ContainerModule(({ rebind }) => void rebind(Tokens.Registry).toConstantValue(mine));
    const app = await create({ registry: './plugins/tagged.mjs' }, { modules: [fromCode] });
    expect(app.get(Inspector).registry).toBe(mine);
  });

  it('points a token at a named implementation through bindings', async () => {
    const app = await create({ bindings: { Codec: 'msgpack' } });
    expect(app.get(Tokens.Codec).name).toBe('msgpack');
  });

  it('loads the plugins a list names (wrappers), each with its options under the list section', async () => {
    project.write('plugins/tagger.mjs', wrapperPluginSource('tagger'));
    const sources = { cwd: project.path, env: { MICRO_WRAPPERS: './plugins/tagger.mjs' }, argv: [] };
    const server = await apps.started({ services: [Inspector], config: { wrappers: { tagger: { label: 'wrapped' } } }, sources });
    expect(server.loaded.plugins.find((plugin) => plugin.kind === 'wrapper')).toMatchObject({ name: './plugins/tagger.mjs', optionsPath: 'wrappers.tagger', options: { label: 'wrapped' } });
    const client = await apps.started({ sources: { cwd: project.path, env: {}, argv: [] } });
    await expect(client.client.call('inspector', 'Inspector.registryName', {})).resolves.toEqual({ reply: 'memory', label: 'wrapped' });
  });

  it('a call through the app reaches the plugin-bound registry', async () => {
    project.write('plugins/tagged.mjs', registryPluginSource({ name: 'tagged' }));
    const app = await apps.started({ services: [Inspector], memory: false, config: { registry: './plugins/tagged.mjs', transport: 'memory', broker: 'memory' }, sources: { cwd: project.path, env: {}, argv: [] } });
    const client = await apps.started({ memory: false, modules: [new ContainerModule(({ rebind }) => void rebind(Tokens.Registry).toConstantValue(app.get(Tokens.Registry)))], config: { transport: 'memory', broker: 'memory' }, sources: { cwd: project.path, env: {}, argv: [] } });
    await expect(client.client.call('inspector', 'Inspector.registryName', {})).resolves.toBe('tagged');
  });
});
