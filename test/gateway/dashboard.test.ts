import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createDashboard, dashboardMountPath } from '../../src/gateway/dashboard/createDashboard.js';
import { createWebGateway } from '../../src/gateway/dashboard/createWebGateway.js';
import type { Dashboard, DashboardOptions } from '../../src/gateway/dashboard/Dashboard.js';
import { locatePublicDirectory, publicDirectoryCandidates } from '../../src/gateway/dashboard/StaticAssets.js';
import { createGateway } from '../../src/gateway/createGateway.js';
import type { Gateway } from '../../src/gateway/Gateway.js';
import { gatewayMounts } from '../../src/gateway/mounts.js';
import { Tokens, type App, type ServiceEntry } from '../../src/index.js';
import { EventStreamClient } from '../e2e/support/eventStreamClient.js';
import { expectTraversalsRefused } from '../e2e/support/rawHttp.js';
import { TestApps } from '../helpers/apps.js';
import { eventually } from '../helpers/eventually.js';
import { Pricing, Shop } from '../unit/fixtures.js';
import { Greeter, Orders } from './fixtures.js';

const BROKER_ENTRY: ServiceEntry = { name: 'tsmicro.broker.shop.restocked', version: 'latest', metadata: {}, endpoints: [], nodes: [{ id: 'tsmicro.broker.shop.restocked-1', address: '127.0.0.1:1', metadata: {} }] };

// Generous for a loaded 2-core machine; eventually() gives each wait 5 s of its own within it.
jest.setTimeout(20_000);

