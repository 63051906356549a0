import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TestApps } from '../../test/helpers/apps.js';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { eventually } from '../../test/helpers/eventually.js';
import { closedPort, closeServer, RoutesDirectory, send, startGateway, startUpstream, type StartedGateway, type Upstream } from './testSupport.js';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('router plugin: proxying to upstreams', () => {
  const apps = new TestApps();
  const directory = new RoutesDirectory();
  const upstreams: Upstream[] = [];
  const logger = captureLogger();
  let started: StartedGateway | undefined;

  afterEach(async () => {
    await started?.gateway.stop();
    started = undefined;
    await Promise.all(upstreams.splice(0).map((upstream) => upstream.close()));
    await apps.stopAll();
    logger.lines.length = 0;
  });
  afterAll(() => directory.remove());

  async function gatewayWith(routes: object[]): Promise<StartedGateway> {
    const file = directory.write('routes.json', { routes });
    started = await startGateway(apps, { plugins: ['router'], router: { file } }, logger);
    return started;
  }

  async function upstream(handle: (request: IncomingMessage, response: ServerResponse) => void): Promise<Upstream> {
    const started = await startUpstream(handle);
    upstreams.push(started);
    return started;
  }

  it('forwards path, query and headers (hop-by-hop ones dropped, X-Forwarded-* set) and returns the upstream answer', async () => {
    const orders = await upstream((_request, response) => {
      response.writeHead(201, { 'set-cookie': ['a=1', 'b=2'], 'x-upstream': 'yes', connection: 'x-upstream-private', 'x-upstream-private': '1', 'keep-alive': 'timeout=42' });
      response.end('created');
    });
    const { port } = await gatewayWith([
      { name: 'orders', match: { path: '/api' }, proxy: { url: `${orders.url}/v1`, stripPrefix: true, headers: { 'x-gateway': 'tsmicro' } } },
      { name: 'keep-host', match: { path: '/keep' }, proxy: { url: orders.url, preserveHost: true } },
    ]);
    const client = { host: 'shop.example:8080', 'x-forwarded-for': '203.0.113.9', 'x-forwarded-host': 'forged.example', 'x-forwarded-proto': 'https', connection: 'x-private', 'x-private': 'secret', 'x-tenant': 'acme' };
    const response = await send(port, { path: '/api/orders/7?full=1&tag=a%20b', headers: client });
    expect(orders.requests[0]).toMatchObject({ method: 'GET', url: '/v1/orders/7?full=1&tag=a%20b' });
    const seen = orders.requests[0]!.headers;
    expect(seen).toMatchObject({ host: `127.0.0.1:${orders.port}`, 'x-forwarded-for': '203.0.113.9, 127.0.0.1', 'x-forwarded-host': 'shop.example:8080', 'x-forwarded-proto': 'http', 'x-tenant': 'acme', 'x-gateway': 'tsmicro' });
    expect(seen).not.toHaveProperty('x-private');
    expect([response.status, response.body.toString(), response.headers['set-cookie'], response.headers['x-upstream']]).toEqual([201, 'created', ['a=1', 'b=2'], 'yes']);
    expect(response.headers).not.toHaveProperty('x-upstream-private');
    expect(response.headers['keep-alive']).not.toBe('timeout=42');
    const head = await send(port, { method: 'HEAD', path: '/api/orders/7' });
    expect([head.status, head.body.length, orders.requests[1]!.method]).toEqual([201, 0, 'HEAD']);
    await send(port, { method: 'POST', path: '/keep/x', headers: { host: 'shop.example:8080' }, body: 'hi' });
    expect(orders.requests[2]).toMatchObject({ method: 'POST', url: '/keep/x', headers: { host: 'shop.example:8080', 'content-length': '2' } });
  });

  it('streams bodies both ways: the echo of the first chunk arrives before the rest is sent, and large bodies arrive whole', async () => {
    const echo = await upstream((request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      request.pipe(response);
    });
    const download = randomBytes(12 * 1024 * 1024);
    const files = await upstream((_request, response) => response.end(download));
    const { port, base } = await gatewayWith([
      { name: 'echo', match: { path: '/echo' }, proxy: echo.url },
      { name: 'download', match: { path: '/download' }, proxy: files.url },
    ]);
    const upload = randomBytes(8 * 1024 * 1024); // 8 MiB, far over gateway.bodyLimit (1 MiB), which routed requests bypass
    const echoed = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const outgoing = request({ host: '127.0.0.1', port, method: 'POST', path: '/echo', headers: { 'transfer-encoding': 'chunked' } }, (response) => {
        response.on('data', (chunk: Buffer) => {
          // Only once the first chunk came back is the rest sent: a gateway that buffered either way would hang here.
          if (chunks.length === 0) outgoing.end(upload.subarray(64 * 1024));
          chunks.push(chunk);
        });
        response.on('end', () => resolve(Buffer.concat(chunks)));
      });
      outgoing.on('error', reject);
      outgoing.write(upload.subarray(0, 64 * 1024));
    });
    expect([echoed.length, sha256(echoed)]).toEqual([upload.length, sha256(upload)]);
    const fetched = Buffer.from(await (await fetch(`${base}/download`)).arrayBuffer());
    expect([fetched.length, sha256(fetched)]).toEqual([download.length, sha256(download)]);
    // 20 MiB through two hops: about 0.4 s alone, over 5 s on a 2-core machine busy with other suites.
  }, 30_000);

  it('answers 502 with a wire error when the upstream cannot be reached, 504 when it stays silent, and keeps serving', async () => {
    const silent = await upstream(() => {});
    const { base } = await gatewayWith([
      { name: 'down', match: { path: '/down' }, proxy: `http://127.0.0.1:${await closedPort()}` },
      { name: 'slow', match: { path: '/slow' }, proxy: { url: silent.url, timeout: '300ms' } },
      { name: 'ok', match: { path: '/ok' }, response: { body: 'fine' } },
    ]);
    const down = await fetch(`${base}/down/x`, { method: 'POST', body: 'x'.repeat(300_000) });
    expect([down.status, await down.json()]).toEqual([502, { id: 'tsmicro.gateway.router', code: 502, detail: 'the upstream of routes[0] ("down") cannot be reached: ECONNREFUSED', status: 'Bad Gateway' }]);
    const slow = await fetch(`${base}/slow`);
    expect([slow.status, await slow.json()]).toEqual([504, { id: 'tsmicro.gateway.router', code: 504, detail: 'the upstream of routes[1] ("slow") did not answer within 300 ms', status: 'Gateway Timeout' }]);
    expect(await (await fetch(`${base}/ok`)).text()).toBe('fine');
    // The log says more than the client is told: which upstream, and the error.
    expect(logger.lines.filter((line) => line.level === 'warn').map((line) => [line.message, line.fields.route, line.fields.code])).toEqual([
      ['the upstream cannot be reached', 'routes[0] ("down")', 'ECONNREFUSED'],
      ['the upstream did not answer in time', 'routes[1] ("slow")', 'UPSTREAM_TIMEOUT'],
    ]);
  });

  it('cuts the client connection when the upstream dies mid-body, and cancels the upstream request when the client leaves', async () => {
    const dying = await upstream((_request, response) => {
      response.writeHead(200, { 'content-length': '1000' });
      response.write('x'.repeat(100));
      setImmediate(() => response.socket?.destroy());
    });
    let upstreamRequestClosed = false;
    const hanging = await upstream((request) => request.socket.once('close', () => (upstreamRequestClosed = true)));
    const { base } = await gatewayWith([
      { name: 'dying', match: { path: '/dying' }, proxy: dying.url },
      { name: 'hanging', match: { path: '/hanging' }, proxy: { url: hanging.url, timeout: 0 } },
    ]);
    const truncated = await fetch(`${base}/dying`);
    expect(truncated.status).toBe(200);
    await expect(truncated.arrayBuffer()).rejects.toThrow();
    const controller = new AbortController();
    const abandoned = fetch(`${base}/hanging`, { signal: controller.signal });
    await eventually(() => expect(hanging.requests).toHaveLength(1));
    controller.abort();
    await expect(abandoned).rejects.toThrow();
    await eventually(() => expect(upstreamRequestClosed).toBe(true));
  });

  it('forwards a chunked DELETE body chunked, never as a second request (the CL.TE smuggling of http-proxy deleteLength)', async () => {
    const bodies: string[] = [];
    const api = await upstream((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        bodies.push(body);
        response.end('ok');
      });
    });
    const { port } = await gatewayWith([{ name: 'api', proxy: api.url }]);
    const smuggled = 'GET /admin HTTP/1.1\r\nHost: x\r\n\r\n';
    const response = await send(port, { method: 'DELETE', path: '/item', headers: { 'transfer-encoding': 'chunked' }, body: smuggled });
    expect(response.status).toBe(200);
    await eventually(() => expect(bodies).toEqual([smuggled]));
    expect(api.requests.map((seen) => [seen.method, seen.url, seen.headers['transfer-encoding'], seen.headers['content-length']])).toEqual([['DELETE', '/item', 'chunked', undefined]]);
  });

  it('retries once on a new connection when a kept-alive upstream connection was closed under it', async () => {
    // Each connection answers one request, then drops the connection when the next one arrives on it.
    const api = await upstream((_request, response) => {
      const served = ((response.socket as unknown as { served?: number }).served ?? 0) + 1;
      (response.socket as unknown as { served: number }).served = served;
      if (served > 1) return void response.socket?.destroy();
      response.end('ok');
    });
    const { base } = await gatewayWith([{ name: 'api', proxy: api.url }]);
    for (let attempt = 0; attempt < 3; attempt++) expect([attempt, (await fetch(`${base}/x`)).status]).toEqual([attempt, 200]);
    expect(api.requests.length).toBe(5);
  });

  it('proxies to https upstreams, checking their certificate unless the rule says insecure', async () => {
    const fixtures = new URL('./fixtures/', import.meta.url);
    const tls = createHttpsServer({ key: readFileSync(new URL('selfSigned.key', fixtures)), cert: readFileSync(new URL('selfSigned.crt', fixtures)) }, (_request, response) => response.end('secure'));
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
    try {
      const { base } = await gatewayWith([
        { name: 'checked', match: { path: '/checked' }, proxy: url },
        { name: 'insecure', match: { path: '/insecure' }, proxy: { url, insecure: true } },
      ]);
      expect(await (await fetch(`${base}/insecure`)).text()).toBe('secure');
      const checked = await fetch(`${base}/checked`);
      expect([checked.status, ((await checked.json()) as { detail: string }).detail]).toEqual([502, 'the upstream of routes[0] ("checked") cannot be reached: DEPTH_ZERO_SELF_SIGNED_CERT']);
    } finally {
      await closeServer(tls);
    }
  });

  it('keeps an early upstream answer when the upstream then stops reading the body', async () => {
    const sockets: import('node:net').Socket[] = [];
    const strict = await upstream((request, response) => {
      sockets.push(request.socket);
      response.writeHead(413, { 'content-type': 'text/plain' });
      response.end('too big');
    });
    const { port, base } = await gatewayWith([{ name: 'strict', proxy: strict.url }]);
    const answered = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const outgoing = request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', headers: { 'transfer-encoding': 'chunked' } }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode!, body }));
        // The upstream hangs up while the gateway is still sending it the body: its answer stands all the same.
        sockets[0]!.destroy();
        outgoing.end(randomBytes(2 * 1024 * 1024));
      });
      outgoing.on('error', reject);
      outgoing.write(randomBytes(64 * 1024));
    });
    expect(answered).toEqual({ status: 413, body: 'too big' });
    expect(logger.lines.filter((line) => line.level === 'warn')).toEqual([]);
    expect((await fetch(`${base}/again`, { method: 'POST', body: 'small' })).status).toBe(413);
  });
});
