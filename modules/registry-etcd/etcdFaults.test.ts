import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Etcd3 } from 'etcd3';
import { Tokens, type App, type Registry, type WatchResult, type Watcher } from '../../src/index.js';
import { sampleService } from '../../test/contracts/registryContract.js';
import { TestApps } from '../../test/helpers/apps.js';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { eventually, uniqueName } from '../../test/helpers/eventually.js';
import type { ServerInstance } from '../../test/servers/ServerInstance.js';
import { privateServer, requireServer } from '../../test/servers/testServers.js';
import { Shop } from '../../test/unit/fixtures.js';
import { nodeKey } from './entries.js';
import { testRegistry } from './testSupport.js';

const server = await requireServer('etcd');

/** Faults on an etcd of this file's own (restarts, lost data, auth), never on the shared one. */
server.describe('registry-etcd on a private etcd: restarts, lost data, a deleted key, authentication', () => {
  let instance: ServerInstance;
  let etcd: Etcd3;
  const prefix = `/${uniqueName('tsmicro-faults')}/`;
  const apps = new TestApps();
  const logger = captureLogger();
  let shop: App;
  let observer: Registry;
  let watcher: Watcher;
  const seen: WatchResult[] = [];

  const shopNodes = async (): Promise<string[]> => (await observer.getService('shop')).flatMap((service) => service.nodes.map((node) => node.id));
  const resultsFor = (name: string): string[] => seen.filter((result) => result.service.name === name).map((result) => result.action);

  beforeAll(async () => {
    instance = await privateServer('etcd');
    etcd = new Etcd3({ hosts: `http://${instance.address}` });
    const config = { registry: { plugin: 'etcd', address: instance.address, options: { prefix, reconnectMaxDelay: 500, requestTimeout: 2000 } }, broker: 'memory', server: { registerTtl: 4000, registerInterval: 500 } };
    shop = await apps.started({ services: [Shop], memory: false, config, logger });
    observer = testRegistry(instance.address, { prefix, reconnectMaxDelayMs: 500, requestTimeoutMs: 2000 }, logger);
    watcher = await observer.watch();
    void (async () => {
      for await (const result of watcher) seen.push(result);
    })();
  }, 30_000);

  afterAll(async () => {
    watcher?.stop();
    await apps.stopAll();
    await observer?.close();
    etcd?.close();
    await instance?.destroy();
  }, 30_000);

  it('a restart keeps the registration; the watch resumes and reports what happens after it', async () => {
    await eventually(async () => expect(await shopNodes()).toHaveLength(1));
    await instance.restart();
    // etcd keeps data and leases over a restart (and renews the leases when it comes back).
    await eventually(async () => expect(await shopNodes()).toHaveLength(1), 15_000, 200);
    const late = sampleService(uniqueName('late'));
    await eventually(() => observer.register(late, { ttlMs: 30_000 }), 10_000, 200);
    await eventually(() => expect(resultsFor(late.name)).toEqual(['create']), 15_000);
    await expect(shop.client.call('shop', 'Shop.place', { item: 'tea', quantity: 1 })).resolves.toMatchObject({ accepted: 'tea' });
  }, 45_000);

  it('etcd restarted without its data: the next renewal registers again, and the watch follows the new history', async () => {
    const shopNodeId = (await shopNodes())[0]!;
    seen.length = 0;
    await instance.stop();
    rmSync(join(instance.directory, 'data'), { recursive: true, force: true });
    await instance.start();
    // The lease is unknown to the new etcd: the server's renewal grants a new one and writes the key again.
    await eventually(async () => expect(await shopNodes()).toEqual([shopNodeId]), 20_000, 200);
    expect(logger.lines.some((line) => line.level === 'warn' && /lease lost/.test(line.message))).toBe(true);
    // etcd's revisions started again from 1; a watch that resumed at its old revision would be blind now.
    const after = sampleService(uniqueName('after-wipe'));
    await observer.register(after, { ttlMs: 30_000 });
    await eventually(() => expect(resultsFor(after.name)).toEqual(['create']), 15_000);
    expect(resultsFor('shop').at(-1)).toBe('create');
  }, 60_000);

  it('a node key deleted by hand is written back by the running server within a renewal interval', async () => {
    const [service] = await observer.getService('shop');
    const key = nodeKey(prefix, 'shop', '1.0.0', service!.nodes[0]!.id);
    seen.length = 0;
    await etcd.delete().key(key).exec();
    await eventually(() => expect(resultsFor('shop')).toEqual(['delete', 'create']), 10_000);
    expect(await etcd.get(key).string()).not.toBeNull();
    expect(shop.get(Tokens.Registry).name).toBe('etcd');
  }, 20_000);

  it('authenticates with a user and password, and says so when they are wrong', async () => {
    await etcd.role('root').create();
    await etcd.user('root').create('root-secret');
    await etcd.user('root').addRole('root');
    await etcd.auth.authEnable({});
    const wrong = testRegistry(instance.address, { prefix, username: 'root', password: 'nope' });
    const right = testRegistry(instance.address, { prefix, username: 'root', password: 'root-secret' });
    try {
      await expect(wrong.getService('shop')).rejects.toThrow(/authentication failed/i);
      expect((await right.getService('shop'))[0]!.nodes).toHaveLength(1);
      const guarded = sampleService(uniqueName('guarded'));
      await right.register(guarded, { ttlMs: 5000 });
      expect(await right.getService(guarded.name)).toEqual([guarded]);
    } finally {
      await wrong.close();
      await right.close();
    }
  }, 20_000);
});
