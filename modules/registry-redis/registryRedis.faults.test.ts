import * as ioredis from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import type { WatchResult, Watcher } from '../../src/index.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import { sampleService } from '../../test/contracts/registryContract.js';
import { eventually, uniqueName, within } from '../../test/helpers/eventually.js';
import type { ServerInstance } from '../../test/servers/ServerInstance.js';
import { privateServer, requireServer } from '../../test/servers/testServers.js';
import { RedisRegistry, type RedisRegistryOptions } from './RedisRegistry.js';

const server = await requireServer('redis');

/** Fault tests on a Redis of their own: they restart it, and change its config. */
server.describe('registry-redis faults (private server)', () => {
  let instance: ServerInstance;
  let admin: ioredis.Redis;
  const registries: RedisRegistry[] = [];
  const open = (options: Partial<RedisRegistryOptions> = {}): RedisRegistry => {
    const registry = new RedisRegistry(ioredis, { address: instance.address, prefix: `${uniqueName('faults')}:`, commandTimeoutMs: 1500, ...options }, silentLogger);
    registries.push(registry);
    return registry;
  };
  const next = (watcher: Watcher, ms = 5000): Promise<WatchResult> => within(watcher.next(), ms, 'a watch result');
  const keyspaceFlags = async () => String(((await admin.call('CONFIG', 'GET', 'notify-keyspace-events')) as string[])[1]);

  beforeAll(async () => {
    instance = await privateServer('redis');
    admin = new ioredis.Redis(`redis://${instance.address}`, { maxRetriesPerRequest: null });
  }, 30_000);
  afterEach(async () => {
    await Promise.all(registries.splice(0).map((registry) => registry.close()));
  });
  afterAll(async () => {
    admin?.disconnect();
    await instance?.destroy();
  });

  it('with keyspace events off, a node whose TTL lapses disappears and the watch sees the delete (polling)', async () => {
    expect(await keyspaceFlags()).toBe('');
    const registry = open({ keyspaceEvents: 'off', pollIntervalMs: 300 });
    const service = sampleService(uniqueName('lapsing'));
    const watcher = await registry.watch({ service: service.name });
    await registry.register(service, { ttlMs: 800 });
    expect((await next(watcher)).action).toBe('create');
    const deleted = await next(watcher, 5000);
    expect(deleted).toMatchObject({ action: 'delete', service: { name: service.name, nodes: [{ id: service.nodes[0]!.id }] } });
    expect(await registry.getService(service.name)).toEqual([]);
    expect(await keyspaceFlags()).toBe('');
    watcher.stop();
  }, 20_000);

  it('enables expiry notifications when allowed, and sees a lapse through them (no polling)', async () => {
    const prefix = `${uniqueName('notified')}:`;
    const registry = open({ prefix, keyspaceEvents: 'configure', pollIntervalMs: 60_000, resyncIntervalMs: 60_000 });
    const service = sampleService(uniqueName('notified'));
    const watcher = await registry.watch({ service: service.name });
    expect(await keyspaceFlags()).toEqual(expect.stringMatching(/^(?=.*E)(?=.*x)(?=.*e)/));
    await open({ prefix }).register(service, { ttlMs: 800 });
    expect((await next(watcher)).action).toBe('create');
    expect(await next(watcher, 5000)).toMatchObject({ action: 'delete', service: { nodes: [{ id: service.nodes[0]!.id }] } });
    watcher.stop();
  }, 20_000);

  it('recovers by itself from a server restart: entries kept, calls fail clearly meanwhile, watch resyncs and notifications come back', async () => {
    const prefix = `${uniqueName('restart')}:`;
    const registry = open({ prefix, keyspaceEvents: 'configure', pollIntervalMs: 60_000, resyncIntervalMs: 60_000 });
    const other = open({ prefix });
    const kept = sampleService(uniqueName('kept'));
    await registry.register(kept, { ttlMs: 60_000 });
    const watcher = await registry.watch();
    const seen: WatchResult[] = [];
    void (async () => {
      for await (const result of watcher) seen.push(result);
    })();

    await instance.stop();
    await expect(registry.getService(kept.name)).rejects.toMatchObject({ code: 503 });
    await instance.start();
    // The restarted server has forgotten the CONFIG SET (it is not in a config file): only the registry's own
    // recovery can set the flags again, which the lapse below then relies on (polling is 60 s away).

    const arrived = sampleService(uniqueName('arrived'));
    await other.register(arrived, { ttlMs: 60_000 });
    await eventually(async () => expect(await registry.getService(kept.name)).toEqual([kept]), 10_000, 100);
    await eventually(() => expect(seen.map((result) => `${result.action} ${result.service.name}`)).toEqual([`create ${arrived.name}`]), 10_000, 100);
    await eventually(async () => expect(await keyspaceFlags()).toMatch(/x/), 10_000, 100);

    const lapsing = sampleService(uniqueName('lapsing-after-restart'));
    await other.register(lapsing, { ttlMs: 500 });
    await eventually(() => expect(seen.map((result) => `${result.action} ${result.service.name}`)).toEqual([`create ${arrived.name}`, `create ${lapsing.name}`, `delete ${lapsing.name}`]), 10_000, 100);
    watcher.stop();
  }, 45_000);
});
