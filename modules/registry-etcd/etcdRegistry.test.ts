import { afterAll, afterEach, expect, it } from '@jest/globals';
import { Etcd3 } from 'etcd3';
import { loadConfig, Tokens, type Registry, type WatchResult, type Watcher } from '../../src/index.js';
import { sampleService } from '../../test/contracts/registryContract.js';
import { TestApps } from '../../test/helpers/apps.js';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { eventually, uniqueName, within } from '../../test/helpers/eventually.js';
import { requireServer } from '../../test/servers/testServers.js';
import { calls, resetCalls, Shop } from '../../test/unit/fixtures.js';
import { nodeKey } from './entries.js';
import { testRegistry } from './testSupport.js';

const server = await requireServer('etcd');

server.describe('registry-etcd', () => {
  const etcd = new Etcd3({ hosts: `http://${server.address}` });
  const apps = new TestApps();
  const opened: Registry[] = [];
  const watchers: Watcher[] = [];
  const open = (prefix: string, logger = captureLogger()): Registry => {
    const registry = testRegistry(server.address, { prefix }, logger);
    opened.push(registry);
    return registry;
  };
  const watch = async (registry: Registry, service?: string): Promise<Watcher> => {
    const watcher = await registry.watch(service === undefined ? {} : { service });
    watchers.push(watcher);
    return watcher;
  };
  const next = (watcher: Watcher): Promise<WatchResult> => within(watcher.next(), 5000, 'a watch result');
  afterEach(async () => {
    for (const watcher of watchers.splice(0)) watcher.stop();
    await apps.stopAll();
    await Promise.all(opened.splice(0).map((registry) => registry.close()));
    resetCalls();
  });
  afterAll(() => etcd.close());

  it('is chosen by config alone: a decorated service registers in etcd and is called and published to end to end', async () => {
    const prefix = `/${uniqueName('tsmicro-app')}/`;
    const config = { registry: { plugin: 'etcd', address: server.address, options: { prefix } }, server: { registerTtl: 5000, registerInterval: 1000 } };
    const shop = await apps.started({ services: [Shop], memory: false, config });
    expect(shop.get(Tokens.Registry).name).toBe('etcd');
    const client = await apps.started({ memory: false, config });
    await expect(client.client.call('shop', 'Shop.place', { item: 'tea', quantity: 2 })).resolves.toMatchObject({ accepted: 'tea', quantity: 2 });
    await client.client.publish('shop.restocked', { item: 'cups', quantity: 3 });
    await eventually(() => expect(calls.events.map((event) => event.payload)).toEqual([{ item: 'cups', quantity: 3 }]));

    // One key per node under <prefix><service>/<version>/<node id>, on a lease of the register TTL (5 s).
    const node = (await shop.get(Tokens.Registry).getService('shop'))[0]!.nodes[0]!;
    const stored = await etcd.getAll().prefix(`${prefix}shop/1.0.0/`).exec();
    expect(stored.kvs.map((kv) => kv.key.toString())).toEqual([nodeKey(prefix, 'shop', '1.0.0', node.id)]);
    const lease = await etcd.leaseClient.leaseTimeToLive({ ID: stored.kvs[0]!.lease });
    expect(Number(lease.grantedTTL)).toBe(5);
    await etcd.delete().prefix(prefix).exec();
  });

  it('reads its options from MICRO_REGISTRY_ETCD_* environment variables', async () => {
    const { plugins } = await loadConfig({ env: { MICRO_REGISTRY: 'etcd', MICRO_REGISTRY_ADDRESS: server.address, MICRO_REGISTRY_ETCD_PREFIX: '/env/', MICRO_REGISTRY_ETCD_REQUEST_TIMEOUT: '2s' }, argv: [], cwd: process.cwd() });
    const registry = plugins.find((plugin) => plugin.kind === 'registry')!;
    expect(registry.origin).toBe('modules/registry-etcd');
    expect(registry.options).toMatchObject({ prefix: '/env/', requestTimeout: 2000, reconnectMaxDelay: 2000, username: '' });
  });

  it('skips junk under the prefix with one logged warning, in reads and in watches', async () => {
    const prefix = `/${uniqueName('tsmicro-junk')}/`;
    const logger = captureLogger();
    const registry = open(prefix, logger);
    const good = sampleService(uniqueName('svc'));
    await registry.register(good, { ttlMs: 30_000 });
    const watcher = await watch(registry);
    await etcd.put(`${prefix}garbage`).value('not json {');
    await etcd.put(`${prefix}${good.name}/1.0.0/copied`).value((await etcd.get(nodeKey(prefix, good.name, good.version, good.nodes[0]!.id)).string())!);
    const later = sampleService(uniqueName('later'));
    await registry.register(later, { ttlMs: 30_000 });
    // The junk produced no watch result: the next one is the valid registration.
    expect(await next(watcher)).toMatchObject({ action: 'create', service: { name: later.name } });
    expect(await registry.getService(good.name)).toEqual([good]);
    await registry.listServices();
    expect((await registry.listServices()).map((service) => service.name).sort()).toEqual([good.name, later.name].sort());
    const warnings = logger.lines.filter((line) => line.level === 'warn');
    expect(warnings.map((line) => line.fields.key).sort()).toEqual([`${prefix}${good.name}/1.0.0/copied`, `${prefix}garbage`].sort());
    expect(warnings.find((line) => line.fields.key === `${prefix}garbage`)!.fields.reason).toBe('value is not JSON');
    await etcd.delete().prefix(prefix).exec();
  });

  it('writes a node deleted by hand back on the next renewal (go-micro did not), and the watch sees both', async () => {
    const prefix = `/${uniqueName('tsmicro-deleted')}/`;
    const registry = open(prefix);
    const watcher = await watch(open(prefix));
    const service = sampleService(uniqueName('svc'));
    await registry.register(service, { ttlMs: 10_000 });
    expect((await next(watcher)).action).toBe('create');
    const key = nodeKey(prefix, service.name, service.version, service.nodes[0]!.id);
    await etcd.delete().key(key).exec();
    expect((await next(watcher)).action).toBe('delete');
    await registry.register(service, { ttlMs: 10_000 });
    expect((await next(watcher)).action).toBe('create');
    expect(await registry.getService(service.name)).toEqual([service]);
    await etcd.delete().prefix(prefix).exec();
  });

  it('grants a new lease when its lease was revoked behind its back', async () => {
    const prefix = `/${uniqueName('tsmicro-revoked')}/`;
    const registry = open(prefix);
    const service = sampleService(uniqueName('svc'));
    await registry.register(service, { ttlMs: 10_000 });
    const key = nodeKey(prefix, service.name, service.version, service.nodes[0]!.id);
    const firstLease = (await etcd.getAll().prefix(key).exec()).kvs[0]!.lease;
    await etcd.leaseClient.leaseRevoke({ ID: firstLease });
    expect(await registry.getService(service.name)).toEqual([]);
    await registry.register(service, { ttlMs: 10_000 });
    const kv = (await etcd.getAll().prefix(key).exec()).kvs[0]!;
    expect(kv.lease).not.toBe(firstLease);
    expect(await registry.getService(service.name)).toEqual([service]);
    await etcd.delete().prefix(prefix).exec();
  });

  it('renews without writing, rounds TTLs up to whole seconds, and keeps a TTL-less node on no lease', async () => {
    const prefix = `/${uniqueName('tsmicro-ttl')}/`;
    const registry = open(prefix);
    const service = sampleService(uniqueName('svc'));
    const key = nodeKey(prefix, service.name, service.version, service.nodes[0]!.id);
    await registry.register(service, { ttlMs: 2300 });
    const written = (await etcd.getAll().prefix(key).exec()).kvs[0]!;
    expect(Number((await etcd.leaseClient.leaseTimeToLive({ ID: written.lease })).grantedTTL)).toBe(3);
    await registry.register(service, { ttlMs: 2300 });
    // A renewal is a lease keepalive plus a compare: no new revision, so watchers see nothing.
    expect((await etcd.getAll().prefix(key).exec()).kvs[0]!.mod_revision).toBe(written.mod_revision);
    await registry.register(service, { ttlMs: 0 });
    const permanent = (await etcd.getAll().prefix(key).exec()).kvs[0]!;
    expect(permanent.lease).toBe('0');
    // The old lease was revoked once the key had moved off it.
    expect(Number((await etcd.leaseClient.leaseTimeToLive({ ID: written.lease })).TTL)).toBe(-1);
    await registry.deregister(service);
    expect(await registry.getService(service.name)).toEqual([]);
  });

  it('keeps services whose names share a beginning or contain "/" apart', async () => {
    const prefix = `/${uniqueName('tsmicro-names')}/`;
    const registry = open(prefix);
    const [short, nested, longer] = [sampleService('a'), sampleService('a/b', 'n2'), sampleService('ab', 'n3')];
    for (const service of [short, nested, longer]) await registry.register(service, { ttlMs: 30_000 });
    expect(await registry.getService('a')).toEqual([short]);
    expect(await registry.getService('a/b')).toEqual([nested]);
    expect((await registry.listServices()).map((service) => service.name).sort()).toEqual(['a', 'a/b', 'ab']);
    await etcd.delete().prefix(prefix).exec();
  });

  it('refuses a prefix that does not end with "/", and reports an unreachable etcd by its address', async () => {
    expect(() => testRegistry(server.address, { prefix: '/no-slash' })).toThrow(/must end with "\/"/);
    const unreachable = testRegistry('127.0.0.1:1', { prefix: '/x/', requestTimeoutMs: 500, dialTimeoutMs: 500 });
    opened.push(unreachable);
    await expect(unreachable.register(sampleService('svc'), { ttlMs: 5000 })).rejects.toThrow(/etcd registry \(http:\/\/127.0.0.1:1\): cannot register "svc": .*ECONNREFUSED/);
    await expect(unreachable.getService('svc')).rejects.toThrow(/etcd registry \(http:\/\/127.0.0.1:1\): cannot read "svc": /);
    await expect(unreachable.watch()).rejects.toThrow(/etcd registry \(http:\/\/127.0.0.1:1\): cannot watch: /);
  });
});
