import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import * as amqplib from 'amqplib';
import { App, Headers, loadConfig, MicroError, Tokens, TransportError, type Message, type Socket } from '../../src/index.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import { TestApps } from '../../test/helpers/apps.js';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { eventually, uniqueName } from '../../test/helpers/eventually.js';
import { runTransportContract } from '../../test/contracts/transportContract.js';
import { requireServer } from '../../test/servers/testServers.js';
import { calls, resetCalls, Shop } from '../../test/unit/fixtures.js';
import { amqpUrls, redact, toAmqpUrl, withHeartbeat } from '../shared/amqp/addresses.js';
import { amqpLibrary } from '../shared/amqp/AmqpConnection.js';
import { queueForAddress, RabbitTransport, type RabbitTransportOptions } from './RabbitTransport.js';
import { CONTROL_CLOSE, DIRECT_REPLY_TO } from './wire.js';

const server = await requireServer('rabbitmq');
const library = amqpLibrary(amqplib);

/** A transport as the plugin's create() builds it, with test-friendly timings. */
function transport(overrides: Partial<RabbitTransportOptions> = {}): RabbitTransport {
  return new RabbitTransport(library, {
    urls: amqpUrls([server.address]),
    maxMessageSize: 1024 * 1024,
    dialTimeoutMs: 2000,
    connectTimeoutMs: 5000,
    queuePrefix: 'tsmicro.test.',
    peerCheckIntervalMs: 500,
    heartbeatSeconds: 10,
    reconnectInitialMs: 100,
    reconnectMaxMs: 1000,
    idleSocketMs: 60_000,
    logger: silentLogger,
    ...overrides,
  });
}

/** App config choosing this plugin purely by name, on the shared server. */
const rabbitConfig = { transport: { plugin: 'rabbitmq', address: server.address }, registry: 'memory', broker: 'memory' };

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

