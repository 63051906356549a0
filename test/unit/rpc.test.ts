import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Headers, MicroError, MemoryTransport, Tokens, type App, type Message } from '../../src/index.js';
import { TestApps } from '../helpers/apps.js';
import { eventually } from '../helpers/eventually.js';
import { calls, resetCalls, Shop } from './fixtures.js';

describe('calls through the server', () => {
  const apps = new TestApps();
  let client: App;
  beforeEach(async () => {
    resetCalls();
    await apps.started({ services: [Shop] });
    client = await apps.started();
  });
  afterEach(() => apps.stopAll());

  const failure = (promise: Promise<unknown>): Promise<MicroError> =>
    promise.then(
      () => {
        throw new Error('expected the call to fail');
      },
      (error: unknown) => {
        if (!MicroError.is(error)) throw error;
        return error;
      },
    );

  it('returns the handler reply', async () => {
    const reply = await client.client.call('shop', 'Shop.place', { item: 'tea', quantity: 2 });
    expect(reply).toEqual({ accepted: 'tea', quantity: 2, metadata: {} });
  });

  it('rejects an invalid request with 400 without running the handler', async () => {
    const error = await failure(client.client.call('shop', 'Shop.place', { item: '', quantity: 0 }));
    expect(error.code).toBe(400);
    expect(error.violations!.map((violation) => violation.field)).toEqual(['item', 'quantity']);
    expect(calls.total).toBe(0);
  });

  it('names an unknown endpoint and lists the ones the service has', async () => {
    const error = await failure(client.client.call('shop', 'Shop.refund', {}));
    expect(error.code).toBe(404);
    expect(error.detail).toMatch(/^unknown endpoint "Shop.refund" of service "shop"; it has: .*Shop.place/);
  });

  it('names an unknown service', async () => {
    const error = await failure(client.client.call('warehouse', 'Stock.count', {}));
    expect(error.toJSON()).toEqual({ id: 'tsmicro.selector', code: 404, detail: 'service "warehouse" not found in the memory registry', status: 'Not Found' });
  });

  it('turns a thrown Error into a 500 with its message and no stack, and does not retry it', async () => {
    const error = await failure(client.client.call('shop', 'Shop.fail', {}, { retries: 3 }));
    expect(error.toJSON()).toEqual({ id: 'shop', code: 500, detail: 'stock database is down', status: 'Internal Server Error' });
    expect(calls.total).toBe(1);
  });

  it('passes a MicroError thrown by a handler through unchanged', async () => {
    const error = await failure(client.client.call('shop', 'Shop.conflict', {}));
    expect(error.toJSON()).toEqual({ id: 'shop', code: 409, detail: 'order already placed', status: 'Conflict' });
  });

  it('answers a reply that is too large for the transport with an error instead of silence', async () => {
    const error = await failure(client.client.call('shop', 'Shop.big', { bytes: 9 * 1024 * 1024 }));
    expect(error.code).toBe(500);
    expect(error.detail).toMatch(/too large/);
  });

  it('refuses a request too large to send, before sending it', async () => {
    const error = await failure(client.client.call('shop', 'Shop.place', { item: 'x'.repeat(9 * 1024 * 1024), quantity: 1 }));
    expect(error.code).toBe(413);
    expect(error.detail).toMatch(/transport limit/);
  });

  describe('raw requests', () => {
    /** Talks to the shop's node with hand-made messages, as a misbehaving client would. */
    async function raw(headers: Record<string, string | undefined>, body: Uint8Array): Promise<Message> {
      const transport = client.get(Tokens.Transport) as MemoryTransport;
      const [service] = await client.get(Tokens.Registry).getService('shop');
      const socket = await transport.dial(service!.nodes[0]!.address);
      const replies: Message[] = [];
      socket.receive({ message: (message) => replies.push(message), close: () => undefined });
      const all = Object.fromEntries(Object.entries({ [Headers.id]: '1', [Headers.service]: 'shop', ...headers }).filter(([, value]) => value !== undefined)) as Record<string, string>;
      socket.send({ headers: all, body });
      await eventually(() => expect(replies).toHaveLength(1));
      await socket.close();
      return replies[0]!;
    }

    it('a body that is not JSON gets a clear 400', async () => {
      const reply = await raw({ [Headers.endpoint]: 'Shop.place', [Headers.contentType]: 'application/json' }, Buffer.from('{"item": tea'));
      const error = JSON.parse(reply.headers[Headers.error]!);
      expect(error.code).toBe(400);
      expect(error.detail).toMatch(/^request body for Shop.place is not valid application\/json: body is not valid JSON/);
    });

    it('an unknown content type gets 415 naming the ones the server reads', async () => {
      const reply = await raw({ [Headers.endpoint]: 'Shop.place', [Headers.contentType]: 'text/csv' }, Buffer.from('a,b'));
      const error = JSON.parse(reply.headers[Headers.error]!);
      expect(error.code).toBe(415);
      expect(error.detail).toBe('unsupported content-type "text/csv"; shop reads application/json, application/msgpack');
    });

    it('a request without an id is refused', async () => {
      const reply = await raw({ [Headers.id]: undefined, [Headers.endpoint]: 'Shop.place' }, Buffer.from('{}'));
      expect(JSON.parse(reply.headers[Headers.error]!).detail).toBe('request has no micro-id header');
    });

    it('a request for another service is refused as a stale entry', async () => {
      const reply = await raw({ [Headers.service]: 'billing', [Headers.endpoint]: 'Bill.pay' }, Buffer.from('{}'));
      expect(JSON.parse(reply.headers[Headers.error]!).detail).toMatch(/serves "shop", not "billing"/);
    });
  });

  it('a reply its codec cannot read fails that call with 500 naming it, and the client keeps working', async () => {
    const transport = client.get(Tokens.Transport) as MemoryTransport;
    const listener = await transport.listen(':0');
    listener.accept((socket) =>
      socket.receive({
        // Answers every request in JSON's content type with a body that is not JSON.
        message: (request) => socket.send({ headers: { [Headers.id]: request.headers[Headers.id]!, [Headers.contentType]: 'application/json' }, body: Buffer.from('{"broken') }),
        close: () => undefined,
      }),
    );
    try {
      const error = await failure(client.client.call('liar', 'Liar.say', {}, { address: listener.address, retries: 2 }));
      expect(error.code).toBe(500);
      expect(error.detail).toMatch(/^reply from liar Liar\.say could not be decoded as application\/json: body is not valid JSON/);
      await expect(client.client.call('shop', 'Shop.place', { item: 'tea', quantity: 1 })).resolves.toMatchObject({ accepted: 'tea' });
    } finally {
      await listener.close();
    }
  });

  it('a MessagePack client calls a JSON server', async () => {
    const msgpackClient = await apps.started({ config: { codec: { plugin: 'msgpack' } } });
    const reply = await msgpackClient.client.call('shop', 'Shop.place', { item: 'coffee', quantity: 1 });
    expect(reply).toEqual({ accepted: 'coffee', quantity: 1, metadata: {} });
  });

  it('the built-in health endpoint answers on every node', async () => {
    const health = await client.client.call<{ status: string; service: string }>('shop', 'Debug.Health', {});
    expect(health).toMatchObject({ status: 'ok', service: 'shop', version: '1.0.0' });
  });
});
