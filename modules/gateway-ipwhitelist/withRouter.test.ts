import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApps } from '../../test/helpers/apps.js';
import { Greeter } from '../../test/gateway/fixtures.js';
import { RoutesDirectory, startGateway, startUpstream, type StartedGateway, type Upstream } from '../gateway-router/testSupport.js';

describe('ipwhitelist and router together, with the gateway routes', () => {
  const apps = new TestApps();
  const directory = new RoutesDirectory();
  let shop: Upstream;
  let file: string;
  let started: StartedGateway | undefined;

  beforeAll(async () => {
    shop = await startUpstream((_request, response) => response.end('from the shop upstream'));
    file = directory.write('routes.yaml', { routes: [{ name: 'shop', match: { path: '/shop' }, proxy: shop.url }] });
  });
  afterEach(async () => {
    await started?.gateway.stop();
    started = undefined;
    await apps.stopAll();
    shop.requests.length = 0;
  });
  afterAll(async () => {
    await shop.close();
    directory.remove();
  });

  async function gatewayWith(plugins: string[]): Promise<string> {
    await apps.started({ services: [Greeter] });
    started = await startGateway(apps, { plugins, router: { file }, ipwhitelist: { allow: ['203.0.113.0/24'], trustedProxies: ['127.0.0.1'] } });
    return started.base;
  }
  const get = async (url: string, headers: Record<string, string> = {}) => {
    const response = await fetch(url, { headers });
    return [response.status, await response.text()];
  };
  const hello = async (url: string, headers: Record<string, string> = {}) =>
    (await fetch(`${url}/greeter/say-hello`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"name":"Ada"}' })).status;

  it('whitelist listed first: it guards routed paths and the gateway routes alike', async () => {
    const base = await gatewayWith(['ipwhitelist', 'router']);
    const denied = await get(`${base}/shop/items`);
    expect(denied[0]).toBe(403);
    expect(JSON.parse(denied[1] as string)).toMatchObject({ id: 'tsmicro.gateway.ipwhitelist', detail: 'address 127.0.0.1 is not allowed to use this gateway' });
    expect(await hello(base)).toBe(403);
    expect(shop.requests).toEqual([]);

    const client = { 'x-forwarded-for': '203.0.113.5' };
    expect(await get(`${base}/shop/items`, client)).toEqual([200, 'from the shop upstream']);
    // The router extends the chain with the peer it saw, as every proxy does.
    expect(shop.requests[0]!.headers['x-forwarded-for']).toBe('203.0.113.5, 127.0.0.1');
    expect(await hello(base, client)).toBe(200);
    expect(await get(`${base}/nowhere`, client)).toEqual([404, expect.stringContaining('no route for GET /nowhere')]);
  });

  it('router listed first: requests it answers never reach the whitelist (why the README says to list the whitelist first)', async () => {
    const base = await gatewayWith(['router', 'ipwhitelist']);
    expect(await get(`${base}/shop/items`)).toEqual([200, 'from the shop upstream']);
    expect(await hello(base)).toBe(403);
  });
});
