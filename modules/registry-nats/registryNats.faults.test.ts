import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import * as nats from '@nats-io/transport-node';
import type { WatchResult, Watcher } from '../../src/index.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import { sampleService } from '../../test/contracts/registryContract.js';
import { distPath, NodeProcess } from '../../test/helpers/childProcess.js';
import { eventually, sleep, uniqueName, within } from '../../test/helpers/eventually.js';
import type { ServerInstance } from '../../test/servers/ServerInstance.js';
import { privateServer, requireServer } from '../../test/servers/testServers.js';
import { testConnector } from '../shared/nats/testSupport.js';
import { NatsRegistry } from './NatsRegistry.js';

const shared = await requireServer('nats');
const nextOf = (watcher: Watcher, ms = 5000): Promise<WatchResult> => within(watcher.next(), ms, 'a watch result');

shared.describe('registry-nats faults (private server)', () => {
  let instance: ServerInstance;
  const opened: NatsRegistry[] = [];
  const children: NodeProcess[] = [];
  beforeAll(async () => {
    instance = await privateServer('nats');
  }, 30_000);
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await Promise.all(opened.splice(0).map((registry) => registry.close()));
  });
  afterAll(async () => {
    await instance?.destroy();
  });

  const open = (prefix: string) => {
    const registry = new NatsRegistry({ nats, connector: testConnector(nats, instance.address), logger: silentLogger, prefix, queryTimeoutMs: 500, querySettleMs: 50, confirmTimeoutMs: 1000 });
    opened.push(registry);
    return registry;
  };

  it('a killed process leaves lookups at once and watchers after its TTL', async () => {
    const prefix = uniqueName('killed');
    const name = uniqueName('victim');
    const registry = open(prefix);
    const watcher = await registry.watch({ service: name });
    const child = new NodeProcess(distPath('modules', 'registry-nats', 'fixtures', 'registrant.js'), [instance.address, prefix, name]);
    children.push(child);
    await child.waitFor(/^ready$/, 15_000);
    const created = await nextOf(watcher);
    expect(created.action).toBe('create');
    expect((await registry.getService(name))[0]!.nodes.map((node) => node.id)).toEqual(created.service.nodes.map((node) => node.id));
    child.kill('SIGKILL');
    await child.exited();
    expect(await registry.getService(name)).toEqual([]);
    // Renewals (every 500 ms) were plain renewals: the next event is the delete, after the 1.5 s TTL.
    const deleted = await nextOf(watcher, 1500 + 3000);
    expect(deleted).toMatchObject({ action: 'delete', service: { name, nodes: [{ id: created.service.nodes[0]!.id }] } });
    watcher.stop();
  }, 30_000);

  it('registrations, lookups and watches carry on by themselves after the NATS server restarts', async () => {
    const prefix = uniqueName('restart');
    const [owner, reader] = [open(prefix), open(prefix)];
    const name = uniqueName('survivor');
    const first = sampleService(name, 'a', '127.0.0.1:1001');
    const watcher = await reader.watch({ service: name });
    const seen: WatchResult[] = [];
    const watching = (async () => {
      for await (const result of watcher) seen.push(result);
    })();
    await owner.register(first, { ttlMs: 5000 });
    // The owner renews as a server's Registrar does; renewals that fail during the outage are only logged there.
    const renewal = setInterval(() => void owner.register(first, { ttlMs: 5000 }).catch(() => undefined), 1000);
    try {
      await eventually(() => expect(seen.map((result) => result.action)).toEqual(['create']));
      await instance.stop();
      await sleep(1000);
      await instance.start();
      await eventually(async () => expect((await reader.getService(name))[0]?.nodes.map((node) => node.id)).toEqual([first.nodes[0]!.id]), 10_000, 200);
      const second = sampleService(name, 'b', '127.0.0.1:1002');
      await eventually(() => owner.register(second, { ttlMs: 5000 }), 10_000, 200);
      await eventually(() => expect(seen.map((result) => `${result.action}:${result.service.nodes[0]!.address}`)).toEqual(['create:127.0.0.1:1001', 'create:127.0.0.1:1002']), 10_000);
      await owner.deregister(first);
      await eventually(() => expect(seen.at(-1)).toMatchObject({ action: 'delete', service: { nodes: [{ id: first.nodes[0]!.id }] } }));
    } finally {
      clearInterval(renewal);
      watcher.stop();
      await watching;
    }
  }, 45_000);
});
