import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../src/index.js';
import { pluginProject, registryPluginSource } from '../helpers/pluginFixtures.js';
import type { ProjectDir } from '../helpers/projectDir.js';

/**
 * The core range a plugin states is checked with semver, which is loaded only for ranges other than this core's
 * own version and `^` it (what the built-ins and modules/ state): every other range is still checked in full.
 */
describe('a plugin core range', () => {
  let project: ProjectDir;
  beforeEach(() => {
    project = pluginProject();
  });
  afterEach(() => project.remove());

  // One file per range: an imported module stays cached under its URL.
  let written = 0;
  const loadWith = async (core: string) => {
    const file = `./plugins/ranged-${++written}.mjs`;
    project.write(file, registryPluginSource({ name: 'ranged', core }));
    return { file, loaded: await loadConfig({ cwd: project.path, env: {}, argv: [], overrides: { registry: file } }) };
  };
  const failure = (promise: Promise<unknown>): Promise<ConfigError> =>
    promise.then(
      () => {
        throw new Error('expected a ConfigError');
      },
      (error: unknown) => {
        if (ConfigError.is(error)) return error;
        throw error;
      },
    );

  it('accepts the exact version, ^ it, and any other range this core satisfies', async () => {
    for (const core of ['0.1.0', '^0.1.0', '>=0.1.0 <1', '0.x || 1.x', '~0.1']) {
      const { file, loaded } = await loadWith(core);
      expect(loaded.plugins.find((plugin) => plugin.kind === 'registry')!.name).toBe(file);
    }
  });

  it('refuses a range this core does not satisfy, and one that is not a range at all', async () => {
    expect((await failure(loadWith('>=0.2.0'))).code).toBe('PLUGIN_INCOMPATIBLE');
    const invalid = await failure(loadWith('soon'));
    expect([invalid.code, invalid.message]).toEqual(['PLUGIN_INVALID', `registry plugin "./plugins/ranged-${written}.mjs" (${project.path}/plugins/ranged-${written}.mjs) declares an invalid core version range "soon"`]);
  });
});