server.describe('transport-rabbitmq', () => {
  runTransportContract('rabbitmq', { create: () => transport(), deadAddress: uniqueName('tsmicro.test.nobody') });

  it('parses addresses and picks queue names', () => {
    expect(amqpUrls([])).toEqual(['amqp://guest:guest@127.0.0.1:5672']);
    expect(amqpUrls(['10.0.0.1:5673', ' rabbit ', 'amqps://u:p@h:5671/vh'])).toEqual(['amqp://guest:guest@10.0.0.1:5673', 'amqp://guest:guest@rabbit:5672', 'amqps://u:p@h:5671/vh']);
    expect(() => toAmqpUrl('http://x:1')).toThrow(/expected amqp/);
    expect(() => toAmqpUrl('a:b:c')).toThrow(/invalid RabbitMQ address/);
    expect(redact('amqp://user:secret@host:5672/v')).toBe('amqp://user:***@host:5672/v');
    expect(withHeartbeat('amqp://h:1/v?heartbeat=3', 10)).toBe('amqp://h:1/v?heartbeat=3');
    expect(withHeartbeat('amqp://h:1', 10)).toBe('amqp://h:1?heartbeat=10');
    expect(queueForAddress('127.0.0.1:0', 'p.')).toMatch(/^p\.[0-9a-f-]{36}$/);
    expect(queueForAddress('', 'p.')).toMatch(/^p\./);
    expect(queueForAddress('orders-rpc', 'p.')).toBe('orders-rpc');
  });

  describe('transport behaviour', () => {
    const opened: RabbitTransport[] = [];
    const open = (overrides: Partial<RabbitTransportOptions> = {}): RabbitTransport => {
      const created = transport(overrides);
      opened.push(created);
      return created;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((created) => created.close()));
    });

    /** A raw AMQP client, to put on the wire what a tsmicro client never would. */
    const raw = async () => {
      const connection = await amqplib.connect(amqpUrls([server.address])[0]!);
      connection.on('error', () => undefined);
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      const replies: amqplib.ConsumeMessage[] = [];
      await channel.consume(DIRECT_REPLY_TO, (message) => message && replies.push(message), { noAck: true });
      return { connection, channel, replies };
    };

    it('refuses a second server on a queue name already in use', async () => {
      const name = uniqueName('tsmicro.test.fixed');
      const first = await open().listen(name);
      expect(first.address).toBe(name);
      await expect(open().listen(name)).rejects.toMatchObject({ kind: 'listen', message: expect.stringMatching(/already listens/) });
    });

    it('fails to dial or listen with the right error kind when RabbitMQ cannot be reached', async () => {
      const unreachable = open({ urls: ['amqp://guest:guest@127.0.0.1:1'], connectTimeoutMs: 500 });
      await expect(unreachable.dial('anything', { timeoutMs: 500 })).rejects.toMatchObject({ kind: 'dial' });
      await expect(unreachable.listen('127.0.0.1:0')).rejects.toMatchObject({ kind: 'listen' });
    });

    it('answers a request sent after the server stopped listening as not delivered, so it can go elsewhere', async () => {
      const listener = await open().listen('127.0.0.1:0');
      listener.accept((socket) => socket.receive({ message: (message) => socket.send(message), close: () => undefined }));
      const socket = await open().dial(listener.address);
      const replies: Message[] = [];
      let closed: Error | undefined;
      socket.receive({ message: (message) => replies.push(message), close: (error) => (closed = error ?? new Error('closed')) });
      await listener.close();
      socket.send({ headers: { [Headers.id]: '7' }, body: Buffer.from('late') });
      await eventually(() => expect(replies).toHaveLength(1));
      expect(replies[0]!.headers[Headers.id]).toBe('7');
      expect(replies[0]!.headers[Headers.unhandled]).toBe('true');
      expect(JSON.parse(replies[0]!.headers[Headers.error]!)).toMatchObject({ code: 503 });
      expect(() => socket.send({ headers: {}, body: Buffer.from('again') })).toThrow(TransportError);
      await eventually(() => expect(closed).toBeDefined());
    });

    it('tells a client when its server died without saying goodbye', async () => {
      const serverSide = transport();
      const listener = await serverSide.listen('127.0.0.1:0');
      listener.accept((socket) => socket.receive({ message: () => undefined, close: () => undefined }));
      const socket: Socket = await open().dial(listener.address);
      let closed: Error | undefined;
      socket.receive({ message: () => undefined, close: (error) => (closed = error ?? new Error('closed without a reason')) });
      socket.send({ headers: { [Headers.id]: '1' }, body: Buffer.from('never answered') });
      await serverSide.close(); // the connection goes: the queue with it, and no close notice is sent
      await eventually(() => expect(closed?.message).toMatch(/nobody listens/), 5000);
    });

    it('declares its queue again when it is deleted under it, and tells the clients it lost', async () => {
      const listener = await open().listen('127.0.0.1:0');
      listener.accept((socket) => socket.receive({ message: (message) => socket.send(message), close: () => undefined }));
      const before = await open().dial(listener.address);
      let beforeClosed = false;
      before.receive({ message: () => undefined, close: () => (beforeClosed = true) });
      before.send({ headers: {}, body: Buffer.from('hello') });
      const { connection, channel } = await raw();
      try {
        await eventually(async () => expect((await channel.checkQueue(listener.address)).consumerCount).toBe(1));
        await channel.deleteQueue(listener.address);
      } finally {
        await connection.close();
      }
      await eventually(() => expect(beforeClosed).toBe(true));
      const after = await eventually(() => open().dial(listener.address), 5000, 100);
      const answers: Message[] = [];
      after.receive({ message: (message) => answers.push(message), close: () => undefined });
      after.send({ headers: {}, body: Buffer.from('again') });
      await eventually(() => expect(answers).toHaveLength(1));
    });

    it('closes accepted sockets that stay silent, so clients that died without a word do not pile up', async () => {
      const listener = await open({ idleSocketMs: 300 }).listen('127.0.0.1:0');
      const accepted: Socket[] = [];
      let serverClosed = 0;
      listener.accept((socket) => (accepted.push(socket), socket.receive({ message: () => undefined, close: () => serverClosed++ })));
      const socket = await open().dial(listener.address);
      let clientClosed = false;
      socket.receive({ message: () => undefined, close: () => (clientClosed = true) });
      socket.send({ headers: {}, body: Buffer.from('once') });
      await eventually(() => expect(accepted).toHaveLength(1));
      await eventually(() => expect([serverClosed, clientClosed]).toEqual([1, true]), 3000);
    });

    it('logs a socket handler that throws, and keeps the connection serving', async () => {
      const logger = captureLogger();
      const listener = await open({ logger }).listen('127.0.0.1:0');
      listener.accept((socket) =>
        socket.receive({
          message: (message) => {
            if (Buffer.from(message.body).toString() === 'boom') throw new Error('handler bug');
            socket.send(message);
          },
          close: () => undefined,
        }),
      );
      const socket = await open().dial(listener.address);
      const answers: Message[] = [];
      socket.receive({ message: (message) => answers.push(message), close: () => undefined });
      socket.send({ headers: {}, body: Buffer.from('boom') });
      socket.send({ headers: {}, body: Buffer.from('fine') });
      await eventually(() => expect(answers.map((answer) => Buffer.from(answer.body).toString())).toEqual(['fine']));
      expect(logger.lines).toEqual(expect.arrayContaining([expect.objectContaining({ level: 'error', fields: expect.objectContaining({ error: expect.stringMatching(/handler bug/) }) })]));
    });

    it('survives bad input on the wire: messages without reply address, odd headers, oversized bodies', async () => {
      const logger = captureLogger();
      const listener = await open({ logger, maxMessageSize: 64 * 1024 }).listen('127.0.0.1:0');
      const received: Message[] = [];
      listener.accept((socket) => socket.receive({ message: (message) => (received.push(message), socket.send({ headers: { ok: 'yes' }, body: message.body })), close: () => undefined }));
      const { connection, channel, replies } = await raw();
      try {
        channel.sendToQueue(listener.address, Buffer.from('no reply address'));
        channel.sendToQueue(listener.address, Buffer.from('odd headers'), { replyTo: DIRECT_REPLY_TO, correlationId: 'odd', headers: { n: 5, nested: { a: [1, 2] }, bin: Buffer.from('b'), flag: true } });
        channel.sendToQueue(listener.address, Buffer.alloc(70 * 1024), { replyTo: DIRECT_REPLY_TO, correlationId: 'big' });
        channel.sendToQueue(listener.address, Buffer.from('close me'), { replyTo: DIRECT_REPLY_TO, correlationId: 'odd', type: CONTROL_CLOSE });
        await eventually(() => expect(replies.map((reply) => reply.properties.correlationId).sort()).toEqual(['big', 'big', 'odd']));
        expect(received.map((message) => message.headers)).toEqual([{ n: '5', nested: '{"a":[1,2]}', bin: 'b', flag: 'true' }]);
        const tooBig = replies.find((reply) => reply.properties.correlationId === 'big' && reply.properties.type !== CONTROL_CLOSE)!;
        expect(JSON.parse(String(tooBig.properties.headers![Headers.error]))).toMatchObject({ code: 413 });
        expect(logger.lines.map((line) => line.message)).toEqual(expect.arrayContaining([expect.stringMatching(/without reply-to/), expect.stringMatching(/oversized/)]));
        // The listener still serves a well-formed client.
        const socket = await open().dial(listener.address);
        const answers: Message[] = [];
        socket.receive({ message: (message) => answers.push(message), close: () => undefined });
        socket.send({ headers: {}, body: Buffer.from('fine') });
        await eventually(() => expect(answers).toHaveLength(1));
      } finally {
        await connection.close();
      }
    });
  });

  describe('RPC end to end, chosen by config', () => {
    const apps = new TestApps();
    let client: App;
    let shop: App;
    beforeAll(() => resetCalls());
    beforeEach(async () => {
      shop = await apps.started({ services: [Shop], memory: false, config: rabbitConfig });
      client = await apps.started({ memory: false, config: rabbitConfig });
    });
    afterEach(() => apps.stopAll());
    afterAll(() => apps.stopAll());

    it('serves calls through RabbitMQ, many in flight at once', async () => {
      expect(client.get(Tokens.Transport).name).toBe('rabbitmq');
      const [node] = (await client.get(Tokens.Registry).getService('shop'))[0]!.nodes;
      expect(node!.address).toMatch(/^tsmicro\./);
      expect(node!.metadata.transport).toBe('rabbitmq');
      const replies = await Promise.all([...Array(200).keys()].map((i) => client.client.call<{ accepted: string }>('shop', 'Shop.place', { item: `item-${i}`, quantity: 1 }, { metadata: { 'x-n': String(i) } })));
      expect(replies.map((reply) => reply.accepted)).toEqual([...Array(200).keys()].map((i) => `item-${i}`));
      expect(await client.client.call('shop', 'Shop.place', { item: 'tea', quantity: 2 }, { metadata: { 'x-request-id': 'r1' } })).toEqual({ accepted: 'tea', quantity: 2, metadata: { 'x-request-id': 'r1' } });
    });

    it('carries errors, validation failures and timeouts', async () => {
      expect((await failure(client.client.call('shop', 'Shop.fail', {}))).toJSON()).toMatchObject({ id: 'shop', code: 500, detail: 'stock database is down' });
      expect((await failure(client.client.call('shop', 'Shop.conflict', {}))).code).toBe(409);
      expect((await failure(client.client.call('shop', 'Shop.place', { item: '', quantity: 0 }))).code).toBe(400);
      const before = calls.total;
      const timedOut = await failure(client.client.call('shop', 'Shop.slow', { ms: 2000 }, { timeoutMs: 300 }));
      expect(timedOut.code).toBe(408);
      expect(calls.total).toBe(before + 1);
      // The socket that timed out keeps working.
      expect(await client.client.call('shop', 'Shop.safe', { ms: 0 })).toBe('done');
    });

    it('turns a reply over the size limit into an error, and the socket keeps working', async () => {
      const big = await failure(client.client.call('shop', 'Shop.big', { bytes: 9 * 1024 * 1024 }));
      expect(big.code).toBe(500);
      expect(big.detail).toMatch(/too large for the transport/);
      expect(await client.client.call('shop', 'Shop.big', { bytes: 10 })).toBe('x'.repeat(10));
    });

    it('answers a request with a body that is not JSON with 400, and keeps serving', async () => {
      const [node] = (await client.get(Tokens.Registry).getService('shop'))[0]!.nodes;
      const connection = await amqplib.connect(amqpUrls([server.address])[0]!);
      try {
        const channel = await connection.createChannel();
        const replies: amqplib.ConsumeMessage[] = [];
        await channel.consume(DIRECT_REPLY_TO, (message) => message && replies.push(message), { noAck: true });
        const headers = { [Headers.id]: '1', [Headers.service]: 'shop', [Headers.endpoint]: 'Shop.place', [Headers.contentType]: 'application/json' };
        channel.sendToQueue(node!.address, Buffer.from('{not json'), { headers, replyTo: DIRECT_REPLY_TO, correlationId: 'raw' });
        await eventually(() => expect(replies).toHaveLength(1));
        expect(JSON.parse(String(replies[0]!.properties.headers![Headers.error]))).toMatchObject({ code: 400 });
      } finally {
        await connection.close();
      }
      expect(await client.client.call('shop', 'Shop.place', { item: 'after', quantity: 1 })).toMatchObject({ accepted: 'after' });
    });

    it('is chosen by environment variables, with its options', async () => {
      const env = { MICRO_TRANSPORT: 'rabbitmq', MICRO_TRANSPORT_ADDRESS: server.address, MICRO_REGISTRY: 'memory', MICRO_BROKER: 'memory', MICRO_TRANSPORT_RABBITMQ_QUEUE_PREFIX: 'envshop.', MICRO_TRANSPORT_RABBITMQ_HEARTBEAT: '5s' };
      const { plugins } = await loadConfig({ env, argv: [] });
      const chosen = plugins.find((plugin) => plugin.kind === 'transport')!;
      expect(chosen.origin).toBe('modules/transport-rabbitmq');
      expect(chosen.options).toEqual({ connectTimeout: 10_000, heartbeat: 5000, reconnectMaxDelay: 5000, queuePrefix: 'envshop.', peerCheckInterval: 5000 });
      const app = await apps.started({ services: [Shop], memory: false, sources: { env, argv: [] }, config: { service: { name: 'envshop' } } });
      expect(app.servers[0]!.address).toMatch(/^envshop\./);
      expect(await client.client.call('envshop', 'Shop.place', { item: 'env', quantity: 1 })).toMatchObject({ accepted: 'env' });
    });

    it('reports a malformed address at boot', async () => {
      await expect(App.create({ sources: { env: {}, argv: [] }, config: { transport: { plugin: 'rabbitmq', address: 'http://nope:1' } } })).rejects.toThrow(/invalid RabbitMQ address/);
    });
  });
});
