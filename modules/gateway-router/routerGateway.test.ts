import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { TestApps } from '../../test/helpers/apps.js';
import { Greeter } from '../../test/gateway/fixtures.js';
import { jsonOf, RoutesDirectory, send, startGateway, type StartedGateway } from './testSupport.js';

/** A rule answering with its own name, so a test sees which rule won. */
const answer = (name: string, extra: object = {}) => ({ name, ...extra, response: { status: 200, headers: { 'content-type': 'text/plain' }, body: name } });

describe('router plugin: rules over HTTP', () => {
  const apps = new TestApps();
  const directory = new RoutesDirectory();
  let started: StartedGateway | undefined;

  beforeEach(async () => {
    await apps.started({ services: [Greeter] });
  });
  afterEach(async () => {
    await started?.gateway.stop();
    started = undefined;
    await apps.stopAll();
  });
  afterAll(() => directory.remove());

  async function gatewayWith(routes: object[]): Promise<StartedGateway> {
    const file = directory.write('routes.yaml', { routes });
    started = await startGateway(apps, { plugins: ['router'], router: { file } });
    return started;
  }

  it('is chosen by config, answers fixed responses, and leaves unmatched requests to the gateway routes', async () => {
    const { base, port } = await gatewayWith([
      { name: 'maintenance', match: { path: '/legacy' }, response: { status: 503, headers: { 'retry-after': '120', 'set-cookie': ['a=1', 'b=2'] }, body: 'down for maintenance' } },
      { name: 'json', match: { path: '/about', methods: ['GET', 'HEAD'] }, response: { body: { service: 'shop', version: 2 } } },
      { name: 'moved', match: { path: '/old' }, response: { status: 308, headers: { location: 'https://example.com/new' } } },
    ]);
    const legacy = await send(port, { path: '/legacy/orders?x=1' });
    expect({ status: legacy.status, type: legacy.headers['content-type'], retry: legacy.headers['retry-after'], cookies: legacy.headers['set-cookie'], body: legacy.body.toString() }).toEqual({
      status: 503,
      type: 'text/plain; charset=utf-8',
      retry: '120',
      cookies: ['a=1', 'b=2'],
      body: 'down for maintenance',
    });
    const about = await fetch(`${base}/about`);
    expect([about.status, about.headers.get('content-type'), await about.json()]).toEqual([200, 'application/json; charset=utf-8', { service: 'shop', version: 2 }]);
    const head = await send(port, { method: 'HEAD', path: '/about' });
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, String('{"service":"shop","version":2}'.length), 0]);
    const moved = await fetch(`${base}/old`, { redirect: 'manual' });
    expect([moved.status, moved.headers.get('location')]).toEqual([308, 'https://example.com/new']);
    // Not matched: the gateway's own routes answer (conventional RPC path, health, and its 404).
    const rpc = await fetch(`${base}/greeter/say-hello`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Ada' }) });
    expect([rpc.status, await rpc.json()]).toEqual([200, { greeting: 'Hello, Ada' }]);
    expect((await fetch(`${base}/about`, { method: 'POST' })).status).toBe(404);
    expect(jsonOf(await send(port, { path: '/legacyx' }))).toMatchObject({ id: 'tsmicro.gateway', code: 404, detail: 'no route for GET /legacyx' });
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });

  it('matches on methods, host, path prefix, header value or presence, and query over HTTP', async () => {
    const { port } = await gatewayWith([
      answer('by-method', { match: { path: '/m', methods: ['DELETE', 'PUT'] } }),
      answer('by-host', { match: { path: '/h', host: '*.admin.example' } }),
      answer('by-header-value', { match: { path: '/hd', headers: { 'x-tenant': 'acme' } } }),
      answer('by-header-presence', { match: { path: '/hp', headers: { authorization: true, 'x-debug': false } } }),
      answer('by-query', { match: { path: '/q', query: { v: '2', preview: true } } }),
    ]);
    const which = async (options: Parameters<typeof send>[1]) => {
      const response = await send(port, options);
      return response.status === 200 ? response.body.toString() : response.status;
    };
    expect(await which({ method: 'PUT', path: '/m' })).toBe('by-method');
    expect(await which({ method: 'GET', path: '/m' })).toBe(404);
    expect(await which({ path: '/h/x', headers: { host: 'eu.admin.example:8080' } })).toBe('by-host');
    expect(await which({ path: '/h/x', headers: { host: 'admin.example' } })).toBe(404);
    expect(await which({ path: '/hd', headers: { 'x-tenant': 'acme' } })).toBe('by-header-value');
    expect(await which({ path: '/hd', headers: { 'x-tenant': 'other' } })).toBe(404);
    expect(await which({ path: '/hp', headers: { authorization: 'Bearer t' } })).toBe('by-header-presence');
    expect(await which({ path: '/hp', headers: { authorization: 'Bearer t', 'x-debug': '1' } })).toBe(404);
    expect(await which({ path: '/q?preview&v=2' })).toBe('by-query');
    expect(await which({ path: '/q?v=2' })).toBe(404);
  });

  it('lets the highest priority win and splits equal priorities by weight (1000 requests)', async () => {
    const { base } = await gatewayWith([
      answer('fallback', { priority: 0 }),
      answer('stable', { priority: 10, weight: 3, match: { path: '/shop' } }),
      answer('canary', { priority: 10, weight: 1, match: { path: '/shop' } }),
      answer('drained', { priority: 20, weight: 0, match: { path: '/shop' } }),
    ]);
    const counts: Record<string, number> = {};
    const one = async () => {
      const name = await (await fetch(`${base}/shop/items`)).text();
      counts[name] = (counts[name] ?? 0) + 1;
    };
    for (let batch = 0; batch < 50; batch++) await Promise.all(Array.from({ length: 20 }, one));
    // Expected 750/250; ±100 is more than 7 standard deviations (√(1000·¾·¼) ≈ 13.7).
    expect(Object.keys(counts).sort()).toEqual(['canary', 'stable']);
    expect(counts.stable).toBeGreaterThan(650);
    expect(counts.stable).toBeLessThan(850);
    expect(counts.stable! + counts.canary!).toBe(1000);
    expect(await (await fetch(`${base}/elsewhere`)).text()).toBe('fallback');
  });
});
