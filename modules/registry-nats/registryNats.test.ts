import { afterEach, expect, it } from '@jest/globals';
import * as nats from '@nats-io/transport-node';
import { loadConfig, type Logger, type WatchResult, type Watcher } from '../../src/index.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { eventually, sleep, uniqueName, within } from '../../test/helpers/eventually.js';
import { runRegistryContract, sampleService } from '../../test/contracts/registryContract.js';
import { requireServer } from '../../test/servers/testServers.js';
import { testConnector } from '../shared/nats/testSupport.js';
import { NatsRegistry, type NatsRegistryOptions } from './NatsRegistry.js';
import { KnownOwners } from './KnownOwners.js';
import { chunkEntries, parseAnnouncement, parseEntry } from './wire.js';

const server = await requireServer('nats');

/** A registry as the plugin's create() builds it, on a connection of its own (another process, as far as NATS knows). */
function registry(overrides: Partial<NatsRegistryOptions> & { logger?: Logger } = {}): NatsRegistry {
  return new NatsRegistry({
    nats,
    connector: testConnector(nats, server.address),
    logger: silentLogger,
    prefix: 'tsmicro.test.registry',
    queryTimeoutMs: 500,
    querySettleMs: 50,
    confirmTimeoutMs: 3000,
    ...overrides,
  });
}

const nextOf = (watcher: Watcher, ms = 5000): Promise<WatchResult> => within(watcher.next(), ms, 'a watch result');

