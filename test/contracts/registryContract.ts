import { describe, expect, it, afterEach } from '@jest/globals';
import type { Registry, ServiceEntry as Service, WatchResult, Watcher } from '../../src/index.js';
import { WatcherStoppedError } from '../../src/index.js';
import { eventually, sleep, uniqueName, within } from '../helpers/eventually.js';

export interface RegistryContractOptions {
  /** A new registry instance on the shared backend: two calls stand for two processes. */
  create(): Promise<Registry> | Registry;
  /** The TTL the expiry tests register with; long enough for the backend's granularity. */
  ttlMs?: number;
  /** How long after a TTL runs out the backend may take to notice. */
  expiryGraceMs?: number;
  /** Tests to skip, each with its reason, as Hono's router suite does. */
  skip?: Record<string, string>;
}

export function sampleService(name: string, nodeId = 'node-1', address = '127.0.0.1:1001', version = '1.0.0'): Service {
  return {
    name,
    version,
    metadata: { team: 'core' },
    endpoints: [
      {
        name: 'Greeter.sayHello',
        request: { name: 'request', type: 'HelloRequest', values: [{ name: 'name', type: 'string' }, { name: 'address', type: 'Address', values: [{ name: 'city', type: 'string' }] }] },
        response: { name: 'response', type: 'HelloReply', values: [{ name: 'greeting', type: 'string' }] },
        metadata: { idempotent: 'true' },
      },
    ],
    nodes: [{ id: `${name}-${nodeId}`, address, metadata: { transport: 'tcp' } }],
  };
}

async function nextOf(watcher: Watcher, ms = 5000): Promise<WatchResult> {
  return within(watcher.next(), ms, 'a watch result');
}

