import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { App, MicroError, Tokens } from '../../src/index.js';
import { TestApps } from '../helpers/apps.js';
import { eventually, sleep } from '../helpers/eventually.js';
import { calls, resetCalls, Shop } from './fixtures.js';

describe('server lifecycle', () => {
  const apps = new TestApps();
  beforeEach(resetCalls);
  afterEach(() => apps.stopAll());

  it('registers on start with node metadata and endpoint descriptions', async () => {
    const app = await apps.started({ services: [Shop] });
    const [service] = await app.get(Tokens.Registry).getService('shop');
    expect(service!.version).toBe('1.0.0');
    expect(service!.nodes).toHaveLength(1);
    expect(service!.nodes[0]!.id).toMatch(/^shop-[0-9a-f-]{36}$/);
    expect(service!.nodes[0]!.metadata).toMatchObject({ transport: 'memory', broker: 'memory', registry: 'memory', server: 'rpc', protocol: 'tsmicro' });
    const place = service!.endpoints.find((endpoint) => endpoint.name === 'Shop.place')!;
    expect(place.request).toEqual({ name: 'request', type: 'Order', values: [{ name: 'item', type: 'string' }, { name: 'quantity', type: 'number' }] });
    expect(service!.endpoints.find((endpoint) => endpoint.name === 'Shop.safe')!.metadata).toEqual({ idempotent: 'true' });
    expect(service!.endpoints.find((endpoint) => endpoint.metadata.subscriber === 'true')!.metadata).toEqual({ topic: 'shop.restocked', subscriber: 'true', queue: 'shop' });
  });

  it('renews its registration so it outlives the TTL, and deregisters on stop', async () => {
    const app = await apps.started({ services: [Shop], config: { server: { registerTtl: 300, registerInterval: 100 } } });
    const registry = app.get(Tokens.Registry);
    await sleep(900);
    expect(await registry.getService('shop')).toHaveLength(1);
    await app.stop();
    expect(await registry.getService('shop')).toEqual([]);
  });

  it('refuses a TTL that is not longer than the renewal interval, before anything starts', async () => {
    await expect(apps.create({ services: [Shop], config: { server: { registerTtl: 1000, registerInterval: 1000 } } })).rejects.toThrow(
      'server.registerTtl (1000 ms, from code) must be greater than server.registerInterval (1000 ms, from code), or the entry expires between renewals',
    );
  });

  it('on stop, finishes the request in progress while new calls go to another node', async () => {
    const first = await apps.started({ services: [Shop] });
    await apps.started({ services: [Shop] });
    const client = await apps.started();
    const firstAddress = first.servers[0]!.address!;
    const slow = client.client.call('shop', 'Shop.slow', { ms: 300 }, { address: firstAddress });
    await sleep(50);
    const stopping = first.stop();
    const during = await Promise.all([...Array(5)].map(() => client.client.call('shop', 'Shop.place', { item: 'tea', quantity: 1 })));
    expect(during).toHaveLength(5);
    await expect(slow).resolves.toMatchObject({ remainingAtStart: expect.any(Number) });
    await stopping;
  });

  it('gives up draining after the drain timeout', async () => {
    const app = await apps.started({ services: [Shop], config: { server: { drainTimeout: 150 } } });
    const client = await apps.started();
    const slow = client.client.call('shop', 'Shop.unsafe', { ms: 5000 }, { timeoutMs: 10_000 }).catch((error: MicroError) => error);
    await eventually(() => expect(calls.total).toBe(1));
    const started = Date.now();
    await app.stop();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(((await slow) as MicroError).code).toBe(502);
  });

  it('a server that cannot start leaves nothing registered or subscribed', async () => {
    await apps.started({ services: [Shop], config: { service: { address: 'busy:4000' } } });
    const second = await apps.create({ services: [Shop], config: { service: { address: 'busy:4000' } } });
    await expect(second.start()).rejects.toThrow(/busy:4000 is already in use/);
    const client = await apps.started();
    expect((await client.get(Tokens.Registry).getService('shop'))[0]!.nodes).toHaveLength(1);
    await client.client.publish('shop.restocked', { item: 'tea', quantity: 1 });
    await eventually(() => expect(calls.events).toHaveLength(1));
    await sleep(100);
    expect(calls.events).toHaveLength(1);
  });

  it('stop is safe to call twice, and start twice is refused', async () => {
    const app = await apps.started({ services: [Shop] });
    await expect(app.start()).rejects.toThrow(/already started/);
    await app.stop();
    await app.stop();
  });

  it('hands decorated classes the resolved infrastructure', async () => {
    const app: App = await apps.started({ services: [Shop] });
    const shop = app.get(Shop) as unknown as { client: unknown };
    expect(shop.client).toBe(app.get(Tokens.Client));
  });
});
