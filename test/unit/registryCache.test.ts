import { describe, expect, it } from '@jest/globals';
import { MemoryRegistry, RegistryCache, type Registry } from '../../src/index.js';
import { sampleService } from '../contracts/registryContract.js';

/** A registry that counts lookups and can be switched off, wrapped around a memory one. */
class FlakyRegistry extends MemoryRegistry implements Registry {
  lookups = 0;
  down = false;
  override async getService(name: string) {
    this.lookups++;
    if (this.down) throw new Error('registry unreachable');
    return super.getService(name);
  }
}

describe('RegistryCache', () => {
  it('answers repeated lookups from memory, and refetches after a change', async () => {
    const registry = new FlakyRegistry();
    const cache = new RegistryCache(registry);
    await registry.register(sampleService('svc'));
    await cache.getService('svc');
    await cache.getService('svc');
    expect(registry.lookups).toBe(1);
    await registry.register(sampleService('svc', 'other', '127.0.0.1:2'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await cache.getService('svc'))[0]!.nodes).toHaveLength(2);
    expect(registry.lookups).toBe(2);
    cache.stop();
    await registry.close();
  });

  it('keeps serving the last answer while the registry is down', async () => {
    const registry = new FlakyRegistry();
    const cache = new RegistryCache(registry, { ttlMs: 1 });
    await registry.register(sampleService('svc'));
    expect(await cache.getService('svc')).toHaveLength(1);
    registry.down = true;
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await cache.getService('svc')).toHaveLength(1);
    await expect(cache.getService('never-seen')).rejects.toThrow('registry unreachable');
    cache.stop();
    await registry.close();
  });

  it('shares one lookup between concurrent callers', async () => {
    const registry = new FlakyRegistry();
    const cache = new RegistryCache(registry);
    await registry.register(sampleService('svc'));
    await Promise.all([...Array(10)].map(() => cache.getService('svc')));
    expect(registry.lookups).toBe(1);
    cache.stop();
    await registry.close();
  });
});
