import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { loadConfig, type LoadedConfig } from '../../src/index.js';
import { ProjectDir } from '../helpers/projectDir.js';

const valueOf = (loaded: LoadedConfig, key: string) => loaded.values.find((value) => value.key === key);

describe('config sources, later wins', () => {
  let project: ProjectDir;
  beforeEach(() => {
    project = new ProjectDir();
    project.write('config/default.json', {
      service: { name: 'from-default', version: 'v-default', metadata: { tier: 'default' } },
      client: { retries: 2, requestTimeout: '2s', poolSize: 2 },
      server: { registerTtl: '40s', registerInterval: '5s', drainTimeout: '3s' },
      logger: { level: 'warn' },
    });
    project.write('config/production.yaml', 'service:\n  version: v-production\nclient:\n  requestTimeout: 3s\n  poolSize: 3\nregistry: memory\n');
    project.write('custom.json', { client: { poolSize: 4 }, server: { drainTimeout: '4s' } });
  });
  afterEach(() => project.remove());

  it('defaults → code → config/default → config/<NODE_ENV> → --config file → env → flags', async () => {
    const loaded = await loadConfig({
      cwd: project.path,
      overrides: { service: { address: '127.0.0.1:7000', name: 'from-code' }, logger: { format: 'pretty' } },
      env: { NODE_ENV: 'production', MICRO_CONFIG: 'custom.json', MICRO_CLIENT_POOL_SIZE: '5', MICRO_REGISTER_TTL: '50s', MICRO_LOG_LEVEL: 'error' },
      argv: ['--client_pool_size', '6', '--log_level=debug'],
    });
    const { config } = loaded;
    expect(config.transport.plugin).toBe('tcp');
    expect(valueOf(loaded, 'transport.plugin')!.source).toBe('default');
    expect(config.logger.format).toBe('pretty');
    expect(valueOf(loaded, 'logger.format')!.source).toBe('code');
    expect(config.service.address).toBe('127.0.0.1:7000');
    expect(config.service.name).toBe('from-default');
    expect(valueOf(loaded, 'service.name')!.source).toBe(`file ${project.path}/config/default.json`);
    expect(config.service.version).toBe('v-production');
    expect(valueOf(loaded, 'service.version')!.source).toBe(`file ${project.path}/config/production.yaml`);
    expect(config.client.requestTimeout).toBe(3000);
    expect(config.registry.plugin).toBe('memory');
    expect(config.server.drainTimeout).toBe(4000);
    expect(valueOf(loaded, 'server.drainTimeout')!.source).toBe(`file ${project.path}/custom.json`);
    expect(config.server.registerTtl).toBe(50_000);
    expect(valueOf(loaded, 'server.registerTtl')!.source).toBe('env MICRO_REGISTER_TTL');
    expect(config.client.poolSize).toBe(6);
    expect(valueOf(loaded, 'client.poolSize')!.source).toBe('flag --client_pool_size');
    expect(config.logger.level).toBe('debug');
    expect(config.client.retries).toBe(2);
    expect(config.service.metadata).toEqual({ tier: 'default' });
  });

  it('--config names the file too, and beats MICRO_CONFIG', async () => {
    project.write('other.yml', 'client:\n  poolSize: 9\n');
    const { config } = await loadConfig({ cwd: project.path, env: { MICRO_CONFIG: 'custom.json' }, argv: ['--config', 'other.yml'] });
    expect(config.client.poolSize).toBe(9);
  });

  it('without NODE_ENV only config/default is read', async () => {
    const { config } = await loadConfig({ cwd: project.path, env: {}, argv: [] });
    expect(config.service.version).toBe('v-default');
    expect(config.registry.plugin).toBe('file');
  });

  it('reads go-micro env names and flags for plugins and addresses', async () => {
    const { config, plugins } = await loadConfig({ cwd: project.path, env: { MICRO_REGISTRY: 'memory', MICRO_BROKER: 'memory', MICRO_SERVER_NAME: 'envy', MICRO_SERVER_METADATA: 'a=1,b=2' }, argv: ['--transport', 'memory', '--registry_address', '/tmp/x'] });
    expect([config.registry.plugin, config.broker.plugin, config.transport.plugin]).toEqual(['memory', 'memory', 'memory']);
    expect(config.registry.address).toBe('/tmp/x');
    expect(config.service.name).toBe('envy');
    expect(config.service.metadata).toEqual({ a: '1', b: '2' });
    expect(plugins.map((plugin) => `${plugin.kind}:${plugin.name}:${plugin.origin}`)).toEqual(['registry:memory:built-in', 'broker:memory:built-in', 'transport:memory:built-in', 'codec:json:built-in', 'selector:registry:built-in']);
  });

  it('is frozen', async () => {
    const { config } = await loadConfig({ cwd: project.path, env: {}, argv: [] });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.client)).toBe(true);
    expect(() => {
      (config.client as { retries: number }).retries = 9;
    }).toThrow(TypeError);
  });

  it('takes plugin options from files and from the env names the plugin declares', async () => {
    project.write('config/default.json', { broker: { plugin: 'direct', options: { maxAttempts: 7 } } });
    const { config, plugins } = await loadConfig({ cwd: project.path, env: { MICRO_BROKER_DELIVERY_TIMEOUT: '750ms' }, argv: [] });
    expect(config.broker.options).toEqual({ deliveryTimeout: 750, maxAttempts: 7, redeliveryDelay: 50 });
    expect(plugins.find((plugin) => plugin.kind === 'broker')!.options).toEqual({ deliveryTimeout: 750, maxAttempts: 7, redeliveryDelay: 50 });
  });
});