/** The registry contract: every registry, default or plugin, passes it unchanged. */
export function runRegistryContract(label: string, options: RegistryContractOptions): void {
  const ttlMs = options.ttlMs ?? 1500;
  const grace = options.expiryGraceMs ?? 3000;
  const test = (name: string, fn: () => Promise<void>, timeout?: number): void => {
    const reason = options.skip?.[name];
    if (reason) it.skip(`${name} (skipped: ${reason})`, fn);
    else it(name, fn, timeout);
  };

  describe(`registry contract: ${label}`, () => {
    const opened: Registry[] = [];
    const open = async (): Promise<Registry> => {
      const registry = await options.create();
      opened.push(registry);
      return registry;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((registry) => registry.close()));
    });

    test('has a name', async () => {
      const registry = await open();
      expect(typeof registry.name).toBe('string');
      expect(registry.name.length).toBeGreaterThan(0);
    });

    test('returns a registered service with its endpoints, metadata and nodes intact', async () => {
      const registry = await open();
      const service = sampleService(uniqueName('svc'));
      await registry.register(service, { ttlMs: 30_000 });
      const found = await registry.getService(service.name);
      expect(found).toHaveLength(1);
      expect(found[0]).toEqual(service);
    });

    test('returns an empty list for a service nobody registered', async () => {
      const registry = await open();
      expect(await registry.getService(uniqueName('nobody'))).toEqual([]);
    });

    test('groups nodes by version', async () => {
      const registry = await open();
      const name = uniqueName('svc');
      await registry.register(sampleService(name, 'a', '127.0.0.1:1001', '1.0.0'), { ttlMs: 30_000 });
      await registry.register(sampleService(name, 'b', '127.0.0.1:1002', '1.0.0'), { ttlMs: 30_000 });
      await registry.register(sampleService(name, 'c', '127.0.0.1:1003', '2.0.0'), { ttlMs: 30_000 });
      const found = await registry.getService(name);
      const byVersion = Object.fromEntries(found.map((service) => [service.version, service.nodes.map((node) => node.address).sort()]));
      expect(byVersion).toEqual({ '1.0.0': ['127.0.0.1:1001', '127.0.0.1:1002'], '2.0.0': ['127.0.0.1:1003'] });
    });

    test('shows one instance what another registered', async () => {
      const [writer, reader] = [await open(), await open()];
      const service = sampleService(uniqueName('svc'));
      await writer.register(service, { ttlMs: 30_000 });
      await eventually(async () => expect(await reader.getService(service.name)).toEqual([service]));
    });

    test('replaces a node that registers again', async () => {
      const registry = await open();
      const service = sampleService(uniqueName('svc'));
      await registry.register(service, { ttlMs: 30_000 });
      const changed = { ...service, nodes: [{ ...service.nodes[0]!, metadata: { transport: 'tcp', zone: 'b' } }] };
      await registry.register(changed, { ttlMs: 30_000 });
      const found = await registry.getService(service.name);
      expect(found[0]!.nodes).toEqual(changed.nodes);
    });

    test('deregister removes the node, and the version with its last node', async () => {
      const registry = await open();
      const name = uniqueName('svc');
      const first = sampleService(name, 'a', '127.0.0.1:1001');
      const second = sampleService(name, 'b', '127.0.0.1:1002');
      await registry.register(first, { ttlMs: 30_000 });
      await registry.register(second, { ttlMs: 30_000 });
      await registry.deregister(first);
      await eventually(async () => expect((await registry.getService(name))[0]!.nodes.map((node) => node.id)).toEqual([second.nodes[0]!.id]));
      await registry.deregister(second);
      await eventually(async () => expect(await registry.getService(name)).toEqual([]));
    });

    test('lists services by name and version, without nodes', async () => {
      const registry = await open();
      const name = uniqueName('svc');
      await registry.register(sampleService(name, 'a', '127.0.0.1:1001', '1.0.0'), { ttlMs: 30_000 });
      await registry.register(sampleService(name, 'b', '127.0.0.1:1002', '2.0.0'), { ttlMs: 30_000 });
      const listed = (await registry.listServices()).filter((service) => service.name === name);
      expect(listed.map((service) => service.version).sort()).toEqual(['1.0.0', '2.0.0']);
      for (const service of listed) expect(service.nodes).toEqual([]);
    });

    test('drops a node whose TTL runs out, and keeps one that renews', async () => {
      const registry = await open();
      const name = uniqueName('svc');
      const lapsing = sampleService(name, 'lapsing', '127.0.0.1:1001');
      const renewing = sampleService(name, 'renewing', '127.0.0.1:1002');
      await registry.register(lapsing, { ttlMs });
      await registry.register(renewing, { ttlMs });
      const renewal = setInterval(() => void registry.register(renewing, { ttlMs }).catch(() => undefined), ttlMs / 3);
      try {
        await sleep(ttlMs);
        await eventually(async () => expect((await registry.getService(name)).flatMap((service) => service.nodes.map((node) => node.id))).toEqual([renewing.nodes[0]!.id]), grace, 100);
      } finally {
        clearInterval(renewal);
      }
    }, ttlMs + grace + 10_000);

    test('watch reports create, update and delete, and nothing for a plain renewal', async () => {
      const [registry, other] = [await open(), await open()];
      const service = sampleService(uniqueName('svc'));
      const watcher = await registry.watch({ service: service.name });
      try {
        await other.register(service, { ttlMs: 30_000 });
        const created = await nextOf(watcher);
        expect(created.action).toBe('create');
        expect(created.service.name).toBe(service.name);
        expect(created.service.version).toBe(service.version);
        expect(created.service.nodes.map((node) => node.id)).toEqual([service.nodes[0]!.id]);

        await other.register(service, { ttlMs: 30_000 });
        const changed = { ...service, metadata: { team: 'edge' } };
        await other.register(changed, { ttlMs: 30_000 });
        const updated = await nextOf(watcher);
        expect(updated.action).toBe('update');
        expect(updated.service.metadata).toEqual({ team: 'edge' });

        await other.deregister(changed);
        const deleted = await nextOf(watcher);
        expect(deleted.action).toBe('delete');
        expect(deleted.service.nodes.map((node) => node.id)).toEqual([service.nodes[0]!.id]);
      } finally {
        watcher.stop();
      }
    });

    test('watch reports an expired node as deleted', async () => {
      const registry = await open();
      const service = sampleService(uniqueName('svc'));
      const watcher = await registry.watch({ service: service.name });
      try {
        await registry.register(service, { ttlMs });
        expect((await nextOf(watcher)).action).toBe('create');
        const deleted = await nextOf(watcher, ttlMs + grace);
        expect(deleted.action).toBe('delete');
        expect(deleted.service.nodes[0]!.id).toBe(service.nodes[0]!.id);
      } finally {
        watcher.stop();
      }
    }, ttlMs + grace + 10_000);

    test('a watch for one service ignores the others, and a watch for all sees them', async () => {
      const registry = await open();
      const mine = sampleService(uniqueName('mine'));
      const theirs = sampleService(uniqueName('theirs'));
      const filtered = await registry.watch({ service: mine.name });
      const all = await registry.watch();
      try {
        await registry.register(theirs, { ttlMs: 30_000 });
        await registry.register(mine, { ttlMs: 30_000 });
        expect((await nextOf(filtered)).service.name).toBe(mine.name);
        const seen = new Set<string>();
        await eventually(async () => {
          seen.add((await nextOf(all, 1000)).service.name);
          expect(seen.has(mine.name) && seen.has(theirs.name)).toBe(true);
        }, 10_000);
      } finally {
        filtered.stop();
        all.stop();
      }
    });

    test('a stopped watcher ends its iteration and rejects next()', async () => {
      const registry = await open();
      const watcher = await registry.watch();
      const iteration = (async () => {
        const results: WatchResult[] = [];
        for await (const result of watcher) results.push(result);
        return results;
      })();
      watcher.stop();
      await within(iteration, 2000, 'the end of iteration');
      await expect(watcher.next()).rejects.toBeInstanceOf(WatcherStoppedError);
    });

    test('refuses a service without nodes, saying what is wrong', async () => {
      const registry = await open();
      await expect(registry.register({ ...sampleService(uniqueName('svc')), nodes: [] })).rejects.toThrow(/no nodes/);
      await expect(registry.register({ ...sampleService(''), name: '' })).rejects.toThrow(/name/);
    });
  });
}
