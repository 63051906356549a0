import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Headers, MicroError, Tokens, type App, type Listener, type ServiceEntry } from '../../src/index.js';
import { TestApps } from '../helpers/apps.js';
import { calls, resetCalls, Shop } from './fixtures.js';

type Behaviour = 'draining' | 'dropping';

/**
 * Joins a fake node to the shop service: it answers like a draining server (503, not handled) or drops the
 * connection as soon as a request arrives (the request may have run). Returns how many requests it saw.
 */
async function fakeNode(app: App, behaviour: Behaviour): Promise<{ seen: () => number; listener: Listener }> {
  const transport = app.get(Tokens.Transport);
  const registry = app.get(Tokens.Registry);
  const listener = await transport.listen('127.0.0.1:0');
  let seen = 0;
  listener.accept((socket) => {
    socket.receive({
      message: (message) => {
        seen++;
        if (behaviour === 'dropping') return void socket.close();
        const error = MicroError.unavailable('shop', 'shutting down');
        socket.send({ headers: { [Headers.id]: message.headers[Headers.id]!, [Headers.error]: error.toWire(), [Headers.unhandled]: 'true' }, body: new Uint8Array(0) });
      },
      close: () => undefined,
    });
  });
  const [real] = await registry.getService('shop');
  const fake: ServiceEntry = { ...real!, nodes: [{ id: `shop-fake-${behaviour}`, address: listener.address, metadata: {} }] };
  await registry.register(fake);
  return { seen: () => seen, listener };
}

async function deadNode(app: App): Promise<void> {
  const registry = app.get(Tokens.Registry);
  const [real] = await registry.getService('shop');
  await registry.register({ ...real!, nodes: [{ id: 'shop-dead', address: 'memory:gone', metadata: {} }] });
}

describe('retries, timeouts and deadlines', () => {
  const apps = new TestApps();
  let client: App;
  beforeEach(async () => {
    resetCalls();
    // A short drain keeps the slow-handler tests from waiting out their handlers at teardown.
    await apps.started({ services: [Shop], config: { server: { drainTimeout: 200 } } });
    client = await apps.started({ config: { selector: { strategy: 'roundrobin' }, client: { backoffInitial: 1, backoffMax: 5 } } });
  });
  afterEach(() => apps.stopAll());

  const place = (options: { retries?: number } = {}) => client.client.call('shop', 'Shop.place', { item: 'tea', quantity: 1 }, options);
  const outcomes = async (count: number, call: () => Promise<unknown>): Promise<{ ok: number; failed: MicroError[] }> => {
    let ok = 0;
    const failed: MicroError[] = [];
    for (let i = 0; i < count; i++) {
      await call().then(
        () => ok++,
        (error: MicroError) => failed.push(error),
      );
    }
    return { ok, failed };
  };

  it('retries a node that cannot be reached on another node', async () => {
    await deadNode(client);
    expect(await outcomes(10, () => place())).toEqual({ ok: 10, failed: [] });
  });

  it('without retries, an unreachable node fails the call with 503', async () => {
    await deadNode(client);
    const { failed } = await outcomes(10, () => place({ retries: 0 }));
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]!.code).toBe(503);
    expect(failed[0]!.detail).toMatch(/nothing listens on memory:gone/);
  });

  it('retries a request a draining server refused, since it never ran', async () => {
    const fake = await fakeNode(client, 'draining');
    expect(await outcomes(10, () => place())).toEqual({ ok: 10, failed: [] });
    expect(fake.seen()).toBeGreaterThan(0);
  });

  it('retries a request whose connection dropped only when the endpoint is idempotent', async () => {
    const fake = await fakeNode(client, 'dropping');
    // A node that failed is avoided for a while; forgetting that makes every call a fresh coin toss.
    const selector = client.get(Tokens.Selector);
    const unsafe = await outcomes(10, () => (selector.reset('shop'), client.client.call('shop', 'Shop.unsafe', { ms: 0 })));
    expect(unsafe.failed.length).toBeGreaterThan(0);
    expect(unsafe.failed.every((error) => error.code === 502)).toBe(true);
    expect(unsafe.failed[0]!.detail).toMatch(/lost before the reply/);
    const seenBefore = fake.seen();
    const safe = await outcomes(10, () => (selector.reset('shop'), client.client.call('shop', 'Shop.safe', { ms: 0 })));
    expect(safe).toEqual({ ok: 10, failed: [] });
    expect(fake.seen()).toBeGreaterThan(seenBefore);
  });

  it('does not retry handler errors', async () => {
    await expect(client.client.call('shop', 'Shop.fail', {}, { retries: 5 })).rejects.toMatchObject({ code: 500 });
    expect(calls.total).toBe(1);
  });

  it('times out with 408 naming the call', async () => {
    const started = Date.now();
    const error = await client.client.call('shop', 'Shop.slow', { ms: 1000 }, { timeoutMs: 100 }).catch((caught: MicroError) => caught);
    expect(MicroError.is(error) && error.code).toBe(408);
    expect((error as MicroError).detail).toMatch(/^call to shop Shop.slow at .* timed out after \d+ ms$/);
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('carries the deadline to the server', async () => {
    const reply = await client.client.call<{ remainingAtStart: number }>('shop', 'Shop.slow', { ms: 0 }, { timeoutMs: 2000 });
    expect(reply.remainingAtStart).toBeLessThanOrEqual(2000);
    expect(reply.remainingAtStart).toBeGreaterThan(1000);
  });

  it('a retry never outlives the deadline', async () => {
    await fakeNode(client, 'draining');
    await deadNode(client);
    const started = Date.now();
    await client.client.call('shop', 'Shop.slow', { ms: 5000 }, { timeoutMs: 300, retries: 10 }).catch(() => undefined);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
