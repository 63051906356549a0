import * as ioredis from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { loadConfig, Tokens } from '../../src/index.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import { runRegistryContract, sampleService } from '../../test/contracts/registryContract.js';
import { TestApps } from '../../test/helpers/apps.js';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { eventually, uniqueName, within } from '../../test/helpers/eventually.js';
import { requireServer } from '../../test/servers/testServers.js';
import { Shop } from '../../test/unit/fixtures.js';
import { withExpiryEvents } from './keyspaceEvents.js';
import { parseTarget } from '../shared/redis/redisConnection.js';
import { RedisRegistry } from './RedisRegistry.js';
import { deleteKeys } from '../shared/redis/testSupport.js';

const server = await requireServer('redis');
// Every key this file writes lives under its own prefix on the shared server, and is deleted afterwards.
const prefix = `${uniqueName('tsmicro-test')}:registry:`;

server.describe('registry-redis', () => {
  const admin = new ioredis.Redis(`redis://${server.address}`, { lazyConnect: true });
  beforeAll(() => admin.connect());
  afterAll(async () => {
    await deleteKeys(admin, prefix);
    admin.disconnect();
  });

  runRegistryContract('redis', { create: () => new RedisRegistry(ioredis, { address: server.address, prefix }, silentLogger), ttlMs: 1500, expiryGraceMs: 3000 });

  const registries: RedisRegistry[] = [];
  const open = (options: Partial<ConstructorParameters<typeof RedisRegistry>[1]> = {}, logger = silentLogger): RedisRegistry => {
    const registry = new RedisRegistry(ioredis, { address: server.address, prefix, ...options }, logger);
    registries.push(registry);
    return registry;
  };
  const apps = new TestApps();
  afterEach(async () => {
    await apps.stopAll();
    await Promise.all(registries.splice(0).map((registry) => registry.close()));
  });

  it('parses addresses: host:port, URLs with a database, and the default', () => {
    expect(parseTarget('')).toMatchObject({ url: 'redis://127.0.0.1:6379', display: '127.0.0.1:6379', db: 0 });
    expect(parseTarget('10.0.0.5:6380')).toMatchObject({ display: '10.0.0.5:6380', db: 0 });
    expect(parseTarget('redis://user:secret@cache.local:7000/3')).toMatchObject({ display: 'cache.local:7000', db: 3 });
    expect(() => parseTarget('redis://cache.local/x')).toThrow(/database/);
  });

  it('adds only the keyspace flags that are missing', () => {
    expect(withExpiryEvents('')).toBe('Exe');
    expect(withExpiryEvents('Kx')).toBe('KxEe');
    expect(withExpiryEvents('AK')).toBe('AKE');
    expect(withExpiryEvents('KEA')).toBe('KEA');
  });

  it('keeps one key per node with the TTL, and removes index members whose node expired', async () => {
    const registry = open();
    const service = sampleService(uniqueName('indexed'));
    await registry.register(service, { ttlMs: 600 });
    const nodeKey = registry.keys.node(service.name, service.version, service.nodes[0]!.id);
    expect(await admin.pttl(nodeKey)).toBeGreaterThan(0);
    expect(await admin.sismember(registry.keys.index(service.name), nodeKey)).toBe(1);
    expect(await admin.sismember(registry.keys.services, service.name)).toBe(1);
    await eventually(async () => expect(await registry.getService(service.name)).toEqual([]), 5000, 100);
    expect(await admin.scard(registry.keys.index(service.name))).toBe(0);
    expect(await admin.sismember(registry.keys.services, service.name)).toBe(0);
  });

  it('ignores, and reports once, a value under the prefix that is not a node entry', async () => {
    const logger = captureLogger();
    const registry = open({}, logger);
    const service = sampleService(uniqueName('junk'));
    await registry.register(service, { ttlMs: 30_000 });
    const junkKey = registry.keys.node(service.name, '1.0.0', 'junk');
    await admin.set(junkKey, '{"not":"an entry"', 'PX', 30_000);
    await admin.sadd(registry.keys.index(service.name), junkKey);
    expect(await registry.getService(service.name)).toEqual([service]);
    expect(await registry.getService(service.name)).toEqual([service]);
    expect(logger.lines.filter((line) => line.message.includes('not a valid node entry'))).toHaveLength(1);
  });

  it('a watch survives junk on the changes channel and goes on reporting changes', async () => {
    const logger = captureLogger();
    const registry = open({}, logger);
    const service = sampleService(uniqueName('noisy'));
    const watcher = await registry.watch({ service: service.name });
    try {
      await admin.publish(registry.keys.changes, 'this is not json');
      await admin.publish(registry.keys.changes, Buffer.from([0xff, 0x00, 0x13]));
      await open().register(service, { ttlMs: 30_000 });
      const created = await within(watcher.next(), 5000, 'a create');
      expect(created.action).toBe('create');
      expect(logger.lines.some((line) => line.message.includes('unreadable message on the changes channel'))).toBe(true);
    } finally {
      watcher.stop();
    }
  });

  it('a registration without a TTL stays until deregistered', async () => {
    const registry = open();
    const service = sampleService(uniqueName('forever'));
    await registry.register(service);
    expect(await admin.pttl(registry.keys.node(service.name, service.version, service.nodes[0]!.id))).toBe(-1);
    await registry.deregister(service);
    expect(await registry.getService(service.name)).toEqual([]);
  });

  it('fails a call with a clear 503 when Redis cannot be reached', async () => {
    const registry = open({ address: '127.0.0.1:1', commandTimeoutMs: 300 });
    await expect(registry.getService('anything')).rejects.toMatchObject({ code: 503, detail: expect.stringMatching(/not reachable/) });
  });

  it('is chosen by environment variables, with its options', async () => {
    const { plugins } = await loadConfig({
      env: { MICRO_REGISTRY: 'redis', MICRO_REGISTRY_ADDRESS: server.address, MICRO_REGISTRY_REDIS_PREFIX: 'app:', MICRO_REGISTRY_REDIS_KEYSPACE_EVENTS: 'existing', MICRO_REGISTRY_REDIS_POLL_INTERVAL: '2s' },
      argv: [],
    });
    const registry = plugins.find((plugin) => plugin.kind === 'registry')!;
    expect(registry.origin).toBe('modules/registry-redis');
    expect(registry.options).toEqual({ prefix: 'app:', keyspaceEvents: 'existing', pollInterval: 2000, resyncInterval: 30_000, commandTimeout: 5000 });
    await expect(loadConfig({ env: { MICRO_REGISTRY: 'redis', MICRO_REGISTRY_REDIS_KEYSPACE_EVENTS: 'sometimes' }, argv: [] })).rejects.toThrow(/keyspaceEvents/);
  });

  it('chosen by config, lets a client find and call a decorated service', async () => {
    const registry = { plugin: 'redis', address: server.address, options: { prefix } };
    const shop = await apps.started({ services: [Shop], memory: false, config: { registry } });
    expect(shop.get(Tokens.Registry).name).toBe('redis');
    const client = await apps.started({ memory: false, config: { registry } });
    await expect(client.client.call('shop', 'Shop.place', { item: 'tea', quantity: 2 })).resolves.toMatchObject({ accepted: 'tea', quantity: 2 });
    const found = await client.get(Tokens.Registry).getService('shop');
    expect(found.flatMap((service) => service.nodes.map((node) => node.address))).toContain(shop.servers[0]!.address);
    await shop.stop();
    await eventually(async () => expect(await client.get(Tokens.Registry).getService('shop')).toEqual([]));
  });
});
