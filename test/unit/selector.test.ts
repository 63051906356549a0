import { afterEach, describe, expect, it } from '@jest/globals';
import { MemoryRegistry, MicroError, RegistryCache, RegistrySelector, type Registry } from '../../src/index.js';
import { sampleService } from '../contracts/registryContract.js';

describe('RegistrySelector', () => {
  let registry: Registry;
  let cache: RegistryCache;
  afterEach(async () => {
    cache?.stop();
    await registry?.close();
  });

  async function setup(strategy: 'random' | 'roundrobin' = 'roundrobin'): Promise<RegistrySelector> {
    registry = new MemoryRegistry();
    cache = new RegistryCache(registry);
    await registry.register(sampleService('svc', 'a', '10.0.0.1:1', '1.0.0'));
    await registry.register(sampleService('svc', 'b', '10.0.0.2:1', '1.0.0'));
    const v2 = sampleService('svc', 'c', '10.0.0.3:1', '2.0.0');
    v2.nodes[0]!.metadata = { zone: 'eu' };
    await registry.register(v2);
    return new RegistrySelector(cache, { strategy, penaltyMs: 60_000 });
  }

  const addresses = (next: () => { node: { address: string } }, count: number): string[] => [...Array(count)].map(() => next().node.address);

  it('round-robin spreads calls evenly over every node of every version', async () => {
    const selector = await setup('roundrobin');
    const picks: string[] = [];
    for (let i = 0; i < 30; i++) picks.push((await selector.select('svc'))().node.address);
    const counts = picks.reduce<Record<string, number>>((acc, address) => ({ ...acc, [address]: (acc[address] ?? 0) + 1 }), {});
    expect(counts).toEqual({ '10.0.0.1:1': 10, '10.0.0.2:1': 10, '10.0.0.3:1': 10 });
  });

  it('random reaches every node', async () => {
    const selector = await setup('random');
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add((await selector.select('svc'))().node.address);
    expect(seen.size).toBe(3);
  });

  it('filters by version and by metadata', async () => {
    const selector = await setup();
    expect(new Set(addresses(await selector.select('svc', { version: '1.0.0' }), 10))).toEqual(new Set(['10.0.0.1:1', '10.0.0.2:1']));
    expect(new Set(addresses(await selector.select('svc', { metadata: { zone: 'eu' } }), 5))).toEqual(new Set(['10.0.0.3:1']));
  });

  it('names the service when it is not registered, and the versions when no node matches', async () => {
    const selector = await setup();
    await expect(selector.select('ghost')).rejects.toThrow('service "ghost" not found in the memory registry');
    const error = await Promise.resolve(selector.select('svc', { version: '9.9' })).catch((caught: MicroError) => caught);
    expect(MicroError.is(error) && error.code).toBe(404);
    expect((error as MicroError).detail).toBe('no node of service "svc" matches version 9.9; registered: 1.0.0 (2 nodes), 2.0.0 (1 node)');
  });

  it('avoids a node marked as failing, and within one call never repeats a node while others remain', async () => {
    const selector = await setup();
    const failing = (await selector.select('svc'))().node;
    selector.mark('svc', failing, new Error('connection refused'));
    for (let i = 0; i < 20; i++) expect((await selector.select('svc'))().node.id).not.toBe(failing.id);
    const next = await selector.select('svc', { version: '1.0.0' });
    const first = next().node.id;
    expect(next().node.id).not.toBe(first);
  });

  it('a service of one node answers with it on every pick, marked or not', async () => {
    const selector = await setup();
    const next = await selector.select('svc', { version: '2.0.0' });
    const only = next().node;
    selector.mark('svc', only, new Error('down'));
    expect([next().node.address, next().node.address]).toEqual(['10.0.0.3:1', '10.0.0.3:1']);
    expect((await selector.select('svc', { metadata: { zone: 'eu' } }))().node).toBe(only);
  });

  it('still answers when every node is marked, and forgets marks on success or reset', async () => {
    const selector = await setup();
    const next = await selector.select('svc', { version: '1.0.0' });
    const [a, b] = [next().node, next().node];
    selector.mark('svc', a, new Error('down'));
    selector.mark('svc', b, new Error('down'));
    expect(['10.0.0.1:1', '10.0.0.2:1']).toContain((await selector.select('svc', { version: '1.0.0' }))().node.address);
    selector.mark('svc', a);
    const picks = async (): Promise<Set<string>> => {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) seen.add((await selector.select('svc', { version: '1.0.0' }))().node.address);
      return seen;
    };
    expect(await picks()).toEqual(new Set([a.address]));
    selector.reset('svc');
    expect((await picks()).size).toBe(2);
  });

  it('sees a node leave through the cache watch, without waiting for the cache TTL', async () => {
    const selector = await setup();
    await selector.select('svc');
    await registry.deregister(sampleService('svc', 'c', '10.0.0.3:1', '2.0.0'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(new Set(addresses(await selector.select('svc'), 9))).toEqual(new Set(['10.0.0.1:1', '10.0.0.2:1']));
  });
});