describe('web dashboard', () => {
  const apps = new TestApps();
  const streams: EventStreamClient[] = [];
  let gateway: Gateway | undefined;
  let dashboard: Dashboard | undefined;
  let app: App;
  let base: string;

  type Build = (app: App) => { gateway: Gateway; dashboard?: Dashboard };
  /** The dashboard as `tsmicro api` mounts it. */
  const asApiMounts: Build = (app) => {
    const mounts = gatewayMounts(app);
    return { gateway: createGateway(app, mounts), dashboard: mounts[0] as Dashboard | undefined };
  };
  /** The dashboard at /dashboard with test options (event stream limits, page folder). */
  const withOptions =
    (options: Partial<DashboardOptions>): Build =>
    (app) => {
      const mounted = createDashboard(app, { path: '/dashboard', ...options });
      return { gateway: createGateway(app, [mounted]), dashboard: mounted };
    };

  async function startGateway(config: object = {}, build: Build = asApiMounts): Promise<void> {
    app = await apps.started({ config: { gateway: { address: '127.0.0.1:0', accessLog: false, ...config } } });
    ({ gateway, dashboard } = build(app));
    await gateway.start();
    base = `http://${gateway.address}`;
  }

  async function openStream(path = '/dashboard/api/events'): Promise<EventStreamClient> {
    const stream = await EventStreamClient.open(`${base}${path}`);
    streams.push(stream);
    return stream;
  }

  const ready = (stream: EventStreamClient) => eventually(() => expect(stream.events.map((event) => event.event)).toContain('ready'));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies are checked by shape in each test
  const getJson = async (path: string): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, body: await response.json() };
  };

  beforeEach(async () => {
    await apps.started({ services: [Shop, Greeter, Orders] });
  });
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    await gateway?.stop();
    gateway = undefined;
    await apps.stopAll();
  });

  describe('JSON API', () => {
    it('lists every service with its versions, nodes and endpoints, without the broker\'s entries', async () => {
      await startGateway();
      await app.get(Tokens.Registry).register(BROKER_ENTRY);
      const { status, body } = await getJson('/dashboard/api/services');
      expect(status).toBe(200);
      expect(body.services.map((service: { name: string }) => service.name)).toEqual(['api.orders', 'greeter', 'shop']);
      const shop = body.services[2];
      expect(shop.versions).toHaveLength(1);
      expect(shop.versions[0].version).toBe('1.0.0');
      expect(shop.versions[0].nodes).toEqual([{ id: expect.stringMatching(/^shop-/), address: expect.any(String), metadata: expect.any(Object) }]);
      const place = shop.versions[0].endpoints.find((endpoint: { name: string }) => endpoint.name === 'Shop.place');
      expect(place.request).toEqual({ name: expect.any(String), type: 'Order', values: [{ name: 'item', type: 'string' }, { name: 'quantity', type: 'number' }] });
      expect(place).toHaveProperty('response');
      expect(place).toHaveProperty('metadata');
    });

    it('shows one service by name, and answers 404 for unknown or hidden ones', async () => {
      await startGateway();
      await app.get(Tokens.Registry).register(BROKER_ENTRY);
      const greeter = await getJson('/dashboard/api/services/greeter');
      expect(greeter.status).toBe(200);
      expect(greeter.body.name).toBe('greeter');
      expect(greeter.body.versions[0].endpoints.map((endpoint: { name: string }) => endpoint.name)).toEqual(expect.arrayContaining(['Greeter.sayHello', 'Debug.Health']));
      expect((await getJson(`/dashboard/api/services/${encodeURIComponent('api.orders')}`)).body.name).toBe('api.orders');
      expect(await getJson('/dashboard/api/services/nobody')).toEqual({ status: 404, body: { id: 'tsmicro.dashboard', code: 404, detail: 'service "nobody" is not registered', status: 'Not Found' } });
      expect((await getJson(`/dashboard/api/services/${BROKER_ENTRY.name}`)).status).toBe(404);
      expect((await getJson('/dashboard/api/services/%E0%A4%A')).status).toBe(400);
      expect((await getJson('/dashboard/api/nothing')).status).toBe(404);
      const post = await fetch(`${base}/dashboard/api/services`, { method: 'POST' });
      expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    });

    it('tells the page which path calls go through, and that path calls endpoints with errors as JSON', async () => {
      await startGateway({ rpcPath: '/call' });
      expect(await getJson('/dashboard/api/config')).toEqual({ status: 200, body: { rpcPath: '/call' } });
      const call = (request: unknown) => fetch(`${base}/call`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ service: 'shop', endpoint: 'Shop.place', request }) });
      const reply = await call({ item: 'tea', quantity: 2 });
      expect(reply.status).toBe(200);
      expect(await reply.json()).toMatchObject({ accepted: 'tea', quantity: 2 });
      const invalid = await call({ item: '', quantity: 0 });
      expect(invalid.status).toBe(400);
      const error = (await invalid.json()) as { violations: { field: string; constraints: object }[] };
      expect(error).toMatchObject({ code: 400, status: 'Bad Request', detail: expect.stringMatching(/^invalid request to shop Shop.place/) });
      expect(error.violations.map((violation: { field: string; constraints: object }) => [violation.field, Object.keys(violation.constraints)])).toEqual([
        ['item', ['isNotEmpty']],
        ['quantity', ['min']],
      ]);
    });
  });

  describe('live events', () => {
    it('streams a change when a service starts and when it stops, never the broker\'s entries', async () => {
      await startGateway();
      const stream = await openStream();
      expect(stream.status).toBe(200);
      expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(stream.headers['cache-control']).toBe('no-cache, no-transform');
      await ready(stream);
      expect(stream.retries).toEqual([2000]);
      await app.get(Tokens.Registry).register(BROKER_ENTRY);
      const pricing = await apps.started({ services: [Pricing] });
      await eventually(() => expect(stream.changes()).toEqual([{ action: 'create', service: 'pricing', version: 'latest', nodes: [{ id: expect.stringMatching(/^pricing-/), address: expect.any(String) }] }]));
      await pricing.stop();
      await eventually(() => expect(stream.changes().map((change) => `${change.action} ${change.service}`)).toEqual(['create pricing', 'delete pricing']));
      // What a tab fetches after the event is already current.
      expect((await getJson('/dashboard/api/services')).body.services.map((service: { name: string }) => service.name)).not.toContain('pricing');
    });

    it('shares one registry watch between tabs and stops it when the last tab closes', async () => {
      await startGateway();
      const watchers = apps.world.registry.watchers;
      const before = watchers.size;
      const tabs = await Promise.all([openStream(), openStream(), openStream()]);
      await Promise.all(tabs.map(ready));
      expect(watchers.size).toBe(before + 1);
      expect(dashboard!.openStreams).toBe(3);
      tabs[0]!.close();
      await eventually(() => expect(dashboard!.openStreams).toBe(2));
      expect(watchers.size).toBe(before + 1);
      for (const tab of tabs) tab.close();
      await eventually(() => expect([dashboard!.openStreams, watchers.size]).toEqual([0, before]));
    });

    it('sends keep-alive comments, and refuses streams over the limit with 503', async () => {
      await startGateway({}, withOptions({ events: { keepAliveMs: 30, maxStreams: 2 } }));
      const [first] = await Promise.all([openStream(), openStream()]);
      await eventually(() => expect(first!.comments).toContain('keep-alive'));
      const refused = await openStream();
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('2');
      await eventually(() => expect(JSON.parse(refused.body).detail).toMatch(/too many open dashboard event streams \(2\)/));
    });

    it('drops a tab that stops reading once too much is queued for it, and keeps serving the others', async () => {
      await startGateway({}, withOptions({ events: { maxBufferedBytes: 64 * 1024 } }));
      const reading = await openStream();
      const { hostname, port } = new URL(base);
      const stalled = connect(Number(port), hostname, () => stalled.write('GET /dashboard/api/events HTTP/1.1\r\nhost: x\r\n\r\n'));
      stalled.pause();
      await eventually(() => expect(dashboard!.openStreams).toBe(2));
      const registry = app.get(Tokens.Registry);
      // Updates of one node with a long id, until the socket buffers are full and Node queues for the stalled tab.
      const id = `bulky-${'x'.repeat(16 * 1024)}`;
      for (let round = 0; round < 5000 && dashboard!.openStreams === 2; round++) {
        const node = { id, address: '127.0.0.1:1', metadata: { round: String(round) } };
        await registry.register({ name: 'bulky', version: '1', metadata: {}, endpoints: [], nodes: [node] });
        await new Promise((resolve) => setImmediate(resolve));
      }
      stalled.destroy();
      expect(dashboard!.openStreams).toBe(1);
      await eventually(() => expect(reading.changes().length).toBeGreaterThan(0));
      expect(reading.ended).toBe(false);
    });

    it('ends open streams when the gateway stops, so stopping does not wait for tabs', async () => {
      await startGateway();
      const stream = await openStream();
      await ready(stream);
      await gateway!.stop();
      gateway = undefined;
      await eventually(() => expect(stream.ended).toBe(true));
      expect(dashboard!.openStreams).toBe(0);
    });
  });

  describe('page files', () => {
    it('redirects to the trailing slash, and serves the page with its security headers', async () => {
      await startGateway();
      const redirect = await fetch(`${base}/dashboard?x=1`, { redirect: 'manual' });
      expect([redirect.status, redirect.headers.get('location')]).toEqual([302, '/dashboard/?x=1']);
      const page = await fetch(`${base}/dashboard/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/);
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      const html = await page.text();
      expect(html).toContain('<script type="module" src="js/main.js"></script>');
      expect(html).not.toMatch(/https?:\/\//);
    });

    it('serves every file the page loads, with its content type, ETag revalidation and HEAD', async () => {
      await startGateway();
      const types: Record<string, string> = { 'dashboard.css': 'text/css; charset=utf-8', 'favicon.svg': 'image/svg+xml', 'js/main.js': 'text/javascript; charset=utf-8' };
      for (const [file, type] of Object.entries(types)) {
        const response = await fetch(`${base}/dashboard/${file}`);
        expect([file, response.status, response.headers.get('content-type')]).toEqual([file, 200, type]);
      }
      // Every module main.js imports, directly or not, is served: a typo in an import would break the page.
      const seen = new Set<string>();
      const visit = async (file: string): Promise<void> => {
        if (seen.has(file)) return;
        seen.add(file);
        const response = await fetch(`${base}/dashboard/js/${file}`);
        expect([file, response.status]).toEqual([file, 200]);
        for (const [, imported] of (await response.text()).matchAll(/from '\.\/([\w.]+)'/g)) await visit(imported!);
      };
      await visit('main.js');
      expect(seen.size).toBeGreaterThan(5);
      const first = await fetch(`${base}/dashboard/dashboard.css`);
      const again = await fetch(`${base}/dashboard/dashboard.css`, { headers: { 'if-none-match': `"other", ${first.headers.get('etag')!}` } });
      expect(again.status).toBe(304);
      expect((await fetch(`${base}/dashboard/dashboard.css`, { headers: { 'if-none-match': '"other"' } })).status).toBe(200);
      const head = await fetch(`${base}/dashboard/`, { method: 'HEAD' });
      expect([head.status, await head.text()]).toEqual([200, '']);
      expect((await fetch(`${base}/dashboard/`, { method: 'DELETE' })).status).toBe(405);
      expect((await getJson('/dashboard/nothing.js')).body).toEqual({ id: 'tsmicro.dashboard', code: 404, detail: 'no such dashboard file', status: 'Not Found' });
    });

    it('refuses every attempt to read outside its folder', async () => {
      await startGateway();
      await expectTraversalsRefused(base, '/dashboard');
    });

    it('answers 500 for the page when its files are missing, and keeps its API working', async () => {
      await startGateway({}, withOptions({ publicDirectory: join(process.cwd(), 'no-such-folder') }));
      const page = await getJson('/dashboard/');
      expect([page.status, page.body.detail]).toEqual([500, expect.stringMatching(/page files are missing on the server .*its JSON API still works$/)]);
      expect(page.body.detail).not.toContain('no-such-folder');
      expect((await getJson('/dashboard/api/services')).status).toBe(200);
    });

    it('finds the page files from compiled code, which tsc does not copy into dist/', () => {
      const source = join(process.cwd(), 'src', 'gateway', 'dashboard');
      const locate = (moduleDirectory: string) => locatePublicDirectory(publicDirectoryCandidates(moduleDirectory));
      expect(locate(source)).toBe(join(source, 'public'));
      expect(locate(join(process.cwd(), 'dist', 'src', 'gateway', 'dashboard'))).toBe(join(source, 'public'));
      expect(locate('/nowhere/dist/src/gateway/dashboard')).toBeUndefined();
    });
  });

  describe('configuration', () => {
    it('is mounted at gateway.dashboardPath, and not at all when it is empty', async () => {
      await startGateway({ dashboardPath: '/ops/dash/' });
      expect((await fetch(`${base}/ops/dash/`)).status).toBe(200);
      expect((await getJson('/ops/dash/api/services')).body.services).toHaveLength(3);
      await gateway!.stop();
      await startGateway({ dashboardPath: '' });
      expect(dashboard).toBeUndefined();
      expect((await fetch(`${base}/dashboard/`)).status).toBe(404);
    });

    it('refuses a dashboardPath that would hide the gateway\'s own paths', () => {
      const paths = { rpcPath: '/rpc', eventPath: '/event' };
      expect(() => dashboardMountPath({ ...paths, dashboardPath: '/' })).toThrow(/gateway.dashboardPath "\/" would take every path of the gateway; .*tsmicro web/);
      expect(() => dashboardMountPath({ ...paths, dashboardPath: '/rpc' })).toThrow('gateway.dashboardPath "/rpc" would hide gateway.rpcPath "/rpc"; choose another path');
      expect(() => dashboardMountPath({ ...paths, dashboardPath: 'dashboard' })).toThrow(/must start with "\/"/);
      expect(dashboardMountPath({ ...paths, dashboardPath: '/ops/' })).toBe('/ops');
    });
  });

  describe('tsmicro web (the dashboard at the root)', () => {
    it('serves the page and its API at /, calls through rpcPath, and nothing else of the gateway', async () => {
      await startGateway({ cors: { enabled: true, origins: ['https://ops.example'] } }, (app) => createWebGateway(app));
      const preflight = await fetch(`${base}/api/services`, { method: 'OPTIONS', headers: { origin: 'https://ops.example', 'access-control-request-method': 'GET' } });
      expect([preflight.status, preflight.headers.get('access-control-allow-origin')]).toEqual([204, 'https://ops.example']);
      expect((await fetch(`${base}/`)).headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect((await getJson('/api/services')).body.services).toHaveLength(3);
      expect(await getJson('/health')).toEqual({ status: 200, body: { status: 'ok' } });
      const reply = await fetch(`${base}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"service":"greeter","endpoint":"Greeter.sayHello","request":{"name":"Web"}}' });
      expect(await reply.json()).toEqual({ greeting: 'Hello, Web' });
      // The gateway's other routes are not there: the dashboard answers (405: its files only take GET).
      for (const path of ['/greeter/say-hello', '/event/topic']) {
        const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' });
        expect([path, response.status, ((await response.json()) as { id: string }).id]).toEqual([path, 405, 'tsmicro.dashboard']);
      }
      const stream = await openStream('/api/events');
      await ready(stream);
      await expectTraversalsRefused(base, '');
    });
  });
});