server.describe('registry-nats', () => {
  runRegistryContract('nats', { create: () => registry(), ttlMs: 1500, expiryGraceMs: 3000 });

  const opened: NatsRegistry[] = [];
  const open = (overrides: Partial<NatsRegistryOptions> = {}) => {
    const created = registry(overrides);
    opened.push(created);
    return created;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((created) => created.close()));
  });

  it('keeps a renewing node alive in another process, with no events for the renewals', async () => {
    const [owner, watching] = [open(), open()];
    const service = sampleService(uniqueName('renewed'));
    const watcher = await watching.watch({ service: service.name });
    await owner.register(service, { ttlMs: 1200 });
    expect((await nextOf(watcher)).action).toBe('create');
    for (let renewal = 0; renewal < 8; renewal++) {
      await sleep(400);
      await owner.register(service, { ttlMs: 1200 });
    }
    // Three TTLs went by: without the renewals' announcements the watcher would have seen a delete.
    await expect(within(watcher.next(), 300, 'no event')).rejects.toThrow(/did not happen/);
    expect(await watching.getService(service.name)).toEqual([service]);
    watcher.stop();
  });

  it('forgets a silent owner: lookups at once, watchers after the TTL', async () => {
    const connector = testConnector(nats, server.address);
    const [owner, watching] = [open({ connector }), open()];
    const service = sampleService(uniqueName('silent'));
    const watcher = await watching.watch({ service: service.name });
    await owner.register(service, { ttlMs: 1500 });
    expect((await nextOf(watcher)).action).toBe('create');
    expect(await watching.getService(service.name)).toEqual([service]);
    // The owner's process dies: no deregistration, no more answers, no more announcements.
    await (await connector.acquire()).connection.close();
    expect(await watching.getService(service.name)).toEqual([]);
    const deleted = await nextOf(watcher, 1500 + 3000);
    expect(deleted).toMatchObject({ action: 'delete', service: { name: service.name, nodes: [{ id: service.nodes[0]!.id }] } });
    watcher.stop();
  });

  it('finds a newcomer at once after the owners are known, and drops an owner that stops answering', async () => {
    const reader = open();
    const name = uniqueName('newcomer');
    const first = open();
    await first.register(sampleService(name, 'a', '127.0.0.1:1001'), { ttlMs: 30_000 });
    expect((await reader.getService(name))[0]!.nodes).toHaveLength(1);
    const second = open();
    await second.register(sampleService(name, 'b', '127.0.0.1:1002'), { ttlMs: 30_000 });
    // The reader heard the announcement, so its next lookup waits for the newcomer's answer too.
    expect((await reader.getService(name))[0]!.nodes.map((node) => node.address).sort()).toEqual(['127.0.0.1:1001', '127.0.0.1:1002']);
    await first.close();
    expect((await reader.getService(name))[0]!.nodes.map((node) => node.address)).toEqual(['127.0.0.1:1002']);
    expect((await reader.getService(name))[0]!.nodes.map((node) => node.address)).toEqual(['127.0.0.1:1002']);
  });

  it('answers and announces in parts when the entries do not fit in one NATS message', async () => {
    const lines = captureLogger();
    const [owner, reader] = [open({ logger: lines }), open({ logger: lines })];
    const name = uniqueName('huge');
    const big = 'x'.repeat(2000);
    const service = { ...sampleService(name), nodes: [...Array(700).keys()].map((i) => ({ id: `${name}-${i}`, address: `10.0.${Math.floor(i / 250)}.${i % 250}:80`, metadata: { big } })) };
    const watcher = await reader.watch({ service: name });
    await owner.register(service, { ttlMs: 30_000 });
    // Eventually: a lookup racing the 1.6 MB announcement may not know the owner yet.
    await eventually(async () => expect((await reader.getService(name))[0]?.nodes).toHaveLength(700));
    expect(lines.lines).toEqual([]);
    const created = new Set<string>();
    while (created.size < 700) created.add((await nextOf(watcher)).service.nodes[0]!.id);
    watcher.stop();
    expect(chunkEntries([], 100)).toEqual([[]]);
  });

  it('refuses an entry too big for one NATS message, and keeps nothing of it', async () => {
    const registry = open();
    const service = sampleService(uniqueName('oversized'));
    service.nodes[0]!.metadata = { blob: 'x'.repeat(1024 * 1024) };
    await expect(registry.register(service, { ttlMs: 30_000 })).rejects.toThrow(/over the NATS message limit/);
    expect(await registry.getService(service.name)).toEqual([]);
  });

  it('knows which owners a lookup waits for', () => {
    const owners = new KnownOwners();
    expect(owners.expected(0)).toBeUndefined();
    owners.completed(undefined, new Set(['a', 'b']));
    owners.heard('a', 1000, 0);
    owners.heard('b', 1000, 0);
    owners.heard('c', 1000, 0);
    expect([...owners.expected(500)!].sort()).toEqual(['a', 'b', 'c']);
    owners.completed(owners.expected(500), new Set(['a', 'b']));
    expect([...owners.expected(500)!].sort()).toEqual(['a', 'b']);
    owners.left('b');
    expect([...owners.expected(500)!]).toEqual(['a']);
    expect([...owners.expected(1500)!]).toEqual([]);
    owners.forget();
    expect(owners.expected(0)).toBeUndefined();
  });

  it('keeps registries with different prefixes apart', async () => {
    const [left, right] = [open({ prefix: uniqueName('tsmicro.test.left') }), open({ prefix: uniqueName('tsmicro.test.right') })];
    const service = sampleService(uniqueName('apart'));
    await left.register(service, { ttlMs: 30_000 });
    expect(await right.getService(service.name)).toEqual([]);
    expect(await left.getService(service.name)).toEqual([service]);
  });

  it('logs and ignores malformed queries, replies and announcements, and keeps working', async () => {
    const lines = captureLogger();
    const prefix = uniqueName('tsmicro.test.bad');
    const [owner, watching] = [open({ prefix, logger: lines }), open({ prefix, logger: lines })];
    const service = sampleService(uniqueName('robust'));
    const watcher = await watching.watch({ service: service.name });
    await owner.register(service, { ttlMs: 30_000 });
    expect((await nextOf(watcher)).action).toBe('create');
    const raw = await nats.connect({ servers: server.address });
    try {
      raw.publish(`${prefix}.watch`, 'not json');
      raw.publish(`${prefix}.watch`, JSON.stringify({ v: 1, owner: 'x', action: 'put', entries: [{ service: { name: service.name }, node: { id: 'evil' }, ttlMs: 5 }] }));
      raw.publish(`${prefix}.watch`, JSON.stringify({ v: 99, owner: 'x', action: 'put', entries: [] }));
      raw.publish(`${prefix}.query`, '{"v":1}', { reply: nats.createInbox() });
      // A fake owner answering every query with garbage.
      raw.subscribe(`${prefix}.query`, { callback: (_, message) => { message.respond('{"v":1,"owner":"liar","last":true,"ttlMs":1000,"entries":[{"node":42}]}'); } });
      await raw.flush();
      expect(await watching.getService(service.name)).toEqual([service]);
    } finally {
      await raw.close();
    }
    await owner.deregister(service);
    expect((await nextOf(watcher)).action).toBe('delete');
    watcher.stop();
    const messages = lines.lines.map((line) => line.message);
    expect(messages.filter((message) => /malformed watch message/.test(message)).length).toBeGreaterThanOrEqual(3);
    expect(messages).toEqual(expect.arrayContaining([expect.stringMatching(/malformed query message/), expect.stringMatching(/malformed query reply/)]));
  });

  it('validates entries from the wire field by field', () => {
    const entry = { service: { ...sampleService('svc'), nodes: undefined }, node: sampleService('svc').nodes[0], ttlMs: 1000 };
    expect(parseEntry(entry).node.id).toBe('svc-node-1');
    expect(() => parseEntry({ ...entry, ttlMs: -1 })).toThrow(/ttlMs/);
    expect(() => parseEntry({ ...entry, node: { ...entry.node, metadata: { a: 1 } } })).toThrow(/node\.metadata\.a/);
    expect(() => parseEntry({ ...entry, service: { ...entry.service, endpoints: [{ name: 'e', request: { name: 1 } }] } })).toThrow(/endpoints\[0\]\.request\.name/);
    expect(() => parseAnnouncement(Buffer.from('{"v":1,"owner":"o","action":"drop","entries":[]}'))).toThrow(/action/);
  });

  it('reads its options from config and env', async () => {
    const { plugins, config } = await loadConfig({
      env: { MICRO_REGISTRY: 'nats', MICRO_REGISTRY_ADDRESS: 'nats://10.0.0.1:4222', MICRO_REGISTRY_NATS_PREFIX: 'acme.registry', MICRO_REGISTRY_NATS_QUERY_TIMEOUT: '2s' },
      argv: [],
    });
    const chosen = plugins.find((plugin) => plugin.kind === 'registry')!;
    expect(chosen.origin).toBe('modules/registry-nats');
    expect(chosen.options).toMatchObject({ prefix: 'acme.registry', queryTimeout: 2000, querySettle: 50, shareConnection: true });
    expect(config.registry.address).toBe('nats://10.0.0.1:4222');
  });
});
