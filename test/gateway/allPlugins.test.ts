import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createGateway } from '../../src/gateway/createGateway.js';
import type { Gateway } from '../../src/gateway/Gateway.js';
import { RoutesDirectory, startUpstream, type Upstream } from '../../modules/gateway-router/testSupport.js';
import { DaemonDouble } from '../../modules/shared/xray/testSupport.js';
import { TestApps } from '../helpers/apps.js';
import { Greeter } from './fixtures.js';

/**
 * The three gateway plugins together, in front of a service on the zero-dependency defaults (file registry, TCP,
 * direct broker): X-Ray traces every request, including the ones the whitelist refuses and the router answers.
 */
describe('gateway with router, AWS X-Ray and IP whitelist together, on the defaults', () => {
  const apps = new TestApps();
  const routes = new RoutesDirectory();
  const registry = mkdtempSync(join(tmpdir(), 'tsmicro-all-plugins-'));
  let upstream: Upstream;
  let daemon: DaemonDouble;
  let gateway: Gateway;
  let base: string;
  const defaults = { registry: { address: registry } };

  beforeAll(async () => {
    upstream = await startUpstream((_request, response) => response.end('legacy says hi'));
    daemon = await DaemonDouble.start();
    const file = routes.write('routes.json', {
      routes: [
        { name: 'legacy', match: { path: '/legacy' }, proxy: upstream.url },
        { name: 'maintenance', match: { path: '/old-api' }, response: { status: 410, body: 'gone' } },
      ],
    });
    await apps.started({ services: [Greeter], memory: false, config: defaults });
    const app = await apps.started({
      memory: false,
      config: {
        ...defaults,
        gateway: {
          address: '127.0.0.1:0',
          plugins: ['xray', 'ipwhitelist', 'router'],
          xray: { daemonAddress: daemon.address, samplingRate: 1 },
          ipwhitelist: { allow: ['198.51.100.0/24'], trustedProxies: ['127.0.0.1'] },
          router: { file },
        },
      },
    });
    gateway = createGateway(app);
    await gateway.start();
    base = `http://${gateway.address}`;
  });
  afterAll(async () => {
    await gateway?.stop();
    await apps.stopAll();
    await upstream.close();
    await daemon.close();
    routes.remove();
    rmSync(registry, { recursive: true, force: true });
  });

  const allowed = { 'x-forwarded-for': '198.51.100.7' };

  it('routes, proxies, answers, refuses and calls, and traces each request', async () => {
    const proxied = await fetch(`${base}/legacy/path`, { headers: allowed });
    expect([proxied.status, await proxied.text()]).toEqual([200, 'legacy says hi']);
    const fixed = await fetch(`${base}/old-api`, { headers: allowed });
    expect([fixed.status, await fixed.text()]).toEqual([410, 'gone']);
    const call = await fetch(`${base}/greeter/say-hello`, { method: 'POST', headers: { 'content-type': 'application/json', ...allowed }, body: '{"name":"Ada"}' });
    expect(await call.json()).toEqual({ greeting: 'Hello, Ada' });
    expect(call.headers.get('x-amzn-trace-id')).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$/);
    const refused = await fetch(`${base}/greeter/say-hello`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9' }, body: '{}' });
    expect(refused.status).toBe(403);

    const segments = await daemon.waitForCount(4);
    const byPath = Object.fromEntries(segments.map((segment) => [String(segment.http?.request?.url).replace(base, ''), segment]));
    expect(byPath['/legacy/path']?.http?.response?.status).toBe(200);
    expect(byPath['/old-api']).toMatchObject({ error: true, http: { response: { status: 410 } } });
    expect(byPath['/greeter/say-hello']).toBeDefined();
    const statuses = segments.map((segment) => segment.http?.response?.status).sort();
    expect(statuses).toEqual([200, 200, 403, 410]);
    // The whitelist judged the client by the forwarded address it trusts, and X-Ray recorded it.
    expect(segments.find((segment) => segment.http?.response?.status === 403)!.http!.request!.client_ip).toBe('203.0.113.9');
    expect(daemon.protocolErrors).toEqual([]);
  }, 30_000);
});
