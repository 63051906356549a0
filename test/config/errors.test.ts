import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { App, ConfigError, loadConfig, type LoadConfigOptions } from '../../src/index.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import { missingPackage } from '../../src/pluginKit.js';
import { pluginProject, registryPluginSource } from '../helpers/pluginFixtures.js';
import type { ProjectDir } from '../helpers/projectDir.js';
import { Shop } from '../unit/fixtures.js';

describe('config errors, before anything starts', () => {
  let project: ProjectDir;
  beforeEach(() => {
    project = pluginProject();
  });
  afterEach(() => project.remove());

  const load = (options: Partial<LoadConfigOptions> = {}) => loadConfig({ cwd: project.path, env: {}, argv: [], ...options });
  const failure = async (promise: Promise<unknown>): Promise<ConfigError> => {
    try {
      await promise;
    } catch (error) {
      if (ConfigError.is(error)) return error;
      throw error;
    }
    throw new Error('expected a ConfigError');
  };

  it('an unknown plugin name lists the known ones and the closest match', async () => {
    const error = await failure(load({ env: { MICRO_REGISTRY: 'memroy' } }));
    expect(error.code).toBe('PLUGIN_UNKNOWN');
    expect(error.message).toBe('unknown registry plugin "memroy" (from env MICRO_REGISTRY); did you mean "memory"? Known registry plugins: consul, etcd, file, kubernetes, memory, nats, redis');
    const far = await failure(load({ argv: ['--broker', 'zzzzzz'] }));
    expect(far.message).toBe('unknown broker plugin "zzzzzz" (from flag --broker). Known broker plugins: direct, kafka, memory, mqtt, nats, rabbitmq, redis');
  });

  it('a plugin whose npm package is missing names the package and the install command', async () => {
    project.write('plugins/needy.mjs', registryPluginSource({ name: 'needy', packages: [{ name: 'tsmicro-absent-package', range: '^1.2.0' }] }));
    const error = await failure(load({ overrides: { registry: './plugins/needy.mjs' } }));
    expect(error.code).toBe('PLUGIN_PACKAGE_MISSING');
    expect(error.message).toBe('registry plugin "needy" needs the npm package "tsmicro-absent-package", which is not installed; install it with: npm install tsmicro-absent-package@^1.2.0');
  });

  it('a missing optional package does not stop its plugin; an option that needs it names it', async () => {
    project.write('plugins/optional.mjs', registryPluginSource({ name: 'optional', packages: [{ name: 'tsmicro-absent-optional', range: '^2.0.0', optional: true }] }));
    const loaded = await load({ overrides: { registry: './plugins/optional.mjs' } });
    expect(loaded.plugins[0]!.packages).toEqual({});
    const error = missingPackage(loaded.plugins[0]!.definition, 'jetstream', { name: 'tsmicro-absent-optional', range: '^2.0.0', optional: true });
    expect(error.message).toBe('registry plugin "optional" needs the npm package "tsmicro-absent-optional" for the option jetstream, which is not installed; install it with: npm install tsmicro-absent-optional@^2.0.0');
  });

  it('a value of the wrong type names the key, the value, its source and what is expected', async () => {
    project.write('config/default.json', { client: { retries: 'lots' } });
    const fromFile = await failure(load());
    expect(fromFile.code).toBe('CONFIG_INVALID_VALUE');
    expect(fromFile.message).toBe(`config value client.retries = "lots" (from file ${project.path}/config/default.json) is invalid: must be a whole number of 0 or more`);
    project.write('config/default.json', {});
    const fromEnv = await failure(load({ env: { MICRO_REGISTER_TTL: 'soon' } }));
    expect(fromEnv.message).toBe('config value server.registerTtl = "soon" (from env MICRO_REGISTER_TTL) is invalid: must be a duration such as 500ms, 5s, 1m, or a number of milliseconds');
    const fromFlag = await failure(load({ argv: ['--log_level', 'loud'] }));
    expect(fromFlag.message).toBe('config value logger.level = "loud" (from flag --log_level) is invalid: must be one of the possible values: ["trace","debug","info","warn","error","fatal","silent"]');
    const address = await failure(load({ env: { MICRO_SERVER_ADDRESS: 'local host' } }));
    expect(address.message).toBe('config value service.address = "local host" (from env MICRO_SERVER_ADDRESS) is invalid: must be host:port (or, for a broker-based transport, a subject or queue name) without spaces');
  });

  it('a bad plugin option names the key under the plugin', async () => {
    const error = await failure(load({ overrides: { selector: { plugin: 'static', options: { port: 'eighty' } } } }));
    expect(error.message).toBe('config value selector.options.port = "eighty" (from code) is invalid: ports must be within range 0 - 65535');
  });

  it('an unknown key in a file is an error naming it, with a suggestion', async () => {
    project.write('config/default.yaml', 'servce:\n  name: typo\n');
    const error = await failure(load());
    expect(error.code).toBe('CONFIG_UNKNOWN_KEY');
    expect(error.message).toBe(`unknown config key "servce" in file ${project.path}/config/default.yaml; did you mean "service"?`);
    project.write('config/default.yaml', 'registry:\n  plugin: file\n  options:\n    pollIntervall: 1s\n');
    expect((await failure(load())).message).toBe(`unknown config key "registry.options.pollIntervall" in file ${project.path}/config/default.yaml; did you mean "registry.options.pollInterval"?`);
  });

  it('a plugin for another core version, of another kind, or not a plugin at all is refused', async () => {
    project.write('plugins/future.mjs', registryPluginSource({ name: 'future', core: '^9.0.0' }));
    expect((await failure(load({ overrides: { registry: './plugins/future.mjs' } }))).message).toBe(
      `registry plugin "./plugins/future.mjs" (${project.path}/plugins/future.mjs) supports tsmicro ^9.0.0, but this is tsmicro 0.1.0; use a plugin version made for 0.1.0`,
    );
    project.write('plugins/broker.mjs', registryPluginSource({ name: 'sneaky', kind: 'broker', provides: ['Broker'] }));
    expect((await failure(load({ overrides: { registry: './plugins/broker.mjs' } }))).message).toMatch(/is a broker plugin named "sneaky", not a registry plugin$/);
    project.write('plugins/hollow.mjs', registryPluginSource({ name: 'hollow', provides: [] }));
    expect((await failure(load({ overrides: { registry: './plugins/hollow.mjs' } }))).message).toMatch(/does not provide the Registry token \(it provides: nothing\)$/);
    project.write('plugins/plain.mjs', registryPluginSource({ name: 'plain', notAPlugin: true }));
    expect((await failure(load({ overrides: { registry: './plugins/plain.mjs' } }))).message).toBe(`the module at ${project.path}/plugins/plain.mjs is not a tsmicro plugin: its default export was not made with definePlugin()`);
    expect((await failure(load({ overrides: { registry: './plugins/missing.mjs' } }))).message).toBe(`registry plugin file ${project.path}/plugins/missing.mjs (from code) does not exist`);
  });

  it('an unreadable or missing config file is named', async () => {
    project.write('config/default.json', '{ "client": ');
    expect((await failure(load())).message).toMatch(new RegExp(`^config file ${project.path}/config/default.json cannot be parsed: `));
    project.remove();
    project = pluginProject();
    expect((await failure(load({ env: { MICRO_CONFIG: 'nowhere.yaml' } }))).message).toBe(`cannot read config file ${project.path}/nowhere.yaml: ENOENT`);
  });

  it('bindings must name a pluggable token', async () => {
    const error = await failure(load({ overrides: { bindings: { Codek: 'msgpack' } } }));
    expect(error.message).toBe('bindings.Codek (from code) names no pluggable token; did you mean "Codec"?; pluggable tokens: Registry, Broker, Transport, Codec, Selector');
  });

  it('App.create fails with nothing started: no registration written, no port opened', async () => {
    const directory = join(project.path, 'registry');
    await expect(App.create({ services: [Shop], logger: silentLogger, config: { registry: { address: directory } }, sources: { cwd: project.path, env: { MICRO_TRANSPORT: 'carrier-pigeon' }, argv: [] } })).rejects.toThrow(
      /^unknown transport plugin "carrier-pigeon"/,
    );
    expect(() => readdirSync(directory)).toThrow(/ENOENT/);
  });
});
