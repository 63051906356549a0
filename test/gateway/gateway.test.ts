import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createGateway } from '../../src/gateway/createGateway.js';
import type { Gateway } from '../../src/gateway/Gateway.js';
import type { App } from '../../src/index.js';
import { TestApps } from '../helpers/apps.js';
import { captureLogger } from '../helpers/captureLogger.js';
import { eventually } from '../helpers/eventually.js';
import { calls, resetCalls, Shop } from '../unit/fixtures.js';
import { Greeter, Orders } from './fixtures.js';

/** The gateway in front of services on the zero-dependency defaults: file registry, TCP transport, direct broker. */
describe('API gateway', () => {
  const apps = new TestApps();
  const registry = mkdtempSync(join(tmpdir(), 'tsmicro-gateway-'));
  const defaults = { registry: { address: registry } };
  const logger = captureLogger();
  let gateway: Gateway | undefined;
  let base: string;

  async function startGateway(config: object = {}): Promise<void> {
    const app: App = await apps.started({ logger, memory: false, config: { ...defaults, gateway: { address: '127.0.0.1:0', ...config } } });
    gateway = createGateway(app);
    await gateway.start();
    base = `http://${gateway.address}`;
  }

  beforeEach(async () => {
    resetCalls();
    logger.lines.length = 0;
    await apps.started({ services: [Shop, Greeter, Orders], memory: false, config: defaults });
  });
  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
    await apps.stopAll();
  });
  afterAll(() => rmSync(registry, { recursive: true, force: true }));

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- replies are checked by shape in each test
  const json = async (response: Response): Promise<{ status: number; body: any }> => ({ status: response.status, body: response.status === 204 ? undefined : await response.json() });

  it('POST /rpc calls the service with the metadata given, and returns its reply', async () => {
    await startGateway();
    const reply = await json(await post('/rpc', { service: 'shop', endpoint: 'Shop.place', request: { item: 'tea', quantity: 2 }, metadata: { 'x-order': '7' } }));
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ accepted: 'tea', quantity: 2, metadata: { 'x-order': '7' } });
  });

  it('maps /<service>/<method> and /<service>/<Class>/<method> to endpoints, and applies the namespace', async () => {
    await startGateway();
    for (const path of ['/greeter/say-hello', '/greeter/sayHello', '/greeter/Greeter/sayHello', '/greeter/greeter/say-hello']) {
      expect({ path, ...(await json(await post(path, { name: 'Ada' }))) }).toEqual({ path, status: 200, body: { greeting: 'Hello, Ada' } });
    }
    await gateway!.stop();
    await startGateway({ namespace: 'api.' });
    expect(await json(await post('/orders/list', {}))).toEqual({ status: 200, body: { orders: ['o-1'] } });
    expect(await json(await post('/greeter/say-hello', { name: 'x' }))).toEqual({
      status: 404,
      body: { id: 'tsmicro.gateway', code: 404, detail: 'service "api.greeter" not found (from the path /greeter/say-hello, namespace "api.")', status: 'Not Found' },
    });
  });

  it('serves the HTTP routes endpoints declare, with path parameters and query strings', async () => {
    await startGateway();
    expect(await json(await fetch(`${base}/hello/Grace`))).toEqual({ status: 200, body: { greeting: 'Hi, Grace' } });
    expect(await json(await fetch(`${base}/hello/Grace?polite=yes`))).toEqual({ status: 200, body: { greeting: 'Good day, Grace' } });
    expect((await fetch(`${base}/hello/Grace`, { method: 'DELETE' })).status).toBe(404);
  });

  it('POST /event/<topic> publishes the body, with the request headers as metadata', async () => {
    await startGateway();
    const reply = await json(await post('/event/shop.restocked', { item: 'tea', quantity: 9 }, { 'x-request-id': 'r-42' }));
    expect(reply).toEqual({ status: 202, body: { published: 'shop.restocked' } });
    await eventually(() => expect(calls.events).toHaveLength(1));
    expect(calls.events[0]!.metadata['x-request-id']).toBe('r-42');
  });

  it('forwards request headers as metadata, but not hop-by-hop headers or cookies', async () => {
    await startGateway();
    const reply = await json(await post('/greeter/echo-metadata', {}, { authorization: 'Bearer t', 'x-tenant': 'acme', cookie: 'secret=1' }));
    expect(reply.body).toMatchObject({ authorization: 'Bearer t', 'x-tenant': 'acme' });
    expect(reply.body).not.toHaveProperty('cookie');
    expect(reply.body).not.toHaveProperty('host');
    expect(reply.body).not.toHaveProperty('content-length');
  });

  it('maps RPC errors to HTTP statuses with the wire error as JSON', async () => {
    await startGateway();
    const invalid = await json(await post('/shop/place', { item: '', quantity: 0 }));
    expect(invalid.status).toBe(400);
    expect(invalid.body.violations.map((violation: { field: string }) => violation.field)).toEqual(['item', 'quantity']);
    expect(await json(await post('/shop/fail', {}))).toEqual({ status: 500, body: { id: 'shop', code: 500, detail: 'stock database is down', status: 'Internal Server Error' } });
    expect((await json(await post('/shop/conflict', {}))).status).toBe(409);
    expect((await json(await post('/nobody/x', {}))).body.detail).toBe('service "nobody" not found (from the path /nobody/x)');
    expect((await json(await post('/shop/refund', {}))).body.detail).toMatch(/^service "shop" has no endpoint matching \/shop\/refund; it has: .*Shop.place/);
    expect((await json(await post('/rpc', { service: 'shop', endpoint: 'Shop.nope' }))).body.detail).toMatch(/unknown endpoint "Shop.nope"/);
    expect((await json(await fetch(`${base}/not/a/route/at/all`))).status).toBe(404);
  });

  it('refuses bad requests clearly: not JSON, not an object for /rpc, GET on /rpc, too large', async () => {
    await startGateway({ bodyLimit: 1024 });
    expect((await json(await post('/rpc', '{"service":'))).body.detail).toMatch(/^request body is not valid JSON: /);
    expect((await json(await post('/rpc', { endpoint: 'x' }))).body.detail).toMatch(/the body must be \{ "service"/);
    expect((await json(await fetch(`${base}/rpc`))).status).toBe(405);
    const big = await json(await post('/rpc', { service: 'shop', endpoint: 'Shop.place', request: { item: 'x'.repeat(5000), quantity: 1 } }));
    expect(big).toEqual({ status: 413, body: { id: 'tsmicro.gateway', code: 413, detail: expect.stringMatching(/over the limit of 1024 bytes \(gateway.bodyLimit\)/), status: 'Payload Too Large' } });
    const text = await json(await fetch(`${base}/rpc`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' }));
    expect(text.status).toBe(415);
    // The gateway kept serving through all of it.
    expect((await json(await post('/greeter/say-hello', { name: 'ok' }))).status).toBe(200);
  });

  it('answers 204 for a handler that returns nothing', async () => {
    await startGateway();
    expect((await post('/greeter/nothing', {})).status).toBe(204);
  });

  it('has a health endpoint and an access log', async () => {
    await startGateway();
    expect(await json(await fetch(`${base}/health`))).toEqual({ status: 200, body: { status: 'ok' } });
    await post('/greeter/say-hello', { name: 'log' });
    await eventually(() => expect(logger.lines.filter((line) => line.message === 'access').map((line) => [line.fields.method, line.fields.path, line.fields.status, line.fields.handledBy])).toEqual([
      ['GET', '/health', 200, 'health'],
      ['POST', '/greeter/say-hello', 200, 'endpoint'],
    ]), 2000);
  });

  it('answers CORS preflights and adds CORS headers when enabled', async () => {
    await startGateway({ cors: { enabled: true, origins: ['https://app.example'] } });
    const preflight = await fetch(`${base}/rpc`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-token' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type,x-token');
    const allowed = await post('/greeter/say-hello', { name: 'c' }, { origin: 'https://app.example' });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await post('/greeter/say-hello', { name: 'c' }, { origin: 'https://evil.example' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
